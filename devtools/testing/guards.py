"""Digests of framework source code, for the tests that guard the project's deliberate framework
overrides (`GUARDED_SOURCES` in api/fastpath.py and common/db.py)."""

from __future__ import annotations

import hashlib
import importlib
import inspect


def framework_object(dotted: str) -> object:
    """`package.module.Class.attribute` → the object (the longest importable module prefix)."""
    parts = dotted.split(".")
    for split in range(len(parts) - 1, 0, -1):
        try:
            target: object = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for attribute in parts[split:]:
            target = getattr(target, attribute)
        return target
    raise ImportError(dotted)


def source_digest(dotted: str) -> str:
    """SHA-256 of the source of the object named `dotted`, as `inspect.getsource` gives it."""
    return hashlib.sha256(inspect.getsource(framework_object(dotted)).encode()).hexdigest()  # type: ignore[arg-type]
