import pytest

from common.http import clients_close


@pytest.fixture(autouse=True)
async def outbound_clients_closed():
    """Close the pooled outbound clients a test opened on its event loop (e.g. through /health)."""
    yield
    await clients_close()
