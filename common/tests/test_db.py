import asyncio
import time

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from common import db, errors
from common.db import GUARDED_SOURCES
from devtools.testing.guards import source_digest
from devtools.testing.processes import free_port
from devtools.testing.service import private_postgres, private_postgres_remove


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
