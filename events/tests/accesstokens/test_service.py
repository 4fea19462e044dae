"""The whole access-token flow (events/accesstokens/service.py) against the fake Inge-6 and the
fake RVIG over real loopback HTTP, with every error path (access-tokens.md §1, signers.md §4–§5)."""

from __future__ import annotations

import base64
import json
import logging
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest
from aiohttp import web
from django.conf import settings as django_settings
from nacl.public import Box, PrivateKey, PublicKey

from common.errors import ServiceError, UpstreamError
from common.http import clients_close
from common.logging import JsonFormatter
from devtools.fakes import (
    FAKE_PERSONS,
    INGE6_PATH,
    RVIG_PATH,
    FakeControls,
    dev_inge6_jwt,
    inge6_app_from_settings,
    mint_inge6_jwt,
    rvig_app,
)
from events.accesstokens.identity import identity_hash
from events.accesstokens.rvig import RvigHolder, vraag_request
from events.accesstokens.service import access_tokens_issue
from events.models import Provider

from .conftest import UPSTREAM_KEYS

pytestmark = pytest.mark.django_db(transaction=True)

BSN = "999990743"  # the fake's person with diacritics, an unknown birth date and trailing whitespace


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def start(app: web.Application) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, site._server.sockets[0].getsockname()[1]


@pytest.fixture
async def fakes(settings):
    controls = FakeControls(delay=1.0)
    inge6_runner, inge6_port = await start(inge6_app_from_settings(controls))
    rvig_runner, rvig_port = await start(rvig_app(controls=controls))
    settings.INGE6_BSN_RETRIEVAL_URL = f"http://127.0.0.1:{inge6_port}{INGE6_PATH}"
    settings.RVIG_URL = f"http://127.0.0.1:{rvig_port}{RVIG_PATH}"
    settings.HTTP_READ_TIMEOUT = 0.3
    settings.INGE6_MOCK_MODE = False
    yield controls
    await clients_close()
    await inge6_runner.cleanup()
    await rvig_runner.cleanup()


def nacl_pair() -> tuple[str, str]:
    key = PrivateKey.generate()
    return base64.b64encode(bytes(key.public_key)).decode(), base64.b64encode(bytes(key)).decode()


async def provider_create(identifier: str, *, position: int | None = None, tokens_enabled: bool = True) -> Provider:
    public, private = nacl_pair()
    return await Provider.objects.acreate(
        identifier=identifier,
        position=position,
        unomi_url=f"https://{identifier.lower()}.example/unomi",
        event_url=f"https://{identifier.lower()}.example/events",
        identity_hash_secret="s" * 32 + identifier,
        bsn_public_key=public,
        bsn_private_key=private,
        tokens_enabled=tokens_enabled,
    )


@pytest.fixture
async def providers():
    return [
        await provider_create("b", position=None),
        await provider_create("ZZZ", position=2),
        await provider_create("a", position=None),
        await provider_create("B", position=None),
        await provider_create("TEST", position=1, tokens_enabled=False),
        await provider_create("YYY", position=2),
    ]


def now() -> datetime:
    return datetime.now(UTC)


def bearer(bsn: str = BSN) -> str:
    return f"Bearer {dev_inge6_jwt(bsn, now=now())}"


def public_key() -> bytes:
    return Path(django_settings.DYNAMIC_FLOW_JWT_PUBLIC_KEY_FILENAME).read_bytes()


def decode(token: str, audience: str) -> dict:
    return jwt.decode(
        token, public_key(), algorithms=["RS256"], audience=audience, issuer=django_settings.IDENTITY_HASH_JWT_ISSUER_CLAIM
    )


async def test_tokens_for_every_enabled_provider_in_registry_order(fakes, providers):
    moment = now()
    result = await access_tokens_issue(authorization=bearer(), now=moment)
    assert [item["provider_identifier"] for item in result] == ["YYY", "ZZZ", "B", "a", "b"]
    by_id = {p.identifier: p for p in providers}
    first, last, birth = FAKE_PERSONS[BSN]
    assert birth == "00000000"
    holder = RvigHolder(first, last, "1900-XX-XX")
    for item in result:
        provider = by_id[item["provider_identifier"]]
        unomi = decode(item["unomi"], provider.unomi_url)
        event = decode(item["event"], provider.event_url)
        expected_hash = identity_hash(provider.identity_hash_secret, BSN, holder)
        assert unomi["identityHash"] == event["identityHash"] == expected_hash
        assert unomi["iat"] == event["iat"] == int(moment.timestamp())
        assert event["exp"] - event["iat"] == django_settings.IDENTITY_HASH_JWT_VALIDITY_DURATION_SECONDS
        box = Box(PrivateKey(base64.b64decode(provider.bsn_private_key)), PublicKey(base64.b64decode(provider.bsn_public_key)))
        assert box.decrypt(bytes.fromhex(event["bsn"]), bytes.fromhex(event["nonce"])) == BSN.encode()
    nonces = {decode(i["event"], by_id[i["provider_identifier"]].event_url)["nonce"] for i in result}
    assert len(nonces) == len(result)  # fresh per provider


async def test_no_providers_gives_an_empty_list(fakes):
    assert await access_tokens_issue(authorization=bearer(), now=now()) == []


async def test_outbound_requests_carry_exactly_the_specified_headers(fakes, providers, settings):
    settings.RVIG_USERNAME, settings.RVIG_PASSWORD = "user", "pass"
    header = bearer("999995571")
    await access_tokens_issue(authorization=header, now=now())
    inge6, rvig = fakes.requests
    assert inge6["system"] == "inge6" and rvig["system"] == "rvig"
    assert inge6["headers"]["Authorization"] == header
    assert "Content-Type" not in inge6["headers"]
    assert inge6["body"] == b""
    assert rvig["headers"]["Content-Type"] == "text/xml; charset=utf-8"
    assert rvig["headers"]["SOAPAction"] == '""'
    assert rvig["headers"]["Authorization"] == "Basic " + base64.b64encode(b"user:pass").decode()
    assert rvig["body"] == vraag_request("999995571")


async def test_no_basic_auth_without_username(fakes, providers, settings):
    settings.RVIG_USERNAME = ""
    await access_tokens_issue(authorization=bearer(), now=now())
    assert "Authorization" not in fakes.requests[1]["headers"]


async def test_mock_mode_skips_inge6(fakes, providers, settings):
    settings.INGE6_MOCK_MODE, settings.INGE6_MOCK_MODE_BSN, settings.ALLOW_MOCKS = True, "999995571", True
    fakes.inge6 = 500
    result = await access_tokens_issue(authorization="Bearer not-a-jwt", now=now())
    assert len(result) == 5
    assert [r["system"] for r in fakes.requests] == ["rvig"]


async def test_mock_mode_is_ignored_without_allow_mocks(fakes, providers, settings):
    settings.INGE6_MOCK_MODE, settings.INGE6_MOCK_MODE_BSN, settings.ALLOW_MOCKS = True, "999995571", False
    with pytest.raises(UpstreamError) as excinfo:
        await access_tokens_issue(authorization="Bearer not-a-jwt", now=now())
    assert excinfo.value.body() == {"detail": ["Invalid Authorization Token"]}
    assert fakes.requests == []


# --- error paths ------------------------------------------------------------------------------------


def other_key_jwt() -> str:
    return mint_inge6_jwt(
        bsn=BSN,
        private_key_pem=(UPSTREAM_KEYS / "inge6_jwt_private.key").read_bytes(),
        audience=django_settings.INGE4_JWT_AUDIENCE[0],
        issuer="",
        now=now(),
    )


def dev_key() -> bytes:
    return (Path(django_settings.SECRETS_FOLDER) / "inge6_jwt_private.key").read_bytes()


def dev_jwt(claims: dict) -> str:
    return jwt.encode(claims, dev_key(), algorithm="RS256")


def claims(**overrides) -> dict:
    ts = int(now().timestamp())
    base = {"aud": django_settings.INGE4_JWT_AUDIENCE[0], "bsn": BSN, "iat": ts, "exp": ts + 600}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


@pytest.mark.parametrize("header", [None, "", "Bearer", "Basic abc", "bearer x"])
async def test_bad_header_is_invalid_token_type(fakes, header):
    with pytest.raises(UpstreamError) as excinfo:
        await access_tokens_issue(authorization=header, now=now())
    assert excinfo.value.status == 401
    assert excinfo.value.body() == {"detail": ["Invalid Authorization Token type"]}
    assert fakes.requests == []


@pytest.mark.parametrize(
    "make_token",
    [
        other_key_jwt,
        lambda: dev_jwt(claims(exp=int(now().timestamp()) - 5)),  # expired
        lambda: dev_jwt(claims(exp=None)),  # no exp
        lambda: dev_jwt(claims(aud="someone-else")),  # wrong audience
        lambda: "not.a.jwt",
    ],
    ids=["wrong-key", "expired", "no-exp", "wrong-aud", "garbage"],
)
async def test_bad_jwt_is_invalid_token(fakes, make_token):
    with pytest.raises(UpstreamError) as excinfo:
        await access_tokens_issue(authorization=f"Bearer {make_token()}", now=now())
    assert excinfo.value.status == 401
    assert excinfo.value.body() == {"detail": ["Invalid Authorization Token"]}
    assert fakes.requests == []


async def test_wrong_issuer_is_invalid_token(fakes, settings):
    settings.INGE6_JWT_ISSUER = "https://inge6.example"
    for token in (dev_jwt(claims(iss="https://evil.example")), dev_jwt(claims())):
        with pytest.raises(UpstreamError) as excinfo:
            await access_tokens_issue(authorization=f"Bearer {token}", now=now())
        assert excinfo.value.body() == {"detail": ["Invalid Authorization Token"]}
    assert await access_tokens_issue(authorization=f"Bearer {dev_jwt(claims(iss='https://inge6.example'))}", now=now()) == []


@pytest.mark.parametrize("status", [401, 403])
async def test_inge6_refusal_is_invalid_token(fakes, status):
    fakes.inge6 = status
    with pytest.raises(UpstreamError) as excinfo:
        await access_tokens_issue(authorization=bearer(), now=now())
    assert excinfo.value.status == 401
    assert excinfo.value.body() == {"detail": ["Invalid Authorization Token"]}


@pytest.mark.parametrize(
    ("inge6", "rvig", "status", "code"),
    [
        (500, "ok", 502, "downstream_bad_response"),
        (404, "ok", 502, "downstream_bad_response"),
        (503, "ok", 503, "downstream_unavailable"),
        ("garbage", "ok", 502, "downstream_bad_response"),
        ("slow", "ok", 504, "downstream_timeout"),
        ("ok", "code1", 502, "downstream_bad_response"),
        ("ok", "malformed", 502, "downstream_bad_response"),
        ("ok", "fault", 502, "downstream_bad_response"),
        ("ok", 500, 502, "downstream_bad_response"),
        ("ok", 429, 503, "downstream_unavailable"),
        ("ok", "slow", 504, "downstream_timeout"),
    ],
)
async def test_downstream_failures_are_mapped(fakes, providers, inge6, rvig, status, code):
    fakes.inge6, fakes.rvig = inge6, rvig
    with pytest.raises(ServiceError) as excinfo:
        await access_tokens_issue(authorization=bearer(), now=now())
    assert (excinfo.value.status, excinfo.value.code) == (status, code)


async def test_unknown_person_at_rvig_code_33_is_bad_response(fakes, providers):
    with pytest.raises(ServiceError) as excinfo:
        await access_tokens_issue(authorization=bearer("123456782"), now=now())
    assert (excinfo.value.status, excinfo.value.code) == (502, "downstream_bad_response")


@pytest.mark.parametrize("target", ["inge6", "rvig"])
async def test_connection_refused_is_unavailable(fakes, settings, target):
    url = f"http://127.0.0.1:{free_port()}/nothing"
    if target == "inge6":
        settings.INGE6_BSN_RETRIEVAL_URL = url
    else:
        settings.RVIG_URL = url
    with pytest.raises(ServiceError) as excinfo:
        await access_tokens_issue(authorization=bearer(), now=now())
    assert (excinfo.value.status, excinfo.value.code) == (503, "downstream_unavailable")


# --- no personal data in the logs ---------------------------------------------------------------------


async def test_logs_hold_no_personal_data_tokens_or_bodies(fakes, providers, caplog, settings):
    caplog.set_level(logging.DEBUG)
    for name in ("events", "common", "signing", "api", "coronacheck", "django", "aiohttp"):
        caplog.set_level(logging.DEBUG, logger=name)
    header = bearer()
    first, last, _ = FAKE_PERSONS[BSN]
    secrets_seen = [BSN, first, last.strip(), "1900-XX-XX", "00000000", header.split()[1], "zoekwaarde", "vraag"]
    results = [await access_tokens_issue(authorization=header, now=now())]
    for inge6, rvig in [
        (401, "ok"),
        (500, "ok"),
        ("garbage", "ok"),
        ("slow", "ok"),
        ("ok", "code1"),
        ("ok", "malformed"),
        ("ok", "fault"),
        ("ok", "slow"),
    ]:
        fakes.inge6, fakes.rvig = inge6, rvig
        with pytest.raises((ServiceError, UpstreamError)):
            await access_tokens_issue(authorization=header, now=now())
    fakes.inge6 = fakes.rvig = "ok"
    with pytest.raises(ServiceError):
        await access_tokens_issue(authorization=bearer("123456782"), now=now())
    for token in (other_key_jwt(), "Basic " + header):
        with pytest.raises(UpstreamError):
            await access_tokens_issue(authorization=token, now=now())
    for item in results[0]:
        secrets_seen += [item["unomi"], item["event"]]
        secrets_seen.append(jwt.decode(item["event"], options={"verify_signature": False})["identityHash"])
    assert caplog.records, "the failures must be logged"
    formatter = JsonFormatter()
    rendered = "\n".join(formatter.format(record) + repr(vars(record)) for record in caplog.records)
    for secret in secrets_seen:
        assert secret not in rendered
    assert "123456782" not in rendered
    outcomes = [json.loads(formatter.format(r)) for r in caplog.records]
    assert any(o.get("downstream") == "rvig" and o.get("rvig_code") == "33" for o in outcomes)
    assert any(o.get("providers") == 5 for o in outcomes)


async def test_minted_dev_jwt_is_accepted_for_a_while_only(fakes):
    token = dev_inge6_jwt(BSN, now=now() - timedelta(hours=2), lifetime=timedelta(hours=1))
    with pytest.raises(UpstreamError):
        await access_tokens_issue(authorization=f"Bearer {token}", now=now())


# --- through the HTTP endpoint (the lead's view) ------------------------------------------------------


async def test_endpoint_answers_tokens_and_upstream_401_bodies(fakes, providers, async_client):
    ok = await async_client.post("/app/access_tokens/", headers={"Authorization": bearer()})
    assert ok.status_code == 200
    assert [item["provider_identifier"] for item in ok.json()] == ["YYY", "ZZZ", "B", "a", "b"]
    missing = await async_client.post("/app/access_tokens/")
    assert (missing.status_code, missing.json()) == (401, {"detail": ["Invalid Authorization Token type"]})
    bad = await async_client.post("/app/access_tokens/", headers={"Authorization": "Bearer x.y.z"})
    assert (bad.status_code, bad.json()) == (401, {"detail": ["Invalid Authorization Token"]})
    fakes.rvig = "code1"
    failed = await async_client.post("/app/access_tokens/", headers={"Authorization": bearer()})
    assert failed.status_code == 502
    assert failed.json()["code"] == "downstream_bad_response"


async def test_rvig_holder_get_is_the_health_lookup(fakes):
    from events.accesstokens.service import rvig_holder_get

    assert await rvig_holder_get("999995571") == RvigHolder("Naomi", "Goede", "1987-04-01")
