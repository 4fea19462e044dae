"""The reference domestic signer over real HTTP on loopback (signers.md §2.1–§2.7): real Idemix
issuance with the TEST ONLY key, checked with the project's holder and verifier."""

from __future__ import annotations

import base64
import json
import os
import signal
import threading
import time

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devtools.reference.app_holder import app_commitments, shared_test_public_key
from devtools.reference.domestic_signer import HOLD_PATH
from idemix import verifier
from idemix.encoding import decode_big_int, encode_big_int
from idemix.holder import CategoryMode
from idemix.keys import with_aliases

JSON = {"Content-Type": "application/json"}
KEY_ID = "TST-KEY-01"
VALID_FROM = 1622505600
CONFIG = verifier.VerifierConfig()


def attributes(**overrides: str) -> dict[str, str]:
    values = {
        "isSpecimen": "0",
        "isPaperProof": "0",
        "validFrom": str(VALID_FROM),
        "validForHours": "24",
        "firstNameInitial": "A",
        "lastNameInitial": "",
        "birthDay": "1",
        "birthMonth": "",
    }
    return {**values, **overrides}


def post(signers, path: str, body, headers=JSON, timeout: float = 30.0) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body)
    return httpx.post(f"{signers.domestic_url}{path}", content=content, headers=headers, timeout=timeout)


def prepare(signers, amount: int = 3) -> dict:
    response = post(signers, "/prepare_issue", {"credentialAmount": amount})
    assert response.status_code == 200
    return response.json()


def issue_request(signers, maps: list[dict[str, str]], version: int = 2, commitments: int | None = None):
    """A real /issue body: the holder's commitments against the signer's nonce."""
    prepared = prepare(signers, commitments or len(maps))
    session = app_commitments(prepared)
    body = {
        "prepareIssueMessage": prepared,
        "issueCommitmentMessage": json.loads(base64.b64decode(session.icm)),
        "credentialsAttributes": maps,
        "credentialVersion": version,
    }
    return session, body


def key_map():
    return with_aliases(shared_test_public_key())


def test_prepare_issue(signers):
    response = post(signers, "/prepare_issue", {"credentialAmount": 28, "keyIdentifier": KEY_ID})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert "X-Stand-In" not in response.headers
    assert list(response.json()) == ["issuerPkId", "issuerNonce", "credentialAmount"]
    body = response.json()
    assert body["issuerPkId"] == KEY_ID and body["credentialAmount"] == 28
    assert 0 < decode_big_int(body["issuerNonce"]) < 2**128
    # the June 2021 shape: no key named, the single key answers
    assert post(signers, "/prepare_issue", {"credentialAmount": 1}).json()["issuerPkId"] == KEY_ID


@pytest.mark.parametrize("version", [2, 3])
def test_issue_round_trip_construct_disclose_verify(signers, version):
    maps = [attributes(validFrom=str(VALID_FROM + 86400 * day)) for day in range(3)]
    if version == 3:
        maps = [{**values, "category": "1"} for values in maps]
    session, body = issue_request(signers, maps, version)
    response = post(signers, "/issue", body)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "application/json"
    messages = response.json()
    assert len(messages) == 3
    assert list(messages[0]) == ["issueSignatureMessage", "attributes"]
    assert messages[0]["issueSignatureMessage"]["signature"]["KeyshareP"] is None
    metadata = base64.b64decode(messages[0]["attributes"][0])
    assert metadata == bytes.fromhex("300f0401") + bytes([version]) + bytes.fromhex("130a") + KEY_ID.encode()

    credentials = session.construct(messages, version)
    for credential, values in zip(credentials, maps, strict=True):
        assert credential.read() == (values, version)
        now = int(values["validFrom"]) + 3600
        mode = CategoryMode.DISCLOSED_V2_SERIALIZATION if version == 2 else CategoryMode.DISCLOSED_V3_SERIALIZATION
        qr = session.disclose(credential, now, mode)
        result = verifier.verify(qr, "3G", key_map(), CONFIG, now)
        assert result.ok, result.error
        assert result.credential is not None and result.credential.attributes == values
        if version == 3:
            assert verifier.verify(qr, "1G", key_map(), CONFIG, now).ok


initial = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", max_size=1)
random_maps = st.fixed_dictionaries(
    {
        "isSpecimen": st.sampled_from(["0", "1"]),
        "isPaperProof": st.just("0"),
        "validFrom": st.integers(min_value=1_600_000_000, max_value=1_900_000_000).map(str),
        "validForHours": st.integers(min_value=1, max_value=720).map(str),
        "firstNameInitial": initial,
        "lastNameInitial": initial,
        "birthDay": st.sampled_from(["", "1", "15", "31", "X"]),
        "birthMonth": st.sampled_from(["", "1", "12", "X"]),
    }
)


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    maps=st.lists(random_maps, min_size=1, max_size=3), version=st.sampled_from([2, 3]), category=st.sampled_from(["", "1", "3"])
)
def test_round_trip_property(signers, maps, version, category):
    if version == 3:
        maps = [{**values, "category": category} for values in maps]
    session, body = issue_request(signers, maps, version, commitments=len(maps) + 1)  # extra commitments are ignored
    response = post(signers, "/issue", body)
    assert response.status_code == 200, response.text
    credentials = session.construct(response.json(), version)
    assert [credential.read() for credential in credentials] == [(values, version) for values in maps]
    now = int(maps[0]["validFrom"])
    result = verifier.verify(session.disclose(credentials[0], now), "3G", key_map(), CONFIG, now)
    assert result.ok and result.credential is not None and result.credential.attributes == maps[0]


@pytest.mark.parametrize("version", [2, 3])
def test_issue_static_is_a_real_paper_qr(signers, version):
    values = attributes(isPaperProof="1")
    if version == 3:
        values["category"] = "1"
    response = post(
        signers, "/issue_static", {"credentialAttributes": values, "credentialVersion": version, "keyIdentifier": KEY_ID}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert list(body) == ["qr", "proofIdentifier"]
    assert body["qr"].startswith("NL2:")  # the version-2 proof layout, whatever the credential version
    now = VALID_FROM + 7200  # a paper proof is disclosed at time 0: exempt from the QR's age check
    result = verifier.verify(body["qr"], "3G", key_map(), CONFIG, now)
    assert result.ok, result.error
    credential = result.credential
    assert credential is not None and credential.attributes == values and credential.credential_version == version
    assert credential.disclosure_time == 0 and credential.issuer_pk_id == KEY_ID
    assert credential.proof_identifier_b64 == body["proofIdentifier"]


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=random_maps, version=st.sampled_from([2, 3]), category=st.sampled_from(["", "1", "3"]))
def test_issue_static_round_trip_property(signers, values, version, category):
    values = {**values, "isPaperProof": "1"}
    if version == 3:
        values["category"] = category
    request = {"credentialAttributes": values, "credentialVersion": version, "keyIdentifier": KEY_ID}
    response = post(signers, "/issue_static", request)
    assert response.status_code == 200, response.text
    result = verifier.verify(response.json()["qr"], "3G", key_map(), CONFIG, int(values["validFrom"]))
    assert result.ok, result.error
    assert result.credential is not None and result.credential.attributes == values
    assert result.credential.proof_identifier_b64 == response.json()["proofIdentifier"]
    one_g = verifier.verify(response.json()["qr"], "1G", key_map(), CONFIG, int(values["validFrom"]))
    assert one_g.ok == (version == 3 and category == "1")


def test_issue_static_2021_shape_uses_the_single_key(signers):
    response = post(signers, "/issue_static", {"credentialAttributes": attributes(isPaperProof="1"), "credentialVersion": 2})
    assert response.status_code == 200, response.text
    assert verifier.verify(response.json()["qr"], "3G", key_map(), CONFIG, VALID_FROM).ok


# --------------------------------------------------------------------------------------------
# §2.1 failures: exact status and text body


def assert_text_error(response: httpx.Response, status: int, text: str) -> None:
    assert (response.status_code, response.text) == (status, text)
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


NOT_VERIFIED = "Could not issue credentials: Holder commitments did did not verify against nonce\n"


def test_tampered_commitment(signers):
    _session, body = issue_request(signers, [attributes()] * 2)
    proof = body["issueCommitmentMessage"]["combinedProofs"][1]
    proof["U"] = encode_big_int(decode_big_int(proof["U"]) + 2)
    assert_text_error(post(signers, "/issue", body), 500, NOT_VERIFIED)


def test_tampered_response(signers):
    _session, body = issue_request(signers, [attributes()])
    proof = body["issueCommitmentMessage"]["combinedProofs"][0]
    proof["s_response"] = encode_big_int(decode_big_int(proof["s_response"]) ^ 1)
    assert_text_error(post(signers, "/issue", body), 500, NOT_VERIFIED)


def test_wrong_nonce(signers):
    _session, body = issue_request(signers, [attributes()])
    body["prepareIssueMessage"] = prepare(signers, 1)  # another session's nonce
    assert_text_error(post(signers, "/issue", body), 500, NOT_VERIFIED)


def test_wrong_issuer_pk_id(signers):
    _session, body = issue_request(signers, [attributes()])
    body["prepareIssueMessage"]["issuerPkId"] = "VWS-TEST-0"
    assert_text_error(
        post(signers, "/issue", body),
        500,
        "Could not issue credentials: Key specified by usage doesn't match prepare issue message public key id\n",
    )


def test_fewer_commitments_than_attribute_maps(signers):
    _session, body = issue_request(signers, [attributes()] * 2)
    body["credentialsAttributes"] = [attributes()] * 3
    assert_text_error(
        post(signers, "/issue", body),
        500,
        "Could not issue credentials: More credentials are being issued than commitments have been supplied\n",
    )


@pytest.mark.parametrize(
    ("where", "value", "text"),
    [
        ("n_2", "not*base64", "illegal base64 data at input byte 3"),
        ("U", "AQA", "illegal base64 data at input byte 0"),
        ("s_response", "AQ!B", "illegal base64 data at input byte 2"),
    ],
)
def test_malformed_big_integers(signers, where, value, text):
    _session, body = issue_request(signers, [attributes()])
    if where == "n_2":
        body["issueCommitmentMessage"]["n_2"] = value
    else:
        body["issueCommitmentMessage"]["combinedProofs"][0][where] = value
    response = post(signers, "/issue", body)
    assert_text_error(response, 400, f"Could not JSON unmarshal issue message: {text}\n")


def test_version_3_needs_category(signers):
    _session, body = issue_request(signers, [attributes()], version=3)
    assert_text_error(
        post(signers, "/issue", body),
        500,
        "Could not issue credentials: Could not compute attributes list: Required attribute category was not supplied\n",
    )


def test_missing_field_is_400(signers):
    response = post(signers, "/issue", {"prepareIssueMessage": prepare(signers), "issueCommitmentMessage": {}})
    assert_text_error(response, 400, "A required field of issue message is missing\n")


def test_unknown_key_identifier_is_500(signers):
    response = post(signers, "/prepare_issue", {"credentialAmount": 1, "keyIdentifier": "NOPE"})
    assert_text_error(response, 500, "Specified key for identifier NOPE is not present\n")


@pytest.mark.parametrize("path", ["/prepare_issue", "/issue", "/issue_static"])
def test_content_type_must_be_exact(signers, path):
    response = post(signers, path, {"credentialAmount": 1}, headers={"Content-Type": "application/json; charset=utf-8"})
    assert_text_error(response, 400, "Expect application/json Content-Type\n")


@pytest.mark.parametrize("path", ["/prepare_issue", "/issue", "/issue_static"])
def test_only_post_is_allowed(signers, path):
    response = httpx.get(f"{signers.domestic_url}{path}", headers=JSON)
    assert_text_error(response, 405, "Expected POST method\n")


@pytest.mark.parametrize("path", ["/prepare_issue", "/issue", "/issue_static"])
def test_bad_json_is_400(signers, path):
    response = post(signers, path, b"{oops")
    assert response.status_code == 400
    assert response.text.startswith("Could not JSON unmarshal ") and response.text.endswith("\n")


def test_wrong_json_types_are_400(signers):
    response = post(signers, "/prepare_issue", {"credentialAmount": "34"})
    assert_text_error(
        response,
        400,
        "Could not JSON unmarshal prepare issue request: json: cannot unmarshal string into Go struct field "
        "PrepareIssueRequestMessage.credentialAmount of type int\n",
    )


# --------------------------------------------------------------------------------------------
# /stats, and the event loop while a worker issues


def test_stats_accepts_any_method(signers):
    for method in ("GET", "POST"):
        response = httpx.request(method, f"{signers.domestic_url}/stats")
        assert response.status_code == 200
        stats = response.json()
        assert list(stats) == ["Name", "Size", "Index", "Hwm", "Lwm", "Depleted", "Depletions", "BitStart", "BitLength"]
        assert (stats["Name"], stats["BitStart"], stats["BitLength"]) == ("in-memory", 644, 119)


def hold(signers, value: bool | None = None) -> dict:
    url = f"{signers.domestic_url}{HOLD_PATH}"
    response = httpx.post(url, json={"hold": value}) if value is not None else httpx.get(url)
    response.raise_for_status()
    return response.json()


def test_the_signer_answers_while_a_worker_issues(signers):
    """With the worker held inside an /issue call, /stats, /prepare_issue and the hold control
    still answer: the issuing runs off the event loop. Released, the /issue call completes."""
    _session, body = issue_request(signers, [attributes()] * 28)
    results: list[httpx.Response] = []
    hold(signers, True)
    try:
        caller = threading.Thread(target=lambda: results.append(post(signers, "/issue", body, timeout=60)))
        caller.start()
        deadline = time.monotonic() + 30
        while hold(signers)["held"] < 1:
            assert time.monotonic() < deadline, "the /issue call never reached the worker"
            time.sleep(0.01)
        state = hold(signers)
        assert (state["held"], state["inFlight"]) == (1, 1)
        assert httpx.get(f"{signers.domestic_url}/stats").status_code == 200
        assert post(signers, "/prepare_issue", {"credentialAmount": 1}).status_code == 200
        assert not results  # still held
    finally:
        hold(signers, False)
    caller.join(60)
    assert len(results) == 1 and results[0].status_code == 200, results
    assert len(results[0].json()) == 28
    state = hold(signers)
    assert (state["hold"], state["held"], state["inFlight"]) == (False, 0, 0)


def test_a_dead_worker_is_replaced(signers):
    """A worker process that dies (here: killed by this test, by its process id) fails the call
    that finds it dead with a 500 text answer; the signer starts new workers and issues again."""
    workers = hold(signers)["workers"]
    assert len(workers) == 1
    os.kill(workers[0], signal.SIGKILL)
    static = {"credentialAttributes": attributes(isPaperProof="1"), "credentialVersion": 2}
    deadline = time.monotonic() + 30
    while True:  # the pool notices the death asynchronously: until then a call may still queue
        response = post(signers, "/issue_static", static)
        if response.status_code == 500:
            assert_text_error(response, 500, "Could not issue credentials: the worker process failed\n")
            break
        assert response.status_code == 200 and time.monotonic() < deadline
    response = post(signers, "/issue_static", static)
    assert response.status_code == 200, response.text
    assert verifier.verify(response.json()["qr"], "3G", key_map(), CONFIG, VALID_FROM).ok
    assert hold(signers)["workers"] not in ([], workers)


async def test_the_in_process_mode_serves_the_same_routes():
    """`--domestic-workers 0`: one thread instead of worker processes, the same routes."""
    from aiohttp import web

    from devtools.reference.domestic_signer import DomesticSignerConfig, create_domestic_app
    from devtools.reference.keys import TEST_IDEMIX_KEY_FOLDER, load_idemix_keys
    from devtools.testing.processes import free_port

    public, secret = load_idemix_keys(TEST_IDEMIX_KEY_FOLDER)
    app = create_domestic_app(DomesticSignerConfig(KEY_ID, public, secret, workers=0, prime_pool_size=4))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=JSON, timeout=60) as client:
            request = {"credentialAttributes": attributes(isPaperProof="1"), "credentialVersion": 2}
            response = await client.post("/issue_static", content=json.dumps(request))
            assert response.status_code == 200, response.text
            assert verifier.verify(response.json()["qr"], "3G", key_map(), CONFIG, VALID_FROM).ok
            assert (await client.get("/stats")).json()["Size"] == 4
    finally:
        await runner.cleanup()
