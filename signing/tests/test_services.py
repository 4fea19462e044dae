"""The submission record and the UCI audit trail: on PostgreSQL written on the async pool
(`common.db.run_inserts`), with the same rows as through Django's connection (`run_db`)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import pytest
from asgiref.sync import sync_to_async
from django.db import connection

from common import db, errors
from devtools.testing.statements import statements_counted
from signing import services
from signing.models import EventSubmission, UciAuditRecord
from signing.services import SubmissionOutcome, UciRecord, submission_record

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
async def pools_closed():
    yield
    await db.async_pools_close()


@pytest.fixture
def no_thread_hop(monkeypatch):
    def refused(*args, **kwargs):
        raise AssertionError("the submission write hopped to a thread")

    monkeypatch.setattr(services, "run_db", refused)


def uci(number: int, *, event_unique: str | None, created: datetime) -> UciRecord:
    return UciRecord(
        uci=f"URN:UVCI:01:NL:TESTSERVICES{number:06d}#A",
        provider_identifier="ZZZ",
        event_unique=event_unique,
        key_usage="vaccination",
        flow="print",
        expiration_time=created + timedelta(days=365, microseconds=7),
        issued_at=created,
    )


def outcomes() -> list[SubmissionOutcome]:
    created = datetime(2024, 2, 29, 23, 59, 58, 123456, tzinfo=timezone(timedelta(hours=2)))
    return [
        SubmissionOutcome(endpoint="credentials", created_at=datetime.now(UTC), status=400, error_code="invalid_request"),
        SubmissionOutcome(
            endpoint="print",
            created_at=created,
            providers=["ZZZ", "GGD"],
            event_counts={"vaccination": 2, "negativetest": 1},
            domestic_issued=True,
            eu_issued=1,
            holder_pseudonym="ab" * 32,
            duration_ms=12.345,
            downstream_ms={"eu": 3.21, "domestic": 0.1 + 0.2},
            print_client="Drukkerij \"Ä€\" 'O''Brien' \\ %s",
            ucis=[uci(1, event_unique="ünique-1 'quoted' %(x)s", created=created)],
        ),
        SubmissionOutcome(
            endpoint="credentials",
            created_at=created,
            status=502,
            error_code="signer_unavailable",
            providers=["ZZZ"],
            event_counts={"recovery": 1},
            eu_issued=3,
            downstream_ms={"eu": 1e-7},
            downstream_errors={"domestic": "timeout", "🙂": "line\u2028separator"},
            ucis=[uci(number, event_unique=None if number == 3 else f"e-{number}", created=created) for number in (2, 3, 4)],
        ),
    ]


def _columns(model) -> list[str]:
    return [field.column for field in model._meta.concrete_fields if field.column != "id"]


@sync_to_async
def rows_as_stored() -> dict[str, list[tuple]]:
    """Every row but its id, each column as PostgreSQL's text of the stored value; then empty."""
    rows = {}
    with connection.cursor() as cursor:
        for model in (EventSubmission, UciAuditRecord):
            table, columns = model._meta.db_table, _columns(model)
            cursor.execute(f"SELECT {', '.join(f'{c}::text' for c in columns)} FROM {table} ORDER BY id")
            rows[table] = cursor.fetchall()
            cursor.execute(f"DELETE FROM {table}")
    connection.close()
    return rows


async def test_both_paths_store_the_same_rows(no_thread_hop):
    for outcome in outcomes():
        await db.run_db(services._records_write, outcome)  # the previous path: Django's connection
        through_django = await rows_as_stored()
        await submission_record(outcome=outcome)  # the async pool, no thread
        through_async_pool = await rows_as_stored()
        assert through_async_pool == through_django
        assert len(through_django[UciAuditRecord._meta.db_table]) == len(outcome.ucis)
        assert len(through_django[EventSubmission._meta.db_table]) == 1


async def test_records_written_together_are_the_records_written_one_by_one(no_thread_hop, monkeypatch):
    """Concurrent writes share statements (`common.db.run_inserts`) and store the same rows."""
    records = outcomes()
    for outcome in records:
        await submission_record(outcome=outcome)
    one_by_one = await rows_as_stored()
    statements = statements_counted(monkeypatch)
    await asyncio.gather(*(submission_record(outcome=outcome) for outcome in records))
    together = await rows_as_stored()
    assert {table: sorted(rows) for table, rows in together.items()} == {
        table: sorted(rows) for table, rows in one_by_one.items()
    }
    assert 1 <= len(statements) < len(records)


async def test_the_records_are_one_statement(monkeypatch):
    """All or nothing: a UCI that is already recorded fails the whole write."""
    first, second = outcomes()[1:]
    second.ucis.append(first.ucis[0])
    await submission_record(outcome=first)
    with pytest.raises(Exception, match="duplicate key"):
        await submission_record(outcome=second)
    assert await sync_to_async(EventSubmission.objects.count)() == 1
    assert await sync_to_async(UciAuditRecord.objects.count)() == 1


async def test_an_unreachable_database_is_503(monkeypatch, settings):
    from devtools.testing.processes import free_port

    monkeypatch.setattr(db, "_observation", db._observation)
    unreachable = {**db._async_connection_kwargs(), "port": free_port()}
    monkeypatch.setattr(db, "_async_connection_kwargs", lambda: unreachable)
    settings.DATABASE_POOL = {**settings.DATABASE_POOL, "timeout": 0.3}
    with pytest.raises(errors.ServiceError) as raised:
        await submission_record(outcome=outcomes()[1])
    assert (raised.value.status, raised.value.code) == (503, "storage_unavailable")
    assert db.database_observation()[1] is False


async def test_other_databases_keep_run_db(monkeypatch):
    """SQLite (the embedded default) has no async driver: its write stays on `run_db`."""
    calls = []

    async def run_db(fn, *args):
        calls.append(fn)
        return await db.run_db(fn, *args)

    monkeypatch.setattr(services, "async_statements_supported", lambda: False)
    monkeypatch.setattr(services, "run_db", run_db)
    await submission_record(outcome=outcomes()[2])
    assert calls == [services._records_write]
    assert await sync_to_async(UciAuditRecord.objects.count)() == 3


async def test_sessions_on_the_async_pool_match_the_orm_path(no_thread_hop):
    """A session made and consumed on the async pool: the same row (expiry from the database's
    statement time) as `_session_create` through the ORM, and consumed once only."""
    assert db.async_statements_supported()
    stoken = await services.session_create(prepare_issue_message="bWVzc2FnZQ==")
    await sync_to_async(services._session_create)("orm-key", "bWVzc2FnZQ==", 60)

    def rows():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT key, value, expires_at - now() FROM signing_issuancesession WHERE key IN (%s, 'orm-key') ORDER BY key",
                [services.session_key(stoken)],
            )
            return cursor.fetchall()

    ours, theirs = sorted(await sync_to_async(rows)(), key=lambda row: row[0] == "orm-key")
    assert ours[1] == theirs[1] == "bWVzc2FnZQ=="
    seconds = services.settings.EXPIRATION_TIME_IN_SECONDS
    assert timedelta(seconds=seconds - 5) < ours[2] <= timedelta(seconds=seconds)
    assert timedelta(seconds=55) < theirs[2] <= timedelta(seconds=60)
    assert await services.session_lookup(stoken=stoken) == "bWVzc2FnZQ=="  # not consumed by a lookup
    assert await sync_to_async(services._session_lookup)(services.session_key(stoken)) == "bWVzc2FnZQ=="
    assert await services.session_consume(stoken=stoken) == "bWVzc2FnZQ=="
    assert await services.session_consume(stoken=stoken) is None
    assert await services.session_lookup(stoken=stoken) is None


async def test_an_expired_session_is_neither_found_nor_consumed_on_the_async_pool(no_thread_hop):
    stoken = await services.session_create(prepare_issue_message="eA==")

    def expire():
        with connection.cursor() as cursor:
            cursor.execute("UPDATE signing_issuancesession SET expires_at = now() - interval '1 second'")

    await sync_to_async(expire)()
    assert await services.session_lookup(stoken=stoken) is None
    assert await services.session_consume(stoken=stoken) is None
