"""`manage.py uci_selftest` (rules-eu.md §9.3, §9.4; replaces upstream's `/uci_test`)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, transaction
from django.utils import timezone

from events.rules.uci import generate_uci, luhn_mod_n_check_character, uci_is_valid
from signing.models import UciAuditRecord

# rules-eu.md §9.2: a well-formed UCI with its check character, and the same with a wrong one.
KNOWN_VALID = "URN:UCI:01:NL:JLXN4P4ONJH7VMELWYUT42#6"
KNOWN_INVALID = "URN:UCI:01:NL:JLXN4P4ONJH7VMELWYUT42#7"
SELFTEST_PROVIDER = "uci_selftest"


class _Rollback(Exception):
    pass


def audit_store_writable(uci: str) -> None:
    """Insert an audit record inside a transaction that is always rolled back; raises
    DatabaseError if the store cannot be written, CommandError if the record is left behind."""
    now = timezone.now()
    try:
        with transaction.atomic():
            UciAuditRecord.objects.create(
                uci=uci,
                provider_identifier=SELFTEST_PROVIDER,
                event_unique=None,
                key_usage="vaccination",
                flow=UciAuditRecord.Flow.APP,
                expiration_time=now,
                issued_at=now,
            )
            raise _Rollback
    except _Rollback:
        pass
    if UciAuditRecord.objects.filter(uci=uci).exists():
        raise CommandError("the self-test record was not rolled back")


class Command(BaseCommand):
    help = (
        "Self-test of the UCI (the unique certificate identifier in every EU DCC): generates a UCI, "
        "verifies its Luhn mod 38 check character (and the spec's reference vectors), and checks that the "
        "UCI audit trail can be written, inside a transaction that is rolled back so no record is left. "
        "Exits with status 1 on any failure."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        if not uci_is_valid(KNOWN_VALID) or uci_is_valid(KNOWN_INVALID):
            raise CommandError("the check-character algorithm fails the reference vectors of rules-eu.md §9.2")
        self.stdout.write("reference vectors: ok")
        uci = generate_uci()
        body, check = uci.rsplit("#", 1)
        if len(uci) != 38 or not uci_is_valid(uci) or luhn_mod_n_check_character(body) != check:
            raise CommandError(f"generated UCI {uci} does not verify")
        self.stdout.write(f"generated {uci}: check character ok")
        try:
            audit_store_writable(uci)
        except DatabaseError as exc:
            raise CommandError(f"the UCI audit store is not writable ({type(exc).__name__})") from None
        self.stdout.write("audit store writable: ok (the test record was rolled back)")
        self.stdout.write(self.style.SUCCESS("UCI self-test passed"))
