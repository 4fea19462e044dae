"""Clients of the two signing services (signers.md §2, §3), with response validation
(decision n). Transport, timeouts, retries and the error mapping are in `common.http`."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

from django.conf import settings

from common.http import downstream_post, invalid_response
from common.jsonutil import loads_shape


def _key_identifier(body: dict[str, Any]) -> dict[str, Any]:
    if settings.DOMESTIC_NL_KEY_IDENTIFIER:
        body["keyIdentifier"] = settings.DOMESTIC_NL_KEY_IDENTIFIER
    return body


def _json_or_none(content: bytes, parse: Callable[[bytes], Any] = json.loads) -> Any:
    """The parsed answer, or None when it is not JSON (or nested deeper than the parser's stack
    allows: a 502 `invalid_response`, not a 500)."""
    try:
        return parse(content)
    except (ValueError, RecursionError):
        return None


async def domestic_prepare_issue(*, credential_amount: int) -> str:
    """`POST /prepare_issue`; returns standard base64 of the exact response bytes (§2.2)."""
    response = await downstream_post(
        "domestic",
        settings.DOMESTIC_NL_VWS_PREPARE_ISSUE_URL,
        json=_key_identifier({"credentialAmount": credential_amount}),
    )
    body = _json_or_none(response.content)
    if not (
        isinstance(body, dict)
        and isinstance(body.get("issuerPkId"), str)
        and body["issuerPkId"]
        and isinstance(body.get("issuerNonce"), (str, int))
        and not isinstance(body.get("issuerNonce"), bool)
        and isinstance(body.get("credentialAmount"), int)
        and not isinstance(body.get("credentialAmount"), bool)
    ):
        raise invalid_response("domestic", "prepare_issue response shape")
    return base64.b64encode(response.content).decode("ascii")


async def domestic_issue(
    *, prepare_issue_message: dict[str, Any], issue_commitment_message: dict[str, Any], strips: list[dict[str, str]]
) -> str:
    """`POST /issue` for app strips; returns base64 of the exact response bytes (§2.3)."""
    response = await downstream_post(
        "domestic",
        settings.DOMESTIC_NL_VWS_ONLINE_SIGNING_URL,
        json=_key_identifier(
            {
                "prepareIssueMessage": prepare_issue_message,
                "issueCommitmentMessage": issue_commitment_message,
                "credentialsAttributes": strips,
                "credentialVersion": settings.DOMESTIC_NL_CREDENTIAL_VERSION,
            }
        ),
        read_timeout=settings.DOMESTIC_NL_ISSUE_READ_TIMEOUT,
    )
    body = _json_or_none(response.content, loads_shape)  # its shape alone is checked
    if not (
        isinstance(body, list)
        and len(body) == len(strips)
        and all(
            isinstance(item, dict)
            and isinstance(item.get("issueSignatureMessage"), dict)
            and isinstance(item.get("attributes"), list)
            for item in body
        )
    ):
        raise invalid_response("domestic", "issue response shape")
    return base64.b64encode(response.content).decode("ascii")


async def domestic_issue_static(*, attributes: dict[str, str]) -> str:
    """`POST /issue_static` for the paper proof; returns the `qr` string (§2.4)."""
    response = await downstream_post(
        "domestic",
        settings.DOMESTIC_NL_VWS_PAPER_SIGNING_URL,
        json=_key_identifier({"credentialAttributes": attributes, "credentialVersion": settings.DOMESTIC_NL_CREDENTIAL_VERSION}),
        read_timeout=settings.DOMESTIC_NL_ISSUE_READ_TIMEOUT,
    )
    body = _json_or_none(response.content)
    if not (isinstance(body, dict) and isinstance(body.get("qr"), str) and body["qr"]):
        raise invalid_response("domestic", "issue_static response shape")
    return body["qr"]


async def eu_get_credential(*, request: dict[str, Any]) -> str:
    """`POST /get_credential`; returns the `HC1:` credential (§3.1)."""
    response = await downstream_post("eu", settings.EU_INTERNATIONAL_SIGNING_URL, json=request)
    body = _json_or_none(response.content)
    credential = body.get("credential") if isinstance(body, dict) else None
    if not (isinstance(credential, str) and credential.startswith("HC1:")):
        raise invalid_response("eu", "get_credential response shape")
    return credential
