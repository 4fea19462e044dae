"""`manage.py mint_inge6_jwt --bsn ...`: print a dev Inge-6 JWT for the fake Inge-6 (development only)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.core.management.base import BaseCommand, CommandParser

from devtools.fakes import dev_inge6_jwt


class Command(BaseCommand):
    help = "Print an Inge-6-style JWT signed with the development key, for trying /app/access_tokens/ by hand."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bsn", required=True, help="A fictional test BSN known to the fake RVIG.")
        parser.add_argument("--minutes", type=int, default=60, help="Lifetime of the token.")

    def handle(self, *args, bsn: str, minutes: int, **options):
        token = dev_inge6_jwt(bsn, now=datetime.now(UTC), lifetime=timedelta(minutes=minutes))
        self.stdout.write(token)
