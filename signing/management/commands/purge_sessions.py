"""`manage.py purge_sessions` (api.md §4, §8): delete expired issuance sessions."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from signing.services import sessions_purge_sync


class Command(BaseCommand):
    help = (
        "Delete expired issuance sessions (stoken sessions older than EXPIRATION_TIME_IN_SECONDS). "
        "Expired sessions are already refused; this only frees space. Safe to run at any time, e.g. "
        "every few minutes from cron."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        deleted = sessions_purge_sync()
        self.stdout.write(f"deleted {deleted} expired session(s)")
