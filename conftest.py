"""Suite-wide fixtures."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session", autouse=True)
def _database_pool_closed_at_end(request):
    """Close the psycopg pool before pytest-django drops the test database: connections that
    worker threads returned to the pool would otherwise keep the database busy."""
    yield
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        if getattr(connection, "pool", None) is not None:
            connection.close_pool()
