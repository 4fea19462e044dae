"""Structural validation (§4.1, §4.2, §5.1, §6): one result against its shape; 422."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from events.decoding.payloads.fields import validate
from events.decoding.payloads.shapes import STATUS_PENDING, PendingResultV2, PendingResultV3, ResultV2, ResultV3


def _is_pending(document: Mapping[str, Any]) -> bool:
    """A result whose `status` is exactly `"pending"` (§6)."""
    return document.get("status") == STATUS_PENDING


def structure_v3(document: Mapping[str, Any], *, loc_prefix: Sequence[Any]) -> PendingResultV3:
    """A 3.0 result checked against `ResultV3`, or only `PendingResultV3` when pending (§6); 422."""
    return validate(PendingResultV3 if _is_pending(document) else ResultV3, document, loc_prefix=loc_prefix)


def structure_v2(document: Mapping[str, Any], *, loc_prefix: Sequence[Any]) -> PendingResultV2:
    """A 2.0 result checked against `ResultV2`, or only `PendingResultV2` when pending (§6); 422."""
    return validate(PendingResultV2 if _is_pending(document) else ResultV2, document, loc_prefix=loc_prefix)
