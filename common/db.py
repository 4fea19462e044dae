"""Running ORM work from async code without holding a connection across awaits.

Each call runs its whole unit of database work in a worker thread and returns the connection
(to the psycopg pool) before it comes back, so no connection is held while a request waits for
a signer (issue "Performance"). An unreachable database becomes 503 `storage_unavailable`.

Every unit also records whether the database was reachable (`database_observation()`), so that
`/health`, which answers from checks refreshed in the background, shows an outage (or the
recovery) that real traffic has seen at once.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar, cast

import psycopg
from django.db import InterfaceError, OperationalError, connection, models

from common import errors

logger = logging.getLogger(__name__)
T = TypeVar("T")

# (time.monotonic() when the unit of work started, whether the database answered it)
_observation: tuple[float, bool] | None = None


def database_observation() -> tuple[float, bool] | None:
    """The outcome of the most recent unit of database work that succeeded or failed to reach
    the database: when it started (`time.monotonic()`) and whether the database answered."""
    return _observation


def _observe(started: float, reachable: bool) -> None:
    global _observation
    if _observation is None or started >= _observation[0]:  # a slow older unit does not win
        _observation = (started, reachable)


def in_db_thread(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    started = time.monotonic()
    try:
        result = fn(*args, **kwargs)
        _observe(started, True)
        return result
    except (OperationalError, InterfaceError, psycopg.OperationalError, psycopg.InterfaceError) as exc:
        _observe(started, False)
        logger.error("database unavailable", extra={"exception": type(exc).__name__})
        raise errors.storage_unavailable() from None
    finally:
        if not connection.in_atomic_block:
            connection.close()


async def run_db(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run `fn(*args, **kwargs)` (sync ORM code) in a worker thread of the loop's default executor,
    in a copy of the caller's context (request id for the logs); see the module docstring.

    What `sync_to_async(thread_sensitive=False)` does, without its per-call set-up and context
    write-back (~60 µs of CPU per call, benchmarks/PROFILE.md): the units write no context
    variables the caller reads. A cancelled caller stops waiting; the unit itself runs to its
    end (commit or rollback) in its thread, as with `sync_to_async`."""
    context = contextvars.copy_context()
    call = functools.partial(in_db_thread, fn, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(None, context.run, call)


# The ORM code that `insert_statement` mirrors, with the SHA-256 of its source at the pinned Django
# (5.2.19); common/tests/test_db.py fails when an upgrade changes it.
GUARDED_SOURCES = {
    "django.db.models.sql.compiler.SQLInsertCompiler.prepare_value": (
        "2e49a07e78afaae1d9ebffe16d5356db05e4d38cf469d360a7e3e350985cb336"
    ),
    "django.db.models.fields.Field.get_db_prep_save": "b095edabbe2f53fc82a58797cc1bc78d703b7740cef74af06d82768a9fbffcec",
}


def insert_statement(model: type[models.Model], values: dict[str, Any]) -> tuple[str, list[Any]]:
    """One `INSERT` of `values` (field name → value) into `model`'s table, with the ORM's own
    value preparation (`Field.get_db_prep_save`, as `SQLInsertCompiler.prepare_value` does) but
    without its per-object machinery: the hot path's submission and UCI records as one statement
    (886 → 320 µs of CPU per write, benchmarks/PROFILE.md "Round 2"). No `pre_save` runs, so every
    value, timestamps included, is given. The ORM code this mirrors is in `GUARDED_SOURCES`."""
    quote = connection.ops.quote_name
    concrete = {field.name: field for field in model._meta.concrete_fields}
    fields = [concrete[name] for name in values]
    columns = ", ".join(quote(cast(str, field.column)) for field in fields)  # concrete fields have a column
    placeholders = ", ".join(["%s"] * len(fields))
    params = [field.get_db_prep_save(values[field.name], connection) for field in fields]
    return f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({placeholders})", params
