"""`manage.py purge_sessions` and `purge_submissions` (events/management/commands)."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from signing.models import EventSubmission, IssuanceSession, UciAuditRecord

pytestmark = pytest.mark.django_db


def test_purge_sessions_deletes_only_expired_sessions():
    now = timezone.now()
    IssuanceSession.objects.create(key="old", value="x", expires_at=now - timedelta(seconds=1))
    IssuanceSession.objects.create(key="live", value="x", expires_at=now + timedelta(seconds=60))
    out = StringIO()
    call_command("purge_sessions", stdout=out)
    assert "deleted 1 expired session(s)" in out.getvalue()
    assert list(IssuanceSession.objects.values_list("key", flat=True)) == ["live"]


def _submissions(days_ago: int, count: int) -> None:
    created = timezone.now() - timedelta(days=days_ago)
    EventSubmission.objects.bulk_create(
        [EventSubmission(created_at=created, endpoint="credentials", status=200) for _ in range(count)]
    )


def test_purge_submissions_deletes_old_records_in_batches_with_progress():
    _submissions(40, 5)
    _submissions(10, 2)
    now = timezone.now()
    UciAuditRecord.objects.create(
        uci="URN:UCI:01:NL:AAAAAAAAAAAAAAAAAAAA42#A",
        provider_identifier="ZZZ",
        key_usage="vaccination",
        flow="app",
        expiration_time=now,
        issued_at=now - timedelta(days=400),
    )
    out = StringIO()
    call_command("purge_submissions", "--older-than", "30", "--batch-size", "2", stdout=out)
    lines = out.getvalue().splitlines()
    assert [line.strip() for line in lines[1:4]] == ["2 deleted", "4 deleted", "5 deleted"]
    assert "deleted 5 submission record(s) older than 30 days" in lines[-1]
    assert EventSubmission.objects.count() == 2
    assert UciAuditRecord.objects.count() == 1


def test_purge_submissions_defaults_to_the_retention_setting(settings):
    settings.SUBMISSION_RETENTION_DAYS = 5
    _submissions(6, 1)
    _submissions(4, 1)
    call_command("purge_submissions", stdout=StringIO())
    assert EventSubmission.objects.count() == 1


def test_purge_submissions_refuses_zero_days():
    with pytest.raises(CommandError, match="at least 1 day"):
        call_command("purge_submissions", "--older-than", "0")
