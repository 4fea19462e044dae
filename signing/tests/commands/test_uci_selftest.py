"""`manage.py uci_selftest` (rules-eu.md §9.3, §9.4)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError

from events.rules.uci import uci_is_valid
from signing.management.commands import uci_selftest
from signing.models import UciAuditRecord

pytestmark = pytest.mark.django_db


def test_selftest_passes_and_leaves_no_audit_record():
    out = StringIO()
    call_command("uci_selftest", stdout=out)
    text = out.getvalue()
    assert "UCI self-test passed" in text and "rolled back" in text
    uci = text.split("generated ")[1].split(":")[0:5]
    assert uci_is_valid(":".join(uci))
    assert not UciAuditRecord.objects.exists()


def test_an_unwritable_audit_store_fails(monkeypatch):
    def refuse(**kwargs):
        raise DatabaseError("permission denied for table")

    monkeypatch.setattr(UciAuditRecord.objects, "create", refuse)
    with pytest.raises(CommandError, match="audit store is not writable"):
        call_command("uci_selftest", stdout=StringIO())


def test_a_broken_check_character_fails(monkeypatch):
    monkeypatch.setattr(uci_selftest, "uci_is_valid", lambda uci: True)
    with pytest.raises(CommandError, match="reference vectors"):
        call_command("uci_selftest", stdout=StringIO())
