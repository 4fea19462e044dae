import pytest

from common.db import async_pools_close


@pytest.fixture(autouse=True)
async def async_database_pool_closed():
    """Close the async database pool a test's requests opened on its event loop (the submission
    record is written on it, `common.db.run_statement`)."""
    yield
    await async_pools_close()
