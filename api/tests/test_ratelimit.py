"""The per-client rate limit (api/ratelimit.py): pure helpers, the middleware in-process,
and the limit shared between this process and a uvicorn subprocess on the same database."""

from __future__ import annotations

import httpx
import pytest
from asgiref.sync import sync_to_async
from django.db import connection

from api.ratelimit import client_address, client_key, rate_limited_path, window_at
from devtools.testing.asgi_client import AsgiTestClient
from devtools.testing.service import database_url, start_service


def test_client_address_is_the_peer_unless_a_proxy_is_trusted():
    meta = {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": "6.6.6.6, 192.0.2.7"}
    assert client_address(meta, trust_forwarded_for=False) == "10.0.0.1"
    # The hop the trusted proxy appended, not the one the client made up.
    assert client_address(meta, trust_forwarded_for=True) == "192.0.2.7"
    assert client_address({"REMOTE_ADDR": "10.0.0.1"}, trust_forwarded_for=True) == "10.0.0.1"
    assert client_address({}, trust_forwarded_for=False) == "unknown"


def test_client_key_does_not_store_the_address():
    key = client_key("192.0.2.7")
    assert "192.0.2.7" not in key and len(key) == 32 and key != client_key("192.0.2.8")


def test_fixed_windows_and_retry_after():
    window = window_at(1000.5, 60)
    assert window.start == 960
    assert window.retry_after(1000.5) == 20
    assert window.retry_after(1019.99) == 1
    assert window_at(5.0, 0).seconds == 1


@pytest.mark.parametrize(
    "path, limited",
    [
        ("/app/credentials/", True),
        ("/app/print/", True),
        ("/documentation/V2Event/", True),
        ("/health", False),
        ("/", False),
        ("/admin/", False),
        ("/openapi.json", False),
    ],
)
def test_only_the_public_api_is_limited(path, limited):
    assert rate_limited_path(path) is limited


async def post_v2(client: AsgiTestClient):
    return await client.post("/documentation/V2Event/", {}, content_type="application/json")


@pytest.mark.django_db(transaction=True)
async def test_over_the_limit_is_429_with_retry_after(settings):
    settings.RATE_LIMIT_REQUESTS = 3
    settings.RATE_LIMIT_WINDOW_SECONDS = 3600
    client = AsgiTestClient(client_address="203.0.113.5")
    statuses = [(await post_v2(client)).status_code for _ in range(3)]
    assert statuses == [422, 422, 422]
    limited = await post_v2(client)
    assert limited.status_code == 429
    assert limited.json() == {"detail": "Too many requests; try again later.", "code": "rate_limited"}
    assert 1 <= int(limited["Retry-After"]) <= 3600
    assert limited["X-Request-Id"]
    # Other clients and the unlimited paths are not affected.
    assert (await post_v2(AsgiTestClient(client_address="203.0.113.6"))).status_code == 422
    assert (await client.get("/health")).status_code == 200
    assert (await client.get("/openapi.json")).status_code == 200

    from api.models import RateLimitCounter

    rows = await sync_to_async(lambda: list(RateLimitCounter.objects.values_list("client", "count")))()
    assert sorted(count for _, count in rows) == [1, 4]
    assert all("203.0.113" not in client_hash for client_hash, _ in rows)


@pytest.mark.django_db(transaction=True)
async def test_zero_disables_the_limit(settings):
    settings.RATE_LIMIT_REQUESTS = 0
    client = AsgiTestClient(client_address="203.0.113.9")
    assert [(await post_v2(client)).status_code for _ in range(5)] == [422] * 5

    from api.models import RateLimitCounter

    assert await sync_to_async(RateLimitCounter.objects.count)() == 0


@pytest.mark.django_db(transaction=True)
async def test_old_windows_are_purged(settings, monkeypatch):
    from api import ratelimit
    from api.models import RateLimitCounter

    settings.RATE_LIMIT_REQUESTS = 100
    await sync_to_async(RateLimitCounter.objects.create)(client="old", window_start=0, count=5)
    monkeypatch.setattr(ratelimit, "PURGE_PROBABILITY", 1.0)
    await post_v2(AsgiTestClient(client_address="203.0.113.10"))
    assert not await sync_to_async(RateLimitCounter.objects.filter(client="old").exists)()


@pytest.mark.django_db(transaction=True)
async def test_the_limit_holds_across_processes(settings):
    """This process and a uvicorn worker count against one limit in the shared database."""
    settings.RATE_LIMIT_REQUESTS = 4
    settings.RATE_LIMIT_WINDOW_SECONDS = 3600
    service = start_service(
        {
            "DATABASE_URL": database_url(connection.settings_dict),
            "RATE_LIMIT_REQUESTS": "4",
            "RATE_LIMIT_WINDOW_SECONDS": "3600",
        }
    )
    try:
        local = AsgiTestClient()  # 127.0.0.1, like the subprocess's peer address
        url = service.url("http", "/documentation/V2Event/")
        async with httpx.AsyncClient(timeout=10) as remote:
            statuses = [
                (await post_v2(local)).status_code,
                (await remote.post(url, json={})).status_code,
                (await post_v2(local)).status_code,
                (await remote.post(url, json={})).status_code,
            ]
            assert statuses == [422, 422, 422, 422]
            over_remote = await remote.post(url, json={})
            over_local = await post_v2(local)
        assert over_remote.status_code == 429 and over_remote.json()["code"] == "rate_limited"
        assert over_remote.headers["Retry-After"]
        assert over_local.status_code == 429
    finally:
        assert service.stop() == 0
