"""Running ORM work from async code without holding a connection across awaits.

Each call runs its whole unit of database work in a worker thread and returns the connection
(to the psycopg pool) before it comes back, so no connection is held while a request waits for
a signer (issue "Performance"). An unreachable database becomes 503 `storage_unavailable`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

import psycopg
from asgiref.sync import sync_to_async
from django.db import InterfaceError, OperationalError, connection

from common import errors

logger = logging.getLogger(__name__)
T = TypeVar("T")


def in_db_thread(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    try:
        return fn(*args, **kwargs)
    except (OperationalError, InterfaceError, psycopg.OperationalError, psycopg.InterfaceError) as exc:
        logger.error("database unavailable", extra={"exception": type(exc).__name__})
        raise errors.storage_unavailable() from None
    finally:
        if not connection.in_atomic_block:
            connection.close()


async def run_db(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run `fn(*args, **kwargs)` (sync ORM code) in a worker thread; see the module docstring."""
    return await sync_to_async(in_db_thread, thread_sensitive=False)(fn, *args, **kwargs)
