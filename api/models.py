"""The API's own state: rate-limit counters shared by every worker (api.md §1)."""

from __future__ import annotations

from django.db import models


class RateLimitCounter(models.Model):
    """A fixed-window request counter per client, shared by every worker process
    (`api.ratelimit`). `client` is a keyed hash of the address, never the address."""

    client = models.CharField(max_length=64)
    window_start = models.BigIntegerField(db_index=True)
    count = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["client", "window_start"], name="ratelimit_client_window")]
