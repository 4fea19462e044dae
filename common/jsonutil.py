"""Compact JSON encoding shared by outbound requests and responses."""

from __future__ import annotations

import json
from typing import Any


def dumps_bytes(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
