"""Suite-wide fixtures."""

from __future__ import annotations

import pytest

pytest_plugins = ["coronacheck.testing.logcheck"]


@pytest.fixture(scope="session", autouse=True)
def _database_pool_closed_at_end(django_db_setup, django_db_blocker):
    """Before pytest-django drops the test database, close the psycopg pool and end the sessions
    that worker threads of async tests still hold, which would otherwise keep the database busy."""
    yield
    from django.db import connection
    from django.db.backends.postgresql.base import DatabaseWrapper

    for pool in list(getattr(DatabaseWrapper, "_connection_pools", {}).values()):
        pool.close()
    getattr(DatabaseWrapper, "_connection_pools", {}).clear()
    if connection.vendor == "postgresql":
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
