"""Reads of the issuance side: the print-portal client behind an API token (api.md §6)."""

from __future__ import annotations

import time

from django.conf import settings
from django.utils import timezone

from common.db import run_db
from signing.models import PrintToken
from signing.services import print_token_hash

_print_token_cache: dict[str, tuple[float, str | None]] = {}


def _print_client_lookup(key_hash: str) -> str | None:
    token = PrintToken.objects.filter(key_hash=key_hash, revoked_at__isnull=True).first()
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        PrintToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.client_name


async def print_client_get(*, key: str) -> str | None:
    """The client name of a valid (not revoked) print API token, or None (api.md §6).

    Answers are cached for `RULE_CACHE_SECONDS`, so a revocation takes effect within seconds;
    `last_used_at` is refreshed at most once a minute."""
    key_hash = print_token_hash(key)
    cached = _print_token_cache.get(key_hash)
    if cached is not None and time.monotonic() - cached[0] < settings.RULE_CACHE_SECONDS:
        return cached[1]
    client = await run_db(_print_client_lookup, key_hash)
    if len(_print_token_cache) > 10000:
        _print_token_cache.clear()
    _print_token_cache[key_hash] = (time.monotonic(), client)
    return client
