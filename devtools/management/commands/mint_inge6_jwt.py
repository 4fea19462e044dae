"""`manage.py mint_inge6_jwt --bsn ...`: print a dev Inge-6 JWT for the fake Inge-6 (development only)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.core.management.base import BaseCommand, CommandError, CommandParser

from devtools.fakes import FAKE_PERSONS, dev_inge6_jwt

TEST_BSNS = ", ".join(f"{bsn} ({first} {last.strip()})" for bsn, (first, last, _) in FAKE_PERSONS.items())


class Command(BaseCommand):
    help = (
        "Print an Inge-6-style JWT signed with the development key, for trying /app/access_tokens/ by hand "
        f"against the fake Inge-6 and fake RVIG of bin/run. Test BSNs the fake RVIG knows: {TEST_BSNS}. "
        "Any other BSN gets RVIG's 'no data found', which the service answers with 502."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bsn", required=True, help=f"one of the fictional test BSNs: {', '.join(FAKE_PERSONS)}")
        parser.add_argument("--minutes", type=int, default=60, help="Lifetime of the token.")
        parser.add_argument("--any-bsn", action="store_true", help="allow a BSN the fake RVIG does not know (to test the 502)")

    def handle(self, *args, bsn: str, minutes: int, any_bsn: bool = False, **options):
        if bsn not in FAKE_PERSONS and not any_bsn:
            raise CommandError(f"{bsn} is not a test BSN of the fake RVIG (use one of {', '.join(FAKE_PERSONS)}, or --any-bsn)")
        token = dev_inge6_jwt(bsn, now=datetime.now(UTC), lifetime=timedelta(minutes=minutes))
        self.stdout.write(token)
