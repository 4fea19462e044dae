"""Counting the statements the service sends on psycopg's async cursors (tests of the group
commit, `common.db.run_inserts`)."""

from __future__ import annotations

from typing import Any

import psycopg


def statements_counted(monkeypatch: Any) -> list[str]:
    """The text of every statement executed on an `AsyncCursor` (client- or server-side binding)
    from now on, in order; the statements still run."""
    executed: list[str] = []
    execute = psycopg.AsyncCursor.execute

    async def counted(cursor: Any, query: Any, params: Any = None, **kwargs: Any) -> Any:
        executed.append(str(query))
        return await execute(cursor, query, params, **kwargs)

    monkeypatch.setattr(psycopg.AsyncCursor, "execute", counted)
    return executed
