"""`manage.py purge_submissions --older-than <days>`: retention of the submission records."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from signing.services import submissions_purge_batch


class Command(BaseCommand):
    help = (
        "Delete submission records (the dashboard's data) older than N days; default the "
        "SUBMISSION_RETENTION_DAYS setting. Deletes in batches and shows progress. The UCI audit "
        "trail is never deleted by this command."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than",
            type=int,
            default=None,
            metavar="DAYS",
            help=f"age in days (default SUBMISSION_RETENTION_DAYS, now {settings.SUBMISSION_RETENTION_DAYS})",
        )
        parser.add_argument("--batch-size", type=int, default=5000, help="records per transaction (default 5000)")

    def handle(self, *args: Any, **options: Any) -> None:
        days = options["older_than"] if options["older_than"] is not None else settings.SUBMISSION_RETENTION_DAYS
        if days < 1:
            raise CommandError("--older-than must be at least 1 day")
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1")
        before = timezone.now() - timedelta(days=days)
        self.stdout.write(f"deleting submission records created before {before:%Y-%m-%d %H:%M} UTC …")
        total = 0
        while deleted := submissions_purge_batch(before=before, batch_size=options["batch_size"]):
            total += deleted
            self.stdout.write(f"  {total} deleted")
            self.stdout.flush()
        self.stdout.write(self.style.SUCCESS(f"deleted {total} submission record(s) older than {days} days"))
