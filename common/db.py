"""Running ORM work from async code without holding a connection across awaits.

Each call runs its whole unit of database work in a worker thread and returns the connection
(to the psycopg pool) before it comes back, so no connection is held while a request waits for
a signer (issue "Performance"). An unreachable database becomes 503 `storage_unavailable`.

On PostgreSQL the hot path's statements do not hop to a thread: `run_statement` sends one on a
psycopg async connection from a pool of the running event loop (`async_pool`), with the
connection settings of Django's own (cursor class, adapters, time zone, role), so the server
receives the same values as through the ORM (issue 12, benchmarks/PROFILE.md "The submission
write without a thread hop"). The one write per request (the submission record with its UCIs)
goes through `run_inserts`, which commits the rows of the requests that finish at the same time
in one statement (group commit). The pools are closed by the ASGI lifespan at shutdown
(`async_pools_close`).

Every unit also records whether the database was reachable (`database_observation()`), so that
`/health`, which answers from checks refreshed in the background, shows an outage (or the
recovery) that real traffic has seen at once.
"""

from __future__ import annotations

import asyncio
import collections
import contextvars
import functools
import logging
import re
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar, cast

import psycopg
from django.conf import settings
from django.core.signals import setting_changed
from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connection, connections, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.dispatch import receiver
from psycopg.abc import Transformer as TransformerType
from psycopg.adapt import PyFormat, Transformer
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

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


def _unavailable(started: float, exc: BaseException) -> errors.ServiceError:
    _observe(started, False)
    logger.error("database unavailable", extra={"exception": type(exc).__name__})
    return errors.storage_unavailable()


def in_db_thread(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    started = time.monotonic()
    try:
        result = fn(*args, **kwargs)
        _observe(started, True)
        return result
    except (OperationalError, InterfaceError, psycopg.OperationalError, psycopg.InterfaceError) as exc:
        raise _unavailable(started, exc) from None
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


# --- One statement on a psycopg async connection (PostgreSQL only) -------------------------------

_pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncConnectionPool] = weakref.WeakKeyDictionary()


def async_statements_supported() -> bool:
    """Whether `run_statement` can be used: the database is PostgreSQL (SQLite, the embedded
    default, keeps every unit on `run_db`)."""
    return statement_wrapper().vendor == "postgresql"


@functools.cache
def statement_wrapper() -> BaseDatabaseWrapper:
    """A Django database wrapper of the default database for building statements (its vendor,
    quoting and value preparation), never connected; one per process, made afresh when the
    database or time-zone settings change (`_statement_wrapper_reset`). `connections[alias]` is
    per thread and, in the event loop, per asyncio task (asgiref's context-local storage): every
    request's task would build a wrapper of its own (~8 µs, and a reference cycle for the garbage
    collector, `benchmarks/inprocess.py --garbage`)."""
    return connections.create_connection(DEFAULT_DB_ALIAS)


@receiver(setting_changed)
def _statement_wrapper_reset(*, setting: str, **kwargs: Any) -> None:
    """As Django resets its own wrappers' time zone (`update_connections_time_zone`)."""
    if setting in {"DATABASES", "TIME_ZONE", "USE_TZ"}:
        statement_wrapper.cache_clear()


def _async_connection_kwargs() -> dict[str, Any]:
    """psycopg's connection arguments as Django builds them for its own connections (database,
    host, user, password, OPTIONS, the adapters of `USE_TZ`, no prepared statements), with the
    async counterpart of Django's cursor class: client-side binding unless `server_side_binding`."""
    wrapper = connections[DEFAULT_DB_ALIAS]
    kwargs = wrapper.get_connection_params()
    server_side = wrapper.settings_dict["OPTIONS"].get("server_side_binding") is True
    kwargs["cursor_factory"] = psycopg.AsyncCursor if server_side else psycopg.AsyncClientCursor
    kwargs["autocommit"] = True  # as Django's pool; a single statement is its own transaction
    return kwargs


async def _async_connection_configure(conn: psycopg.AsyncConnection[Any]) -> None:
    """What Django does to a new pooled connection (`_configure_connection`, `get_new_connection`):
    the session time zone, the role of `assume_role`, the isolation level of OPTIONS."""
    wrapper = connections[DEFAULT_DB_ALIAS]
    options: Mapping[str, Any] = wrapper.settings_dict["OPTIONS"]
    timezone_name = wrapper.timezone_name
    if timezone_name and conn.info.parameter_status("TimeZone") != timezone_name:
        await conn.execute(wrapper.ops.set_time_zone_sql(), [timezone_name])
    if role := options.get("assume_role"):
        await conn.execute("SET ROLE %s", [role])
    if "isolation_level" in options:
        await conn.set_isolation_level(psycopg.IsolationLevel(options["isolation_level"]))


async def async_pool() -> AsyncConnectionPool:
    """The pool of psycopg async connections of the running event loop (tests run a loop per
    test), opened on first use; at most `DATABASE_ASYNC_POOL_MAX_SIZE` connections, one kept
    open, `DATABASE_POOL_TIMEOUT` to wait for one."""
    loop = asyncio.get_running_loop()
    pool = _pools.get(loop)
    if pool is not None and not pool.closed:
        return pool
    enable_checks = connections[DEFAULT_DB_ALIAS].settings_dict["CONN_HEALTH_CHECKS"]
    pool = AsyncConnectionPool(
        kwargs=_async_connection_kwargs(),
        min_size=1,
        max_size=max(1, settings.DATABASE_ASYNC_POOL_MAX_SIZE),
        timeout=settings.DATABASE_POOL["timeout"],
        open=False,
        configure=_async_connection_configure,
        check=AsyncConnectionPool.check_connection if enable_checks else None,
        name="coronacheck-async",
    )
    await pool.open(wait=False)
    current = _pools.get(loop)
    if current is not None and not current.closed:  # another task of this loop was first
        await pool.close()
        return current
    _pools[loop] = pool
    return pool


async def async_pools_close() -> None:
    """Close the pool of the running loop (ASGI lifespan shutdown, test teardown), once the rows
    waiting for `run_inserts` are written and the callers of `run_keyed` answered."""
    queue = _insert_queues.pop(asyncio.get_running_loop(), None)
    if queue is not None and queue.writer is not None and not queue.writer.done():
        await queue.writer
    for keyed in _keyed_queues.pop(asyncio.get_running_loop(), {}).values():
        if keyed.leader is not None:
            await keyed.leader  # the caller running its own statement; it starts the runner for the rest
        if keyed.runner is not None and not keyed.runner.done():
            await keyed.runner
    pool = _pools.pop(asyncio.get_running_loop(), None)
    if pool is not None:
        await pool.close()


def async_pool_stats() -> list[dict[str, int]]:
    """`get_stats()` of every open async pool of this process (the pool gauge of /metrics)."""
    return [pool.get_stats() for pool in list(_pools.values()) if not pool.closed]


async def run_statement(sql: str, params: Sequence[Any], *, fetch_one: bool = False) -> tuple[Any, ...] | None:
    """Execute one statement (PostgreSQL; see `async_statements_supported`) on a connection of
    `async_pool()`, in autocommit: atomic on its own; with `fetch_one`, return its first row (or
    None). The unit is observed like `run_db`'s, and an unreachable database becomes 503
    `storage_unavailable` after `DATABASE_POOL_TIMEOUT`."""
    return await _statement_run(lambda cursor: (sql, params), fetch_one=fetch_one)


StatementBuild = Callable[[psycopg.AsyncCursor[Any]], tuple[str | bytes, Sequence[Any] | None]]


async def _statement_run(build: StatementBuild, *, fetch_one: bool = False, fetch_all: bool = False) -> Any:
    """`run_statement` for a statement that `build` makes with the cursor it will run on; with
    `fetch_all`, its rows."""
    started = time.monotonic()
    row: Any = None
    try:
        pool = await async_pool()
        async with pool.connection() as conn:
            cursor = conn.cursor()
            await cursor.execute(*build(cursor))
            if fetch_one:
                row = await cursor.fetchone()
            elif fetch_all:
                row = await cursor.fetchall()
    except (psycopg.OperationalError, psycopg.InterfaceError) as exc:  # PoolTimeout is one
        raise _unavailable(started, exc) from None
    _observe(started, True)
    return row


# --- Statements by key, shared by the callers that ask at the same time ----------------------------

# At most this many keys in one statement.
KEYED_MAX_KEYS = 1_000


class _KeyedQueue:
    """The callers waiting for one keyed statement on one event loop, whether one is in flight,
    and the task that runs those that wait."""

    def __init__(self, sql: str, consumes: bool) -> None:
        self.sql = sql
        self.consumes = consumes
        self.busy = False
        self.waiting: collections.deque[tuple[Any, asyncio.Future[Any]]] = collections.deque()
        self.runner: asyncio.Task[None] | None = None
        self.leader: asyncio.Future[None] | None = None  # done when the caller running its own is


_keyed_queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, bool], _KeyedQueue]] = (
    weakref.WeakKeyDictionary()
)


async def run_keyed(sql: str, key: Any, *, consumes: bool) -> Any:
    """The value of the row of `key` that `sql` returns, or None (PostgreSQL; see
    `async_statements_supported`): `sql` takes the list of keys as its one parameter
    (`… WHERE "key" = ANY(%s) …`) and returns `(key, value)` rows.

    With no such statement in flight, the caller runs it at once for its own key, in its own task
    (a cancelled caller affects no other). Callers that come while one is in flight wait, and the
    next statement serves all of them, as `run_inserts` shares its writes: a statement cost ~60 µs
    of CPU (benchmarks/PROFILE.md). With `consumes` (the statement deletes what it returns, as
    `DELETE … RETURNING`) a row goes to one caller of its key only, as if their statements had run
    one after the other; otherwise to every caller of its key. An unreachable database fails every
    caller with 503 `storage_unavailable`, as `run_statement` does."""
    loop = asyncio.get_running_loop()
    queues = _keyed_queues.get(loop)
    if queues is None:
        queues = _keyed_queues[loop] = {}
    queue = queues.get((sql, consumes))
    if queue is None:
        queue = queues[(sql, consumes)] = _KeyedQueue(sql, consumes)
    if not queue.busy and not queue.waiting:
        queue.busy, queue.leader = True, loop.create_future()
        try:
            rows = await _statement_run(functools.partial(_keyed_statement, sql, [key]), fetch_all=True)
        finally:
            queue.busy = False
            _keyed_runner_start(loop, queue)  # for those that came meanwhile
            queue.leader.set_result(None)
        return dict(rows).get(key)
    done: asyncio.Future[Any] = loop.create_future()
    queue.waiting.append((key, done))
    if not queue.busy:
        _keyed_runner_start(loop, queue)
    return await done


def _keyed_runner_start(loop: asyncio.AbstractEventLoop, queue: _KeyedQueue) -> None:
    if queue.waiting and (queue.runner is None or queue.runner.done()):
        # A context of its own: the runner's log lines belong to no request.
        queue.runner = loop.create_task(_keyed_run(queue), name="database-keyed-statement", context=contextvars.Context())


async def _keyed_run(queue: _KeyedQueue) -> None:
    batch: list[tuple[Any, asyncio.Future[Any]]] = []
    try:
        while queue.waiting:
            while queue.waiting and len(batch) < KEYED_MAX_KEYS:
                batch.append(queue.waiting.popleft())
            # Not the key of a caller that was cancelled while it waited: nothing of its is consumed.
            keys = list(dict.fromkeys(key for key, done in batch if not done.done()))
            if not keys:
                batch = []
                continue
            queue.busy = True
            try:
                rows = await _statement_run(functools.partial(_keyed_statement, queue.sql, keys), fetch_all=True)
            except errors.ServiceError:  # the database is unreachable: every caller fails alike
                for _, done in batch:
                    if not done.done():
                        done.set_exception(errors.storage_unavailable())
            except Exception as exc:  # refused: the statement, not a caller, is at fault
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
            else:
                _keyed_settle(batch, dict(rows), consumes=queue.consumes)
            finally:
                queue.busy = False
            batch = []
    finally:  # cancelled (the loop is torn down): whether these ran is not known
        for _, done in [*batch, *queue.waiting]:
            if not done.done():
                done.set_exception(errors.storage_unavailable())
        queue.waiting.clear()
        queue.runner = None  # the finished task would keep the loop (the key) alive


def _keyed_statement(sql: str, keys: list[Any], cursor: psycopg.AsyncCursor[Any]) -> tuple[str, Sequence[Any]]:
    return sql, [keys]


def _keyed_settle(batch: list[tuple[Any, asyncio.Future[Any]]], values: dict[Any, Any], *, consumes: bool) -> None:
    """Each caller's value: a consumed row to the first caller of its key still waiting."""
    for key, done in batch:
        if done.done():  # the caller was cancelled: a consumed row goes to the next one
            continue
        if consumes:
            done.set_result(values.pop(key, None))
        else:
            done.set_result(values.get(key))


# --- Single-row INSERTs, committed together with those of concurrent requests ---------------------

# At most this many parameters in one batched statement (PostgreSQL allows 65,535).
BATCH_MAX_PARAMETERS = 20_000


class _InsertUnit:
    """The single-row INSERTs of one caller, which must be committed together, and the future the
    caller waits on."""

    __slots__ = ("statements", "done", "parameters")

    def __init__(self, statements: Sequence[tuple[str, Sequence[Any]]], done: asyncio.Future[None]) -> None:
        self.statements = statements
        self.done = done
        self.parameters = sum(len(params) for _, params in statements)


class _InsertQueue:
    """The units waiting to be written on one event loop, and the task that writes them."""

    def __init__(self) -> None:
        self.waiting: collections.deque[_InsertUnit] = collections.deque()
        self.writer: asyncio.Task[None] | None = None


_insert_queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _InsertQueue] = weakref.WeakKeyDictionary()


async def run_inserts(statements: Sequence[tuple[str, Sequence[Any]]]) -> None:
    """Execute single-row `INSERT … VALUES (…)` statements (from `insert_statement`) atomically,
    on the async pool (PostgreSQL; see `async_statements_supported`), committed in one statement
    with the inserts other requests of this event loop make at the same time (group commit).

    The caller waits until its rows are committed, as with `run_statement`; while one batch is
    being written the next one gathers, so a busy worker sends one statement (and the database
    makes one commit) for many requests: less CPU on both sides (benchmarks/PROFILE.md). Rows of
    the same table and columns become one multi-row `VALUES` list; the lists of the other tables
    go into data-modifying CTEs. A batch the database refuses (a constraint, a value) is written
    again in halves, so only the unit at fault fails; an unreachable database fails every unit
    with 503 `storage_unavailable`, as `run_statement` does."""
    loop = asyncio.get_running_loop()
    queue = _insert_queues.get(loop)
    if queue is None:
        queue = _insert_queues[loop] = _InsertQueue()
    unit = _InsertUnit(statements, loop.create_future())
    queue.waiting.append(unit)
    if queue.writer is None or queue.writer.done():
        # A context of its own: the writer's log lines belong to no request.
        queue.writer = loop.create_task(_inserts_write(queue), name="database-insert-writer", context=contextvars.Context())
    await unit.done


async def _inserts_write(queue: _InsertQueue) -> None:
    batch: list[_InsertUnit] = []
    try:
        while queue.waiting:
            parameters = 0
            while queue.waiting and (not batch or parameters + queue.waiting[0].parameters <= BATCH_MAX_PARAMETERS):
                unit = queue.waiting.popleft()
                batch.append(unit)
                parameters += unit.parameters
            await _batch_write(batch)
            batch = []
    finally:  # cancelled (the loop is torn down): whether these were written is not known
        for unit in [*batch, *queue.waiting]:
            if not unit.done.done():
                unit.done.set_exception(errors.storage_unavailable())
        queue.waiting.clear()
        queue.writer = None  # the finished task would keep the loop (the key) alive


async def _batch_write(batch: list[_InsertUnit]) -> bool:
    """Write `batch` as one statement and settle its units; False when the database was
    unreachable (every unit then failed with 503)."""
    try:
        statements = [statement for unit in batch for statement in unit.statements]
        await _statement_run(functools.partial(_batch_statement_merged, statements))
    except errors.ServiceError:  # the database is unreachable: every unit fails alike
        for unit in batch:
            if not unit.done.done():
                unit.done.set_exception(errors.storage_unavailable())
        return False
    except Exception as exc:
        if len(batch) == 1:
            if not batch[0].done.done():
                batch[0].done.set_exception(exc)
            return True
        # Refused: each half again, so that only the unit at fault fails (a few statements
        # rather than one per unit); an unreachable database fails the rest at once.
        middle = len(batch) // 2
        if not await _batch_write(batch[:middle]):
            for unit in batch[middle:]:
                if not unit.done.done():
                    unit.done.set_exception(errors.storage_unavailable())
            return False
        return await _batch_write(batch[middle:])
    for unit in batch:  # the batch's statement was observed (`_statement_run`)
        if not unit.done.done():  # a caller that was cancelled no longer waits
            unit.done.set_result(None)
    return True


def batch_statement(statements: Sequence[tuple[str, Sequence[Any]]]) -> tuple[str, list[Any]]:
    """Single-row `INSERT … VALUES (…)` statements as one statement: those with the same text
    (table and columns) as one multi-row `VALUES` list, in the order given; every list but the
    last in a data-modifying CTE. One statement is atomic without a transaction."""
    groups: dict[str, list[tuple[str, Sequence[Any]]]] = {}
    for sql, params in statements:
        head, values = _insert_split(sql)
        groups.setdefault(head, []).append((values, params))
    merged = _batch_join({head.encode(): [values.encode() for values, _ in rows] for head, rows in groups.items()})
    return merged.decode(), [param for rows in groups.values() for _, params in rows for param in params]


def _batch_statement_merged(
    statements: Sequence[tuple[str, Sequence[Any]]], cursor: psycopg.AsyncCursor[Any]
) -> tuple[str | bytes, Sequence[Any] | None]:
    """`batch_statement` for `cursor`. With client-side binding (Django's default) the values
    are merged in row by row, each value quoted by psycopg (`as_literal`, what `mogrify` does)
    into the row's text, and the batch goes without parameters: psycopg parses each single-row
    text once and remembers it, while a batch's text, new each time and longer than psycopg
    remembers, would be parsed for every batch (~75 µs per print request, ~110 per credentials
    flow: benchmarks/PROFILE.md). The rows' texts are remembered here as well (`_row_template`):
    `mogrify` itself cost twice the quoting of the values (48 against ~20 µs per print request)."""
    if not isinstance(cursor, psycopg.AsyncClientCursor):  # server-side binding: parameters apart
        return batch_statement(statements)
    transformer = Transformer(cursor)
    standard = _standard_dumpers(transformer)
    encoding = transformer.encoding
    groups: dict[bytes, list[bytes]] = {}
    for sql, params in statements:
        head, template, placeholders = _row_template(sql, encoding)
        if template is None or not isinstance(params, (list, tuple)) or len(params) != placeholders:
            # other placeholders, a `%` in the head, or parameters psycopg refuses: its own merge
            head_text, values = _insert_split(cursor.mogrify(sql, params))
            head, row = head_text.encode(encoding), values.encode(encoding)
        else:
            row = template % tuple([_literal(value, transformer, standard) for value in params])
        groups.setdefault(head, []).append(row)
    return _batch_join(groups), None


# psycopg's own text dumpers of `datetime` and `Jsonb` (`_literal` writes what they write).
_STANDARD_DUMPERS = (psycopg.adapters.get_dumper(datetime, PyFormat.TEXT), psycopg.adapters.get_dumper(Jsonb, PyFormat.TEXT))


def _standard_dumpers(transformer: TransformerType) -> bool:
    """Whether `transformer` quotes `datetime` and `Jsonb` values with psycopg's own dumpers."""
    adapters = transformer.adapters
    return (adapters.get_dumper(datetime, PyFormat.TEXT), adapters.get_dumper(Jsonb, PyFormat.TEXT)) == _STANDARD_DUMPERS


def _literal(value: Any, transformer: TransformerType, standard: bool) -> bytes:
    """`transformer.as_literal(value)` (`NULL` for None): the same bytes, but with psycopg's own
    dumpers (`standard`) an aware `datetime` and a `Jsonb` are quoted here, as those dumpers
    do, without their Python-level steps (~1.6 and ~2.2 µs each, 9 of a print request's ~20 µs
    of quoting, benchmarks/PROFILE.md). `common/tests/test_db.py` compares the bytes."""
    kind = type(value)
    if kind is str:
        return transformer.as_literal(value)
    if value is None:
        return b"NULL"
    if standard:
        if kind is datetime and value.tzinfo is not None:
            return b"'%s'::timestamptz" % str(value).encode()
        if kind is Jsonb and value.dumps is not None:
            text = value.dumps(value.obj)
            if type(text) is str:
                return transformer.as_literal(text) + b"::jsonb"
    return transformer.as_literal(value)


# A `%` not followed by `s` or `%`: a placeholder that psycopg converts (%b, %t, %(name)s).
_OTHER_PLACEHOLDER = re.compile(r"%[^s%]")


@functools.lru_cache(maxsize=256)
def _row_template(sql: str, encoding: str) -> tuple[bytes, bytes | None, int]:
    """The `INSERT INTO t (…)` of a single-row `INSERT … VALUES (…)`, its `(…)` as a template for
    `bytes % values` and its number of placeholders, encoded: what psycopg's client-side binding
    makes of a text whose placeholders are all `%s` (`%%` is a `%`). No template when the values
    have other placeholders or the head has a `%` (psycopg would merge it too)."""
    head, values = _insert_split(sql)
    plain = "%" not in head and not _OTHER_PLACEHOLDER.search(values)
    template = values.encode(encoding) if plain else None
    return head.encode(encoding), template, values.replace("%%", "").count("%s")


def _insert_split(sql: str) -> tuple[str, str]:
    """`INSERT INTO t (…)` and `(…)` of a single-row `INSERT INTO t (…) VALUES (…)`."""
    head, separator, values = sql.partition(" VALUES ")
    if not separator:
        raise ValueError("not a single-row INSERT … VALUES (…) statement")
    return head, values


def _batch_join(groups: dict[bytes, list[bytes]]) -> bytes:
    """`INSERT INTO t (…)` heads and their `(…)` rows as one statement (see `batch_statement`)."""
    parts = [head + b" VALUES " + b", ".join(rows) for head, rows in groups.items()]
    ctes = b", ".join(b"batch_%d AS (%s)" % (index, part) for index, part in enumerate(parts[:-1]))
    return (b"WITH " + ctes + b" " if ctes else b"") + parts[-1]


# The ORM code that `insert_statement` mirrors, with the SHA-256 of its source at the pinned Django
# (5.2.19); common/tests/test_db.py fails when an upgrade changes it.
GUARDED_SOURCES = {
    "django.db.models.sql.compiler.SQLInsertCompiler.prepare_value": (
        "2e49a07e78afaae1d9ebffe16d5356db05e4d38cf469d360a7e3e350985cb336"
    ),
    "django.db.models.fields.Field.get_db_prep_save": "b095edabbe2f53fc82a58797cc1bc78d703b7740cef74af06d82768a9fbffcec",
    # The preparations `_PREPARED_AS_GIVEN` leaves out: each gives back a value of its type as it is.
    "django.db.models.fields.Field.get_db_prep_value": "00c11e761b7faa6a6e77421a905272efeca7b941f96e8d4729be657ac194cb7b",
    "django.db.models.fields.Field.get_prep_value": "7aa16ded6e6eb1fb1275078aa55b15f0d755a3715e8f8157db82a91cb7299a78",
    "django.db.models.fields.CharField.get_prep_value": "6d31653d6fa8b8da847be16e097c3112f37277a6e3dbde770d6d1f709e37f09c",
    "django.db.models.fields.CharField.to_python": "1bd5528c714ebfc5002e7876b4a926440e467a6c097599d9b49dce63a37b90fd",
    "django.db.models.fields.TextField.get_prep_value": "6d31653d6fa8b8da847be16e097c3112f37277a6e3dbde770d6d1f709e37f09c",
    "django.db.models.fields.TextField.to_python": "1bd5528c714ebfc5002e7876b4a926440e467a6c097599d9b49dce63a37b90fd",
    "django.db.models.fields.BooleanField.get_prep_value": "9b980109f1759437260edf4aeae87357cf82789bbf436cdab4184b90925863f3",
    "django.db.models.fields.BooleanField.to_python": "e92368f992eb736b3a7c44b2ae1549879a7386acce6aab62a7cc9d7fa838e028",
    "django.db.models.fields.FloatField.get_prep_value": "e15918b0151398969066ad4c3c6f2a3b4aaaf3d656e84ee96aee7a3f0611da8a",
    # The single steps of `_preparation` on PostgreSQL.
    "django.db.models.fields.DateField.get_prep_value": "6d31653d6fa8b8da847be16e097c3112f37277a6e3dbde770d6d1f709e37f09c",
    "django.db.models.fields.DateTimeField.get_prep_value": "58343090d9eb2b666cb8b997378293e6b810ed6b5b1220e976940fb8202b807c",
    "django.db.models.fields.DateTimeField.to_python": "4700d61ac19eebf5e27310e618b3feeb3d046476e218d5ae62154d8dd4c8fb1f",
    "django.db.models.fields.DateTimeField.get_db_prep_value": "cf23bb6803750a15e267b1c3887e240ac1cd218cb0c4c653d289f92d311e46eb",
    "django.db.models.fields.IntegerField.get_prep_value": "ddfa8ddcff2ae5e8c60fbb014fbe7741e8db4e605673b260c3312165c5046135",
    "django.db.models.fields.IntegerField.get_db_prep_value": "70f783d82074c8ab94fde66bac018085b5d189e6e253771b9d097b9576ae8e2a",
    "django.db.models.fields.json.JSONField.get_db_prep_save": "e34659f215304d6da7f50ef180f9c098e4dc5a494245eb3491f51cab1b7657e3",
    "django.db.models.fields.json.JSONField.get_db_prep_value": (
        "5cbcc7e26018069ce0bfb34ae52fd51e2a8fcb33f3cc9637d7db58c04cce286a"
    ),
    "django.db.backends.postgresql.operations.DatabaseOperations.adapt_datetimefield_value": (
        "3379b01cace3a3eb64806720d8323313e298e1940991ed437369095e01fa9993"
    ),
    "django.db.backends.postgresql.operations.DatabaseOperations.adapt_integerfield_value": (
        "17cc6b3a1890e33fff8cf6f24a666440243e11d2a78e7c76a01b37b2bafae01d"
    ),
    "django.db.backends.postgresql.operations.DatabaseOperations.adapt_json_value": (
        "73918a30eade95b657b87a5319018dd130b21be4acb0dc19c697555cc1f4f415"
    ),
}

# Field classes whose `get_db_prep_save` gives back a value of this exact type as it is (a `str`
# for a text field, ...): `insert_statement` leaves their preparation out for such values (~1.3 µs
# each, 12 of a print request's 20 values). Exact classes only: a subclass may prepare otherwise.
# Not the integer fields: on PostgreSQL they wrap an `int` in psycopg's sized types.
_PREPARED_AS_GIVEN: dict[type[models.Field[Any, Any]], type] = {
    models.CharField: str,
    models.TextField: str,
    models.BooleanField: bool,
    models.FloatField: float,
}
# On PostgreSQL, more fields' preparation of the values of these exact types is a single step
# (`_preparation`): an aware `datetime` is given back as it is, an `int` is wrapped in psycopg's
# sized type, a JSON value in `Jsonb` (~4–5.5 µs each through the ORM's chain of calls, 9 of a
# print request's 20 values).
_INTEGER_FIELDS = frozenset(
    {
        models.IntegerField,
        models.SmallIntegerField,
        models.BigIntegerField,
        models.PositiveIntegerField,
        models.PositiveSmallIntegerField,
        models.PositiveBigIntegerField,
    }
)
_JSON_VALUE_TYPES = frozenset({dict, list, str, int, float, bool})


class _Prepared:
    """The type of no value: a field whose every value goes through `_preparation`'s function."""


def insert_statement(model: type[models.Model], values: dict[str, Any]) -> tuple[str, list[Any]]:
    """One `INSERT` of `values` (field name → value) into `model`'s table, with the ORM's own
    value preparation (`Field.get_db_prep_save`, as `SQLInsertCompiler.prepare_value` does) but
    without its per-object machinery: the hot path's submission and UCI records as one statement
    (886 → 320 µs of CPU per write, benchmarks/PROFILE.md "Round 2"). No `pre_save` runs, so every
    value, timestamps included, is given. The ORM code this mirrors is in `GUARDED_SOURCES`.
    The values are prepared with `statement_wrapper()`, looked up once (59 → 35 µs of CPU to
    build a print request's statement), and where the ORM's preparation of a value is known to
    give it back or to be a single step, that step alone (`_PREPARED_AS_GIVEN`, `_preparation`)."""
    sql, as_given, prepare = _insert_template(model, tuple(values), statement_wrapper())
    return sql, [
        value if type(value) is given else prepared(value)
        for given, prepared, value in zip(as_given, prepare, values.values(), strict=True)
    ]


@functools.lru_cache(maxsize=256)
def _insert_template(
    model: type[models.Model], names: tuple[str, ...], wrapper: BaseDatabaseWrapper
) -> tuple[str, tuple[type, ...], tuple[Callable[[Any], Any], ...]]:
    """The `INSERT` text (its columns in the order of `names`), the type each field takes as
    given (`_PREPARED_AS_GIVEN`) and each field's preparation of other values (`_preparation`),
    per model, field names and statement wrapper (whose vendor decides the quoting and the
    preparation): the same few each time on the hot path."""
    quote = wrapper.ops.quote_name
    concrete = {field.name: field for field in model._meta.concrete_fields}
    fields = tuple(concrete[name] for name in names)
    columns = ", ".join(quote(cast(str, field.column)) for field in fields)  # concrete fields have a column
    placeholders = ", ".join(["%s"] * len(fields))
    as_given = tuple(_PREPARED_AS_GIVEN.get(type(field), _Prepared) for field in fields)
    prepare = tuple(_preparation(field, wrapper) for field in fields)
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({placeholders})"
    return sql, as_given, prepare


def _preparation(field: models.Field[Any, Any], wrapper: BaseDatabaseWrapper) -> Callable[[Any], Any]:
    """`field.get_db_prep_save(value, wrapper)` as a function of the value; on PostgreSQL, for an
    exact `DateTimeField`, integer field or `JSONField` and a value of an exact type whose
    preparation is one step, that step alone (the ORM code is in `GUARDED_SOURCES`;
    `common/tests/test_db.py` compares every field and many kinds of value with the ORM's)."""
    full = functools.partial(field.get_db_prep_save, connection=wrapper)
    if wrapper.vendor != "postgresql":
        return full
    kind = type(field)
    if kind is models.DateTimeField:

        def aware_as_given(value: Any) -> Any:
            if type(value) is datetime and value.utcoffset() is not None:
                return value  # `get_prep_value` and `adapt_datetimefield_value` give it back
            return full(value)

        return aware_as_given
    if kind in _INTEGER_FIELDS:
        sized = wrapper.ops.integerfield_type_map[field.get_internal_type()]  # type: ignore[attr-defined]

        def integer_sized(value: Any) -> Any:
            return sized(value) if type(value) is int else full(value)

        return integer_sized
    if kind is models.JSONField:
        adapt, encoder = wrapper.ops.adapt_json_value, field.encoder  # type: ignore[attr-defined]

        def json_adapted(value: Any) -> Any:
            return adapt(value, encoder) if type(value) in _JSON_VALUE_TYPES else full(value)

        return json_adapted
    return full
