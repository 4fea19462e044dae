"""Reading the 32-byte keys that the settings name as files of base64 text (NaCl keys, the
session HMAC key, the pseudonym key; settings.md §1.1). One reader, so that every such file is
read by the same rule: base64 by the rule of events.md §1, exactly 32 bytes."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from common.base64rule import decode_base64


def key32_read(path: str) -> bytes:
    """The 32 key bytes in `path`; `ValueError` (without the key) when the file does not hold them."""
    raw = decode_base64(Path(path).read_text(encoding="ascii"))
    if len(raw) != 32:
        raise ValueError("must be base64 of 32 bytes")
    return raw


@lru_cache(maxsize=16)
def key32_cached(path: str) -> bytes:
    """`key32_read`, once per process (the request path reads its keys here)."""
    return key32_read(path)
