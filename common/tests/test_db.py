import asyncio
import json
import time
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import psycopg
import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, connections
from psycopg.adapt import Transformer
from psycopg.types.json import Jsonb

from common import db, errors
from common.db import GUARDED_SOURCES
from devtools.testing.guards import source_digest
from devtools.testing.processes import free_port
from devtools.testing.service import private_postgres, private_postgres_remove
from devtools.testing.statements import statements_counted
from signing.models import EventSubmission, UciAuditRecord


@pytest.mark.django_db
def test_the_suite_runs_on_postgresql():
    assert connection.vendor == "postgresql"


@pytest.mark.parametrize("dotted", sorted(GUARDED_SOURCES))
def test_the_orm_code_that_insert_statement_mirrors_is_unchanged(dotted):
    """A failure means the pinned Django changed how the ORM prepares inserted values: read
    `common.db.insert_statement` again against the new source, then update its digest."""
    assert source_digest(dotted) == GUARDED_SOURCES[dotted], dotted


# --- run_statement: one statement on the async pool of the running loop ---------------------------


@pytest.fixture
async def pools_closed():
    yield
    await db.async_pools_close()


@pytest.fixture
def observation_restored(monkeypatch):
    """The tests below change what /health would report; the previous observation comes back."""
    monkeypatch.setattr(db, "_observation", db._observation)


@pytest.mark.django_db(transaction=True)
async def test_run_statement_executes_on_the_async_pool_and_observes(pools_closed, observation_restored):
    await db.run_statement("CREATE TEMPORARY TABLE t (x int)", [])  # any statement; one round trip
    started = time.monotonic()
    await db.run_statement("SELECT %s", [1])
    observed_at, reachable = db.database_observation()
    assert reachable is True and observed_at >= started
    stats = db.async_pool_stats()
    assert len(stats) == 1 and stats[0]["pool_max"] == settings.DATABASE_ASYNC_POOL_MAX_SIZE


@pytest.mark.django_db(transaction=True)
async def test_the_async_connections_are_configured_as_djangos(pools_closed):
    pool = await db.async_pool()
    async with pool.connection() as conn:
        assert conn.info.dbname == connection.settings_dict["NAME"]  # the test database
        assert conn.autocommit and conn.prepare_threshold is None
        assert isinstance(conn.cursor(), psycopg.AsyncClientCursor)  # Django's Cursor is a ClientCursor
        assert (await (await conn.execute("SHOW TIME ZONE")).fetchone())[0] == "UTC"
        assert (await (await conn.execute("SHOW client_encoding")).fetchone())[0] == "UTF8"
    kwargs = db._async_connection_kwargs()
    django_kwargs = connection.get_connection_params()
    assert {k: v for k, v in kwargs.items() if k not in ("cursor_factory", "autocommit")} == {
        k: v for k, v in django_kwargs.items() if k != "cursor_factory"
    }


@pytest.mark.django_db(transaction=True)
async def test_one_pool_per_event_loop_opened_once(pools_closed):
    pools = await asyncio.gather(*(db.async_pool() for _ in range(5)))
    assert all(pool is pools[0] for pool in pools) and not pools[0].closed
    assert len(db.async_pool_stats()) == 1

    async def in_another_loop():
        other = await db.async_pool()
        await db.async_pools_close()
        return other

    other = await asyncio.to_thread(asyncio.run, in_another_loop())
    assert other is not pools[0] and other.closed and not pools[0].closed
    await db.async_pools_close()
    assert pools[0].closed
    assert await db.async_pool() is not pools[0]  # a new one after closing


@pytest.mark.django_db(transaction=True)
async def test_an_unreachable_database_is_503_and_observed(pools_closed, observation_restored, monkeypatch, settings, caplog):
    unreachable = {**db._async_connection_kwargs(), "host": "127.0.0.1", "port": free_port(), "connect_timeout": 1}
    monkeypatch.setattr(db, "_async_connection_kwargs", lambda: unreachable)
    settings.DATABASE_POOL = {**settings.DATABASE_POOL, "timeout": 0.3}
    started = time.monotonic()
    with pytest.raises(errors.ServiceError) as raised:
        await db.run_statement("SELECT 1", [])
    assert (raised.value.status, raised.value.code) == (503, "storage_unavailable")
    observed_at, reachable = db.database_observation()
    assert reachable is False and observed_at >= started
    assert any(record.message == "database unavailable" for record in caplog.records)


async def test_the_async_pool_recovers_after_an_outage(pools_closed, observation_restored, monkeypatch, settings):
    """A PostgreSQL server of its own goes away (its pooled connection is cut) and comes back."""
    server = private_postgres()
    try:
        kwargs = {**db._async_connection_kwargs(), "host": "127.0.0.1", "port": server.port, "dbname": "postgres"}
        monkeypatch.setattr(db, "_async_connection_kwargs", lambda: {**kwargs, "connect_timeout": 2})
        settings.DATABASE_POOL = {**settings.DATABASE_POOL, "timeout": 0.5}
        await db.run_statement("SELECT 1", [])
        await asyncio.to_thread(server.stop)
        for _ in range(2):  # the cut connection, then no connection at all
            with pytest.raises(errors.ServiceError, match="storage_unavailable"):
                await db.run_statement("SELECT 1", [])
            assert db.database_observation()[1] is False
        await asyncio.to_thread(server.start)
        deadline = time.monotonic() + 30
        while True:
            try:
                await db.run_statement("SELECT 1", [])
                break
            except errors.ServiceError:
                assert time.monotonic() < deadline, "the pool did not reconnect"
                await asyncio.sleep(0.25)
        assert db.database_observation()[1] is True
    finally:
        await db.async_pools_close()
        private_postgres_remove(server)


# --- run_inserts: single-row INSERTs committed together with those of concurrent callers --------


def test_batch_statement_joins_rows_of_the_same_table_and_columns():
    a = ('INSERT INTO "a" ("x") VALUES (%s)', [1])
    b = ('INSERT INTO "b" ("y", "z") VALUES (%s, %s)', [2, 3])
    a2 = ('INSERT INTO "a" ("x") VALUES (%s)', [4])
    assert db.batch_statement([a]) == ('INSERT INTO "a" ("x") VALUES (%s)', [1])
    assert db.batch_statement([a, b, a2]) == (
        'WITH batch_0 AS (INSERT INTO "a" ("x") VALUES (%s), (%s)) INSERT INTO "b" ("y", "z") VALUES (%s, %s)',
        [1, 4, 2, 3],
    )
    with pytest.raises(ValueError):
        db.batch_statement([("DELETE FROM a", [])])


@pytest.mark.django_db(transaction=True)
async def test_the_merged_batch_is_the_text_psycopg_would_send(pools_closed):
    """With client-side binding the batch goes out with its values merged in row by row: the same
    text as psycopg's own merge of `batch_statement` and its parameters."""
    statements = [
        ('INSERT INTO "a" ("x", "y") VALUES (%s, %s)', [1, "it's 100 %s %% \\ ünï"]),
        ('INSERT INTO "b" ("z") VALUES ((STATEMENT_TIMESTAMP() + %s))', [timedelta(seconds=90)]),
        ('INSERT INTO "a" ("x", "y") VALUES (%s, %s)', [None, datetime(2024, 2, 29, 23, 59, tzinfo=UTC)]),
        ('INSERT INTO "c" ("j", "f", "b") VALUES (%s, %s, (%s || \'%%\'))', [Jsonb({"k": "it's"}), 1.5, True]),
        ('INSERT INTO "d" ("t") VALUES (%t)', ["text format"]),  # a placeholder other than %s: psycopg's own merge
        ('INSERT INTO "e%%" ("u") VALUES (%s)', ["a % in the head"]),  # psycopg's own merge too
        ('INSERT INTO "a" ("x", "y") VALUES (%s, %s)', [2, ""]),
    ]
    pool = await db.async_pool()
    async with pool.connection() as conn:
        cursor = conn.cursor()
        for _ in range(2):  # the row templates made, then remembered
            merged, parameters = db._batch_statement_merged(statements, cursor)
            assert parameters is None
            assert isinstance(merged, bytes)
            assert merged.decode() == cursor.mogrify(*db.batch_statement(statements))
            assert merged.count(b"VALUES") == 5
        with pytest.raises(psycopg.ProgrammingError):  # parameters that do not fit: psycopg's own error
            db._batch_statement_merged([('INSERT INTO "a" ("x", "y") VALUES (%s, %s)', [1])], cursor)


LITERAL_VALUES = [
    "it's \\ ünï \u20ac",
    None,
    datetime(2024, 2, 29, 23, 59, tzinfo=UTC),
    datetime(2026, 12, 5, 16, 16, 22, 2453, tzinfo=UTC),
    datetime(1, 1, 1, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(2026, 3, 29, 2, 30, tzinfo=timezone(timedelta(hours=5, minutes=30))),
    datetime(2026, 3, 29, 2, 30, tzinfo=timezone(-timedelta(hours=3, seconds=17))),
    datetime(2026, 3, 29, 2, 30, tzinfo=ZoneInfo("Europe/Amsterdam")),
    datetime(2026, 3, 29, 2, 30),  # naive: psycopg's own
    Jsonb({"k": "it's", "n": [1, 2.5, None, True], "u": "ünï \\ \u20ac"}),
    Jsonb([]),
    Jsonb("text"),
    Jsonb({"a": 1}, dumps=lambda obj: json.dumps(obj, ensure_ascii=False, indent=1)),
    Jsonb({"a": "ü"}, dumps=lambda obj: json.dumps(obj, ensure_ascii=False).encode()),  # bytes: psycopg's own
    Jsonb({"x": 1.5}, dumps=None),
    1.5,
    True,
    7,
]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("value", LITERAL_VALUES, ids=range(len(LITERAL_VALUES)))
async def test_a_value_is_quoted_as_psycopg_quotes_it(value, pools_closed):
    pool = await db.async_pool()
    async with pool.connection() as conn:
        transformer = Transformer(conn.cursor())
        assert db._standard_dumpers(transformer)
        expected = b"NULL" if value is None else transformer.as_literal(value)
        assert db._literal(value, transformer, True) == expected
        assert db._literal(value, transformer, False) == expected


@pytest.mark.django_db(transaction=True)
async def test_a_connection_with_its_own_dumpers_is_quoted_by_them(pools_closed):
    class IsoDumper(psycopg.types.datetime.DatetimeDumper):
        def dump(self, obj):
            return obj.isoformat().encode()

    pool = await db.async_pool()
    async with pool.connection() as conn:
        conn.adapters.register_dumper(datetime, IsoDumper)
        transformer = Transformer(conn.cursor())
        assert not db._standard_dumpers(transformer)
        value = datetime(2024, 2, 29, 23, 59, tzinfo=UTC)
        merged, _ = db._batch_statement_merged([('INSERT INTO "a" ("x") VALUES (%s)', [value])], conn.cursor())
        assert merged == b'INSERT INTO "a" ("x") VALUES (\'2024-02-29T23:59:00+00:00\'::timestamptz)'


@pytest.fixture
async def inserts_table(pools_closed):
    await db.run_statement("CREATE TABLE IF NOT EXISTS inserts_test (x int PRIMARY KEY, label text NOT NULL)", [])
    yield
    await db.run_statement("DROP TABLE inserts_test", [])


def row(x: int, label: str | None = "row") -> tuple[str, list]:
    return "INSERT INTO inserts_test (x, label) VALUES (%s, %s)", [x, label]


async def stored() -> list[tuple]:
    pool = await db.async_pool()
    async with pool.connection() as conn:
        cursor = await conn.execute("SELECT x, label FROM inserts_test ORDER BY x")
        return await cursor.fetchall()


@pytest.mark.django_db(transaction=True)
async def test_concurrent_inserts_share_statements_and_all_are_committed(inserts_table, monkeypatch):
    statements = statements_counted(monkeypatch)
    await asyncio.gather(*(db.run_inserts([row(x), row(1000 + x)]) for x in range(50)))
    assert await stored() == sorted([(x, "row") for x in range(50)] + [(1000 + x, "row") for x in range(50)])
    assert 1 <= len(statements) < 50  # the 50 callers' rows went out in a few statements, not 50


@pytest.mark.django_db(transaction=True)
async def test_a_refused_unit_fails_alone_and_atomically(inserts_table):
    """A batch the database refuses is written again unit by unit: only the unit at fault fails,
    and none of its rows is stored (its rows are one statement)."""
    results = await asyncio.gather(
        db.run_inserts([row(1)]),
        db.run_inserts([row(2), row(3, None)]),  # NOT NULL violated: the whole unit fails
        db.run_inserts([row(4)]),
        return_exceptions=True,
    )
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], psycopg.errors.NotNullViolation)
    assert await stored() == [(1, "row"), (4, "row")]


@pytest.mark.django_db(transaction=True)
async def test_a_cancelled_caller_does_not_disturb_the_others(inserts_table):
    first = asyncio.create_task(db.run_inserts([row(1)]))
    second = asyncio.create_task(db.run_inserts([row(2)]))
    await asyncio.sleep(0)  # both are queued
    first.cancel()
    await second
    with pytest.raises(asyncio.CancelledError):
        await first
    await db.run_inserts([row(3)])
    assert [x for x, _ in await stored()] in ([1, 2, 3], [2, 3])  # written unless it had not gone out


@pytest.mark.django_db(transaction=True)
async def test_inserts_into_an_unreachable_database_are_503(pools_closed, observation_restored, monkeypatch, settings):
    unreachable = {**db._async_connection_kwargs(), "port": free_port()}
    monkeypatch.setattr(db, "_async_connection_kwargs", lambda: unreachable)
    settings.DATABASE_POOL = {**settings.DATABASE_POOL, "timeout": 0.3}
    results = await asyncio.gather(db.run_inserts([row(1)]), db.run_inserts([row(2)]), return_exceptions=True)
    assert all(isinstance(result, errors.ServiceError) and result.code == "storage_unavailable" for result in results)
    assert db.database_observation()[1] is False


# --- run_keyed: statements by key, shared by the callers that ask at the same time -------------------

LOOKUP = "SELECT x, label FROM inserts_test WHERE x = ANY(%s)"
CONSUME = "DELETE FROM inserts_test WHERE x = ANY(%s) RETURNING x, label"


@pytest.mark.django_db(transaction=True)
async def test_keyed_look_ups_at_the_same_time_share_a_statement(inserts_table, monkeypatch):
    await db.run_inserts([row(x, f"label {x}") for x in range(1, 6)])
    statements = statements_counted(monkeypatch)
    keys = [1, 2, 2, 3, 99, 5, 1]
    values = await asyncio.gather(*(db.run_keyed(LOOKUP, key, consumes=False) for key in keys))
    assert values == ["label 1", "label 2", "label 2", "label 3", None, "label 5", "label 1"]
    assert 1 <= len(statements) < len(keys)
    assert await db.run_keyed(LOOKUP, 4, consumes=False) == "label 4"  # alone, too


@pytest.mark.django_db(transaction=True)
async def test_a_consumed_row_goes_to_one_caller_only(inserts_table):
    await db.run_inserts([row(x, f"label {x}") for x in range(1, 4)])
    keys = [1, 1, 2, 1, 2, 7]
    values = await asyncio.gather(*(db.run_keyed(CONSUME, key, consumes=True) for key in keys))
    assert sorted(value for value in values if value is not None) == ["label 1", "label 2"]
    assert values[0] == "label 1" and values[2] == "label 2"  # the first caller of each key
    assert await stored() == [(3, "label 3")]
    assert await db.run_keyed(CONSUME, 1, consumes=True) is None


@pytest.mark.django_db(transaction=True)
async def test_a_cancelled_consumer_leaves_the_row_to_the_next_caller_of_its_key(inserts_table):
    await db.run_inserts([row(1, "one"), row(2, "two")])
    leader = asyncio.create_task(db.run_keyed(CONSUME, 2, consumes=True))  # runs at once, alone
    await asyncio.sleep(0)
    second = asyncio.create_task(db.run_keyed(CONSUME, 1, consumes=True))  # these two wait for the next
    third = asyncio.create_task(db.run_keyed(CONSUME, 1, consumes=True))
    await asyncio.sleep(0)
    second.cancel()
    assert await leader == "two"
    assert await third == "one"
    with pytest.raises(asyncio.CancelledError):
        await second


@pytest.mark.django_db(transaction=True)
async def test_the_session_of_a_caller_cancelled_while_it_waited_is_not_consumed(inserts_table):
    await db.run_inserts([row(1, "one"), row(2, "two")])
    leader = asyncio.create_task(db.run_keyed(CONSUME, 2, consumes=True))  # runs at once, alone
    await asyncio.sleep(0)
    waiting = asyncio.create_task(db.run_keyed(CONSUME, 1, consumes=True))
    await asyncio.sleep(0)
    waiting.cancel()
    assert await leader == "two"
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert await db.run_keyed(LOOKUP, 1, consumes=False) == "one"  # still there
    assert await stored() == [(1, "one")]


@pytest.mark.django_db(transaction=True)
async def test_closing_the_pools_waits_for_the_keyed_statements_in_flight(inserts_table):
    await db.run_inserts([row(1, "one"), row(2, "two")])
    leader = asyncio.create_task(db.run_keyed(LOOKUP, 1, consumes=False))
    await asyncio.sleep(0)
    waiting = asyncio.create_task(db.run_keyed(LOOKUP, 2, consumes=False))
    await asyncio.sleep(0)
    await db.async_pools_close()
    assert leader.done() and waiting.done()
    assert (leader.result(), waiting.result()) == ("one", "two")
    assert asyncio.get_running_loop() not in db._pools  # no pool was opened again behind the close


@pytest.mark.django_db(transaction=True)
async def test_keyed_statements_on_an_unreachable_database_are_503(pools_closed, observation_restored, monkeypatch, settings):
    unreachable = {**db._async_connection_kwargs(), "port": free_port()}
    monkeypatch.setattr(db, "_async_connection_kwargs", lambda: unreachable)
    settings.DATABASE_POOL = {**settings.DATABASE_POOL, "timeout": 0.3}
    results = await asyncio.gather(
        db.run_keyed(LOOKUP, 1, consumes=False), db.run_keyed(LOOKUP, 2, consumes=False), return_exceptions=True
    )
    assert all(isinstance(result, errors.ServiceError) and result.code == "storage_unavailable" for result in results)
    assert results[0] is not results[1]


@pytest.mark.django_db(transaction=True)
async def test_a_refused_keyed_statement_fails_its_callers(inserts_table):
    results = await asyncio.gather(
        db.run_keyed(LOOKUP, 5, consumes=False),  # runs at once, alone; the next two share a statement
        db.run_keyed(LOOKUP, "not a number", consumes=False),
        db.run_keyed(LOOKUP, "2", consumes=False),
        return_exceptions=True,
    )
    assert results[0] is None
    assert all(isinstance(result, psycopg.errors.InvalidTextRepresentation) for result in results[1:]), results
    assert await db.run_keyed(LOOKUP, 1, consumes=False) is None  # the next statement runs


async def test_statements_are_built_without_a_database_wrapper_per_task(monkeypatch):
    """`connections[alias]` is per asyncio task: building the hot path's statements in each
    request's task must not make a wrapper for each (`common.db.statement_wrapper`)."""
    made = []
    create = connections.create_connection
    monkeypatch.setattr(connections, "create_connection", lambda alias: made.append(alias) or create(alias))
    db.statement_wrapper.cache_clear()
    values = {"created_at": datetime.now(UTC), "providers": ["ZZZ"], "status": 200}

    async def in_a_task():
        return db.async_statements_supported(), db.insert_statement(EventSubmission, values)[0]

    try:
        answers = [await asyncio.create_task(in_a_task()) for _ in range(3)]
    finally:
        db.statement_wrapper.cache_clear()
    assert made == ["default"]
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][1] == db.insert_statement(EventSubmission, values)[0]


def test_the_statement_wrapper_is_made_afresh_when_the_database_or_time_zone_settings_change():
    before = db.statement_wrapper()
    db._statement_wrapper_reset(setting="LANGUAGE_CODE")
    assert db.statement_wrapper() is before
    db._statement_wrapper_reset(setting="TIME_ZONE")  # the receiver of Django's `setting_changed`
    assert db.statement_wrapper() is not before


class Number(int):
    pass


SAMPLE_VALUES = [
    "",
    "text é \\ ' %s",
    0,
    -7,
    2**40,
    Number(3),
    True,
    False,
    0.0,
    -1.5,
    1e-05,
    None,
    {"a": [1]},
    ["x"],
    datetime(2026, 12, 5, 16, 16, 22, 2453, tzinfo=UTC),
    datetime(2026, 3, 29, 2, 30, tzinfo=ZoneInfo("Europe/Amsterdam")),
    datetime(2026, 3, 29, 2, 30, tzinfo=timezone(-timedelta(hours=3))),
    date(2026, 12, 5),
    timedelta(seconds=90),
    Jsonb({"already": "adapted"}),
]


@pytest.mark.filterwarnings("ignore:DateTimeField .* received a naive datetime:RuntimeWarning")  # a `date`, as the ORM warns
@pytest.mark.parametrize("model", [EventSubmission, UciAuditRecord])
def test_insert_statement_prepares_every_value_as_the_orm_does(model):
    """`insert_statement` leaves the preparation out only where the ORM gives the value back as
    it is: the same parameters, of the same types, for every field and many kinds of value."""
    wrapper = db.statement_wrapper()
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    for value in SAMPLE_VALUES:
        for field in fields:
            try:
                expected = field.get_db_prep_save(value, wrapper)
            except (TypeError, ValueError, ValidationError):
                continue
            _, (prepared,) = db.insert_statement(model, {field.name: value})
            assert type(prepared) is type(expected), (field.name, value)
            assert repr(prepared) == repr(expected), (field.name, value)
            if isinstance(expected, Jsonb):
                assert (prepared.obj, prepared.dumps) == (expected.obj, expected.dumps), (field.name, value)
            if isinstance(expected, datetime):
                assert prepared.tzinfo is expected.tzinfo, (field.name, value)


@pytest.mark.parametrize(("field_class", "given"), sorted(db._PREPARED_AS_GIVEN.items(), key=lambda item: item[0].__name__))
def test_the_fields_whose_preparation_is_left_out_give_their_values_back(field_class, given):
    wrapper = db.statement_wrapper()
    field = field_class(name="f")
    for value in [value for value in SAMPLE_VALUES if type(value) is given] + [given()]:
        assert field.get_db_prep_save(value, wrapper) is value
