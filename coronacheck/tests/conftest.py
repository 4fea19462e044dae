import pytest

from common.db import async_pools_close
from common.http import clients_close


@pytest.fixture(autouse=True)
async def outbound_clients_closed():
    """Close the pooled outbound clients and the async database pool a test opened on its event
    loop (e.g. through /health, or a print request)."""
    yield
    await clients_close()
    await async_pools_close()
