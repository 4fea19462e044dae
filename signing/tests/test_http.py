"""The failure classification of `signing.http` on the aiohttp transport (signers.md §1): only a
failure where nothing was sent may be retried; timeouts are 504, everything else 503."""

from __future__ import annotations

import aiohttp
import httpx
import pytest

from signing.http import NOTHING_SENT, TIMEOUT, UNAVAILABLE, failure_kind, map_transport_error


def mapped(cause: Exception, as_: type[httpx.HTTPError]) -> httpx.HTTPError:
    """What `httpx_aiohttp` raises: its own (coarse) httpx class, caused by the aiohttp one."""
    try:
        raise as_("failed") from cause
    except httpx.HTTPError as exc:
        return exc


REFUSED = aiohttp.ClientConnectorError(None, ConnectionRefusedError(111, "refused"))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("exc", "kind", "status"),
    [
        (mapped(REFUSED, httpx.ConnectTimeout), NOTHING_SENT, 503),
        (mapped(aiohttp.ConnectionTimeoutError("connect"), httpx.ConnectTimeout), NOTHING_SENT, 504),
        (mapped(aiohttp.SocketTimeoutError("read"), httpx.ReadTimeout), TIMEOUT, 504),
        (mapped(aiohttp.ServerTimeoutError("read"), httpx.ConnectTimeout), TIMEOUT, 504),
        (mapped(aiohttp.ServerDisconnectedError(), httpx.ConnectTimeout), UNAVAILABLE, 503),
        (mapped(aiohttp.ClientOSError(104, "reset"), httpx.ConnectTimeout), UNAVAILABLE, 503),
        (mapped(aiohttp.ClientPayloadError("truncated"), httpx.ReadError), UNAVAILABLE, 503),
        (httpx.ConnectError("refused"), NOTHING_SENT, 503),
        (httpx.ReadTimeout("slow"), TIMEOUT, 504),
        (httpx.RemoteProtocolError("bad"), UNAVAILABLE, 503),
    ],
)
def test_failures_are_classified_by_the_aiohttp_cause(exc, kind, status):
    assert failure_kind(exc) == kind
    assert map_transport_error(exc).status == status
