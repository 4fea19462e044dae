"""Database writes and reads of the issuance flows: sessions (api.md §4), submission records
and the UCI audit trail (rules-eu.md §9.4). Each function is one short unit of database work."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import DateTimeField, ExpressionWrapper
from django.db.models.functions import Now
from django.utils import timezone

from common.db import (
    async_statements_supported,
    batch_statement,
    insert_statement,
    run_db,
    run_inserts,
    run_keyed,
    statement_wrapper,
)
from common.keyfiles import key32_cached
from events.types import Holder
from signing.models import EventSubmission, IssuanceSession, PrintToken, UciAuditRecord


def session_key(stoken: uuid.UUID) -> str:
    """base64(HMAC-SHA256(SESSION_HMAC_KEY, 16 raw bytes of the UUID)) (api.md §4)."""
    digest = hmac.digest(key32_cached(settings.SESSION_HMAC_KEY_FILE), stoken.bytes, "sha256")
    return base64.b64encode(digest).decode("ascii")


def _session_create(key: str, value: str, seconds: int) -> None:
    IssuanceSession.objects.create(
        key=key,
        value=value,
        expires_at=ExpressionWrapper(Now() + timedelta(seconds=seconds), output_field=DateTimeField()),
    )


def _session_create_statement(key: str, value: str, seconds: int) -> tuple[str, list[Any]]:
    """`_session_create` as one PostgreSQL statement: the expiry is computed by the database, from
    the statement's time as Django's `Now()` is (`STATEMENT_TIMESTAMP()`)."""
    return _session_create_sql(), [key, value, timedelta(seconds=seconds)]


@functools.cache
def _session_table() -> str:
    """The sessions' table, quoted for the statements below (built once each)."""
    return statement_wrapper().ops.quote_name(IssuanceSession._meta.db_table)


@functools.cache
def _session_create_sql() -> str:
    return f'INSERT INTO {_session_table()} ("key", "value", "expires_at") VALUES (%s, %s, (STATEMENT_TIMESTAMP() + %s))'


async def session_create(*, prepare_issue_message: str) -> uuid.UUID:
    """A fresh random stoken whose session holds the prepare-issue message (base64); on
    PostgreSQL in the group commit of `common.db.run_inserts`, without a thread hop."""
    stoken = uuid.uuid4()
    key, seconds = session_key(stoken), settings.EXPIRATION_TIME_IN_SECONDS
    if async_statements_supported():
        await run_inserts([_session_create_statement(key, prepare_issue_message, seconds)])
    else:
        await run_db(_session_create, key, prepare_issue_message, seconds)
    return stoken


def _session_lookup(key: str) -> str | None:
    return IssuanceSession.objects.filter(key=key, expires_at__gt=Now()).values_list("value", flat=True).first()


@functools.cache
def _session_lookup_sql() -> str:
    """`_session_lookup` as one PostgreSQL statement for the keys of the requests that look up at
    the same time (`common.db.run_keyed`; Django's `Now()` is `STATEMENT_TIMESTAMP()`)."""
    return f'SELECT "key", "value" FROM {_session_table()} WHERE "key" = ANY(%s) AND "expires_at" > STATEMENT_TIMESTAMP()'


async def session_lookup(*, stoken: uuid.UUID) -> str | None:
    """The session's value without consuming it, or None when unknown or expired; on PostgreSQL
    one statement on the async pool, without a thread hop, shared with the look-ups of other
    requests at the same time."""
    key = session_key(stoken)
    if async_statements_supported():
        return await run_keyed(_session_lookup_sql(), key, consumes=False)
    return await run_db(_session_lookup, key)


@functools.cache
def _session_consume_sql(vendor: str) -> str:
    """Delete the session of a key if it has not expired, returning its value: one statement."""
    now = "STRFTIME('%%Y-%%m-%%d %%H:%%M:%%f', 'NOW')" if vendor == "sqlite" else "now()"
    return f"DELETE FROM {IssuanceSession._meta.db_table} WHERE key = %s AND expires_at > {now} RETURNING value"


@functools.cache
def _sessions_consume_sql() -> str:
    """`_session_consume_sql` on PostgreSQL for the keys of the requests that consume at the same
    time (`common.db.run_keyed`): each row is deleted, and returned, once."""
    return f"DELETE FROM {IssuanceSession._meta.db_table} WHERE key = ANY(%s) AND expires_at > now() RETURNING key, value"


def _session_consume(key: str) -> str | None:
    with connection.cursor() as cursor:
        cursor.execute(_session_consume_sql(connection.vendor), [key])
        row = cursor.fetchone()
    return row[0] if row else None


async def session_consume(*, stoken: uuid.UUID) -> str | None:
    """Atomically delete the session if it exists and has not expired; return its value. On
    PostgreSQL the same statement on the async pool, without a thread hop, for the keys of the
    requests that consume at the same time; a session goes to one of them only."""
    key = session_key(stoken)
    if async_statements_supported():
        return await run_keyed(_sessions_consume_sql(), key, consumes=True)
    return await run_db(_session_consume, key)


def _sessions_purge() -> int:
    deleted, _ = IssuanceSession.objects.filter(expires_at__lte=Now()).delete()
    return deleted


def sessions_purge_sync() -> int:
    """Delete expired sessions (sync, for `manage.py purge_sessions`)."""
    return _sessions_purge()


def holder_pseudonym(holder: Holder | None) -> str:
    """Keyed pseudonym of a holder for the submission record: no personal data is stored."""
    if holder is None:
        return ""
    text = "\x1f".join(
        [
            holder.first_name,
            holder.infix or "",
            holder.last_name,
            str(holder.birth_year),
            str(holder.birth_month or ""),
            str(holder.birth_day or ""),
        ]
    )
    key = key32_cached(settings.SUBMISSION_PSEUDONYM_KEY_FILE)
    return hmac.digest(key, text.encode("utf-8"), "sha256").hex()  # one-shot: `hmac.new(…).hexdigest()` in C


@dataclass
class UciRecord:
    uci: str
    provider_identifier: str
    event_unique: str | None
    key_usage: str
    flow: str
    expiration_time: datetime
    issued_at: datetime


@dataclass
class SubmissionOutcome:
    endpoint: str
    created_at: datetime
    status: int = 200
    error_code: str = ""
    providers: list[str] = field(default_factory=list)
    event_counts: dict[str, int] = field(default_factory=dict)
    domestic_issued: bool = False
    eu_issued: int = 0
    holder_pseudonym: str = ""
    duration_ms: float = 0.0
    downstream_ms: dict[str, float] = field(default_factory=dict)
    downstream_errors: dict[str, str] = field(default_factory=dict)
    print_client: str = ""
    # The certificates the EU signer issued in this request; written to the audit trail.
    ucis: list[UciRecord] = field(default_factory=list)


def _records_statements(outcome: SubmissionOutcome) -> list[tuple[str, list[Any]]]:
    """The `INSERT`s of the UCI records, then the one of the submission record."""
    submission = {name: value for name, value in vars(outcome).items() if name != "ucis"}
    statements = [insert_statement(UciAuditRecord, vars(record)) for record in outcome.ucis]
    statements.append(insert_statement(EventSubmission, submission))
    return statements


def _records_write(outcome: SubmissionOutcome) -> None:
    """The UCI records and the submission record through Django's connection (sync): on PostgreSQL
    as one statement (`common.db.batch_statement`: data-modifying CTEs, atomic without a
    transaction); elsewhere (SQLite, the embedded default) plain statements in a transaction."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(*batch_statement(_records_statements(outcome)))
        else:
            with transaction.atomic():
                for sql, params in _records_statements(outcome):
                    cursor.execute(sql, params)


async def submission_record(*, outcome: SubmissionOutcome) -> None:
    """Append the UCIs the EU signer issued (decision e) and the submission record, in one
    transaction: on PostgreSQL on a psycopg async connection, without a thread hop, committed
    together with the records of the requests that finish at the same time
    (`common.db.run_inserts`); elsewhere through `run_db`."""
    if async_statements_supported():
        await run_inserts(_records_statements(outcome))
    else:
        await run_db(_records_write, outcome)


def submissions_purge_batch(*, before: datetime, batch_size: int = 5000) -> int:
    """Delete up to `batch_size` submission records created before `before` (retention,
    `manage.py purge_submissions`); returns how many were deleted. The UCI audit trail is kept."""
    ids = list(
        EventSubmission.objects.filter(created_at__lt=before).order_by("created_at").values_list("pk", flat=True)[:batch_size]
    )
    if not ids:
        return 0
    deleted, _ = EventSubmission.objects.filter(pk__in=ids).delete()
    return deleted


# --- Print-portal tokens (api.md §6) ---


def print_token_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def print_token_create(*, client_name: str) -> tuple[PrintToken, str]:
    """A new API token for a print-portal client; the key is returned once and stored hashed."""
    if not client_name.strip():
        raise ValueError("client name must not be empty")
    key = secrets.token_urlsafe(32)
    token = PrintToken.objects.create(client_name=client_name.strip(), key_prefix=key[:8], key_hash=print_token_hash(key))
    return token, key


def print_token_revoke(*, token: PrintToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])


_print_token_cache: dict[str, tuple[float, str | None]] = {}


def _print_client_lookup_and_touch(key_hash: str) -> str | None:
    token = PrintToken.objects.filter(key_hash=key_hash, revoked_at__isnull=True).first()
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        PrintToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.client_name


async def print_client_authenticate(*, key: str) -> str | None:
    """The client name of a valid (not revoked) print API token, or None (api.md §6); notes when
    the token was last used.

    Answers are cached for `RULE_CACHE_SECONDS`, so a revocation takes effect within seconds;
    `last_used_at` is refreshed at most once a minute."""
    key_hash = print_token_hash(key)
    cached = _print_token_cache.get(key_hash)
    if cached is not None and time.monotonic() - cached[0] < settings.RULE_CACHE_SECONDS:
        return cached[1]
    client = await run_db(_print_client_lookup_and_touch, key_hash)
    if len(_print_token_cache) > 10000:
        _print_token_cache.clear()
    _print_token_cache[key_hash] = (time.monotonic(), client)
    return client
