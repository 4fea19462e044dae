"""`manage.py provider_certificate` (access-tokens.md §5): add a certificate entry or change its
match mode and status, for scripted rotations."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.dateparse import parse_datetime

from events import models
from events.providers import MATCH_MODES, STATUSES, provider_certificate_set


def _instant(value: str) -> datetime:
    parsed = parse_datetime(value)
    if parsed is None or parsed.tzinfo is None:
        raise CommandError("--retired-at must be an ISO-8601 instant with a time zone, e.g. 2024-05-01T00:00:00Z")
    return parsed


class Command(BaseCommand):
    help = (
        "Add a certificate entry (one PEM leaf certificate) to a provider, or change the match mode and "
        "status of the entry with the same certificate. A retired entry needs --retired-at; a revoked "
        "entry cannot be moved back. Example: provider_certificate ZZZ --pem old.pem --status retired "
        "--retired-at 2024-05-01T00:00:00Z"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("identifier", help="provider identifier (case-sensitive)")
        parser.add_argument("--pem", required=True, help="file with the PEM certificate")
        parser.add_argument("--match", choices=MATCH_MODES, help="pinned (byte-equal) or identity (CN + AKI)")
        parser.add_argument("--status", choices=STATUSES, help="active, retired or revoked")
        parser.add_argument("--retired-at", help="retirement instant (ISO-8601) for --status retired")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            pem = Path(options["pem"]).read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"cannot read {options['pem']}: {type(exc).__name__}") from None
        retired_at = _instant(options["retired_at"]) if options["retired_at"] else None
        try:
            cert = provider_certificate_set(
                identifier=options["identifier"],
                pem=pem,
                match=options["match"],
                status=options["status"],
                retired_at=retired_at,
            )
        except models.Provider.DoesNotExist:
            raise CommandError(f"no provider with identifier {options['identifier']!r}") from None
        except ValueError as exc:
            raise CommandError(f"certificate entry not changed: {exc}") from None
        retired = f", retired at {cert.retired_at.isoformat()}" if cert.retired_at else ""
        self.stdout.write(
            self.style.SUCCESS(
                f"{cert.provider.identifier}: certificate {cert.fingerprint_sha256} (CN {cert.subject_common_name or '-'}) "
                f"is {cert.match}, {cert.status}{retired}"
            )
        )
