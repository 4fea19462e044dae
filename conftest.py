"""Suite-wide fixtures."""

from __future__ import annotations

import psycopg
import pytest

pytest_plugins = ["devtools.testing.logcheck", "devtools.testing.api_fixtures"]


@pytest.fixture(scope="session", autouse=True)
def _database_pool_closed_at_end(django_db_setup):
    """Before pytest-django drops the test database, close the psycopg pool and end the sessions
    that worker threads of async tests still hold, which would otherwise keep the database busy."""
    yield
    from django.db import connection
    from django.db.backends.postgresql.base import DatabaseWrapper

    pools = getattr(DatabaseWrapper, "_connection_pools", {})
    if connection.vendor != "postgresql" or not pools:
        return
    for pool in list(pools.values()):
        pool.close()
    pools.clear()
    database = connection.settings_dict["NAME"]
    with psycopg.connect(**{**connection.get_connection_params(), "dbname": "postgres"}, autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [database],
        )
