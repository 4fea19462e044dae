"""Artificial delays and fault injection of the reference signers (over real HTTP)."""

from __future__ import annotations

import time

import httpx
import pytest

EU_BODY = {"keyUsage": "vaccination", "expirationTime": "2031-01-01T00:00:00Z", "dcc": {}}
DOMESTIC = ("/prepare_issue", {"credentialAmount": 1})


@pytest.fixture
def fault(signers):
    """Set a fault on both signers for one test; always reset afterwards."""

    def set_fault(mode: str, delay_ms: int = 0) -> None:
        for url in (signers.eu_url, signers.domestic_url):
            signers.behave(url, fault=mode, delay_ms=delay_ms)

    yield set_fault
    set_fault("none")


def call_both(signers, timeout: float = 5.0) -> list[httpx.Response]:
    return [
        httpx.post(f"{signers.eu_url}/get_credential", json=EU_BODY, timeout=timeout),
        httpx.post(f"{signers.domestic_url}{DOMESTIC[0]}", json=DOMESTIC[1], timeout=timeout),
    ]


@pytest.mark.parametrize("mode", ["500", "503"])
def test_status_faults(signers, fault, mode):
    fault(mode)
    assert [response.status_code for response in call_both(signers)] == [int(mode)] * 2


def test_garbage_is_not_json(signers, fault):
    fault("garbage")
    for response in call_both(signers):
        assert response.status_code == 200
        with pytest.raises(ValueError):
            response.json()


def test_wrong_shape(signers, fault):
    fault("wrong-shape")
    assert [response.json() for response in call_both(signers)] == [{"unexpected": True}] * 2


def test_close_mid_body(signers, fault):
    fault("close")
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.post(f"{signers.eu_url}/get_credential", json=EU_BODY)


def test_hang_until_the_client_times_out(signers, fault):
    fault("hang")
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(f"{signers.domestic_url}/issue", json={}, timeout=httpx.Timeout(5.0, read=0.3))


def test_delay(signers, fault):
    fault("none", delay_ms=300)
    started = time.monotonic()
    response = httpx.post(f"{signers.domestic_url}{DOMESTIC[0]}", json=DOMESTIC[1])
    assert response.status_code == 200
    assert time.monotonic() - started >= 0.3


def test_health_and_public_keys_are_not_affected(signers, fault):
    fault("503")
    assert httpx.get(f"{signers.eu_url}/health").status_code == 200
    assert httpx.get(f"{signers.eu_url}/public_keys").status_code == 200
    assert httpx.get(f"{signers.domestic_url}/stats").status_code == 200


def test_unknown_fault_mode_is_refused(signers):
    response = httpx.post(f"{signers.eu_url}/_reference/behaviour", json={"fault": "explode"})
    assert response.status_code == 400
