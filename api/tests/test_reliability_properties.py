"""Properties of the intake through the HTTP API (api.md §1, §9; events.md §1–§4): whatever the
body, the answer is a 2xx or a 4xx with a stable body shape (a `code`, or the upstream list
`detail`), never a 5xx and never a hang. The unit-level properties are in test_intake.py.

`PROPERTY_EXAMPLES` (environment) sets the examples per property (default 60).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devtools.testing.api_fixtures import HOLDER, result, vaccination
from devtools.testprovider import make_blob

pytestmark = pytest.mark.django_db(transaction=True)

EXAMPLES = int(os.environ.get("PROPERTY_EXAMPLES", "60"))
PER_REQUEST_SECONDS = 10.0
PROPERTY_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=False,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**300, max_value=10**400)
    | st.floats(allow_nan=False)
    | st.text(max_size=40)
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=30,
)
unusual_text = st.text(
    st.characters(codec=None, categories=None, exclude_characters=""), min_size=0, max_size=60
) | st.sampled_from(["\u0000", "\ud800", "\ufeff", "Ǆ", "İ", "ß", "\u202e", "👩‍👩‍👧", "a\u0301", "\U0010ffff"])


def assert_well_formed_refusal_or_success(response) -> None:
    """2xx, or 4xx with `{"detail": str, "code": str}` or the upstream `{"detail": [...]}`."""
    assert response.status_code < 500, response.content[:300]
    if response.status_code >= 400:
        body = response.json()
        if isinstance(body.get("detail"), list):
            assert response.status_code in (400, 401, 422)
        else:
            assert isinstance(body.get("code"), str) and isinstance(body.get("detail"), str), body


async def bounded(request):
    return await asyncio.wait_for(request, PER_REQUEST_SECONDS)


async def post_print(api, token: str, body) -> object:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return await bounded(
        api.post("/app/print/", content, content_type="application/json", headers={"Authorization": f"Token {token}"})
    )


@PROPERTY_SETTINGS
@given(body=json_values)
async def test_arbitrary_json_bodies(api, registered_provider, print_token, body):
    assert_well_formed_refusal_or_success(await post_print(api, print_token, body))
    assert_well_formed_refusal_or_success(
        await bounded(api.post("/documentation/DataProviderEventsResult/", json.dumps(body), content_type="application/json"))
    )


@PROPERTY_SETTINGS
@given(events=st.lists(json_values, max_size=3), icm=st.text(max_size=50) | json_values)
async def test_arbitrary_credentials_requests_with_a_live_session(api, signers, registered_provider, events, icm):
    prepared = (await api.post("/app/prepare_issue/")).json()
    response = await bounded(
        api.post(
            "/app/credentials/",
            {"events": events, "stoken": prepared["stoken"], "issueCommitmentMessage": icm},
            content_type="application/json",
        )
    )
    assert_well_formed_refusal_or_success(response)


@PROPERTY_SETTINGS
@given(payload=json_values, signature=st.text(max_size=80))
async def test_arbitrary_payload_documents_and_signatures(api, registered_provider, print_token, payload, signature):
    blob = {"payload": base64.b64encode(json.dumps(payload).encode()).decode(), "signature": signature}
    assert_well_formed_refusal_or_success(await post_print(api, print_token, {"events": [blob]}))


@PROPERTY_SETTINGS
@given(field=st.sampled_from(["payload", "signature"]), fraction=st.floats(0, 1, exclude_max=True))
async def test_truncated_base64(api, registered_provider, print_token, provider_signer, vaccination_results, field, fraction):
    blob = make_blob(vaccination_results, provider_signer)  # ECDSA signatures vary in length
    blob[field] = blob[field][: int(fraction * len(blob[field]))]
    response = await post_print(api, print_token, {"events": [blob]})
    assert response.status_code == 400, response.content
    assert response.json()["code"] in ("invalid_payload_encoding", "invalid_payload_json", "invalid_signature")


@PROPERTY_SETTINGS
@given(
    number=st.integers(min_value=10**18, max_value=10**4000)
    | st.floats(allow_nan=False)
    | st.sampled_from([float("inf"), float("-inf"), -(10**4000)]),
    where=st.sampled_from(["doseNumber", "totalDoses", "hpkCode", "date", "birthDate", "protocolVersion"]),
)
async def test_huge_numbers_in_signed_payloads(
    api, signers, registered_provider, print_token, provider_signer, now, number, where
):
    event = vaccination((now - timedelta(days=40)).date().isoformat(), 1)
    document = result(event)
    if where in event["vaccination"]:
        event["vaccination"][where] = number
    elif where == "birthDate":
        document["holder"] = dict(HOLDER, birthDate=number)
    else:
        document[where] = number
    # json.dumps writes Infinity for inf: not JSON, so a 400 invalid_payload_json at most.
    blob = make_blob(json.dumps(document).encode(), provider_signer)
    assert_well_formed_refusal_or_success(await post_print(api, print_token, {"events": [blob]}))


@PROPERTY_SETTINGS
@given(depth=st.integers(min_value=1, max_value=5000), container=st.sampled_from(["list", "dict"]), inside=st.booleans())
async def test_deeply_nested_payloads(api, registered_provider, print_token, provider_signer, depth, container, inside):
    opening, closing = ("[", "]") if container == "list" else ('{"a":', "}")
    nested = opening * depth + "1" + closing * depth
    if inside:  # nested inside the signed payload document
        text = json.dumps(result()).replace('"events": []', f'"events": [], "extra": {nested}')
        body = {"events": [make_blob(text.encode(), provider_signer)]}
        response = await post_print(api, print_token, body)
    else:  # nested in the request body itself
        response = await post_print(api, print_token, ('{"events": [], "x": ' + nested + "}").encode())
        if depth + 1 > 64:
            # Also past the parser's own recursion limit: the same depth error.
            assert response.status_code == 422
            assert response.json()["detail"][0]["type"] == "value_error.jsondepth"
    assert_well_formed_refusal_or_success(response)


@PROPERTY_SETTINGS
@given(first=unusual_text | st.text(min_size=1000, max_size=20000), last=unusual_text, infix=unusual_text)
async def test_long_names_and_unusual_unicode_in_signed_payloads(
    api, signers, registered_provider, print_token, provider_signer, now, first, last, infix
):
    holder = {"firstName": first, "infix": infix, "lastName": last, "birthDate": "1980-05-17"}
    document = result(vaccination((now - timedelta(days=40)).date().isoformat(), 1), holder=holder)
    blob = make_blob(json.dumps(document).encode(), provider_signer)
    assert_well_formed_refusal_or_success(await post_print(api, print_token, {"events": [blob]}))


async def test_lone_surrogate_escape_in_a_signed_payload_is_invalid_payload_json(
    api, registered_provider, print_token, provider_signer, now
):
    """Found by the property above: `"\\ud800"` is a JSON escape but not Unicode text (was a 500)."""
    document = result(vaccination((now - timedelta(days=40)).date().isoformat(), 1), holder=dict(HOLDER, infix="\ud800"))
    blob = make_blob(json.dumps(document).encode(), provider_signer)
    response = await post_print(api, print_token, {"events": [blob]})
    assert response.status_code == 400 and response.json()["code"] == "invalid_payload_json"


async def test_lone_surrogate_in_the_issue_commitment_message_is_a_400(
    api, signers, registered_provider, blob, vaccination_results
):
    prepared = (await api.post("/app/prepare_issue/")).json()
    icm = base64.b64encode(b'{"n_2": "\\ud800", "combinedProofs": []}').decode()
    response = await api.post(
        "/app/credentials/",
        {"events": [blob(vaccination_results)], "stoken": prepared["stoken"], "issueCommitmentMessage": icm},
        content_type="application/json",
    )
    assert response.status_code == 400 and response.json()["code"] == "invalid_issue_commitment_message"
