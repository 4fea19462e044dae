"""Reference EU signer: a real, standards-conformant HCERT signer over HTTP (signers.md §3).

Routes:
- `/get_credential` (any method, like the Go signer): `{"keyUsage", "expirationTime", "dcc"}` →
  `{"credential": "HC1:…", "proofIdentifier": "<b64>"}`; every failure → 500 `text/plain`.
  The DCC must be valid against schema 1.3.0 (decision x).
- `GET /public_keys`: the verification keys in the Dutch verifier format
  `{"<b64 kid>": [{"subjectPk": "<b64 DER SPKI>", "keyUsage": ["v"|"t"|"r", …]}]}`.
- `GET /health`: `{"status": "ok"}`.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from cryptography.hazmat.primitives import serialization
from jsonschema.exceptions import best_match

from devtools.reference.faults import (
    SignerBehaviour,
    add_behaviour_control,
    behaviour_middleware,
)
from devtools.reference.hcert import (
    DEFAULT_BACKDATE_SECONDS,
    DEFAULT_ISSUER,
    SignerKey,
    SigningError,
    sign_dcc,
)
from events.dccschema import DCC_VALIDATOR, is_valid_dcc

USAGE_LETTERS = {"vaccination": "v", "test": "t", "recovery": "r"}
SIGNING_PATHS = ("/get_credential",)

KEYS = web.AppKey("keys", dict)
CONFIG = web.AppKey("config", dict)


def utc_now() -> datetime:
    return datetime.now(UTC)


def public_keys_document(keys: Mapping[str, SignerKey]) -> dict[str, list[dict[str, Any]]]:
    """The keys grouped by kid, each with the usage letters it signs for."""
    usages_by_kid: dict[bytes, list[str]] = {}
    key_by_kid: dict[bytes, SignerKey] = {}
    for usage, key in keys.items():
        key_by_kid[key.kid] = key
        usages_by_kid.setdefault(key.kid, [])
        letter = USAGE_LETTERS.get(usage)
        if letter and letter not in usages_by_kid[key.kid]:
            usages_by_kid[key.kid].append(letter)
    document = {}
    for kid, key in key_by_kid.items():
        spki = key.certificate.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        letters = sorted(usages_by_kid[kid], key="vtr".index)
        document[base64.b64encode(kid).decode()] = [{"subjectPk": base64.b64encode(spki).decode(), "keyUsage": letters}]
    return document


def parse_credential_request(body: bytes) -> tuple[str, str, dict[str, Any]]:
    """keyUsage, expirationTime and dcc of a `/get_credential` body (§3.1)."""
    try:
        request = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise SigningError("Could not unmarshal request body") from error
    if not isinstance(request, dict):
        raise SigningError("Could not unmarshal request body")
    key_usage, expiration_time, dcc = request.get("keyUsage"), request.get("expirationTime"), request.get("dcc")
    if not isinstance(dcc, dict):
        raise SigningError("No DCC was supplied")
    if not isinstance(key_usage, str):
        raise SigningError("No key usage was supplied")
    if not isinstance(expiration_time, str):
        raise SigningError("No expiration time was supplied")
    return key_usage, expiration_time, dcc


def schema_error_place(dcc: Any) -> str:
    """Where the DCC fails the schema, without the offending value (it may be personal data)."""
    error = best_match(DCC_VALIDATOR.iter_errors(dcc))
    if error is None:
        return ""
    place = "/".join(str(part) for part in error.absolute_path) or "(the document)"
    return f": {place} fails '{error.validator}'"


def _error(message: str) -> web.Response:
    return web.Response(status=500, text=message + "\n", content_type="text/plain")


async def get_credential(request: web.Request) -> web.Response:
    """Sign one DCC (§3.1, §3.3). Signing is fast (~0.1 ms), so it runs inline."""
    config = request.app[CONFIG]
    try:
        key_usage, expiration_time, dcc = parse_credential_request(await request.read())
        key = request.app[KEYS].get(key_usage)
        if key is None:
            raise SigningError("Unknown key usage")
        if not is_valid_dcc(dcc):
            raise SigningError(f"The DCC does not validate against schema 1.3.0{schema_error_place(dcc)}")
        signed = sign_dcc(
            dcc,
            key=key,
            expiration_time=expiration_time,
            now=config["clock"](),
            issuer=config["issuer"],
            backdate_seconds=config["backdate_seconds"],
        )
    except SigningError as error:
        return _error(f"Could not issue credential: {error}")
    return web.json_response({"credential": signed.credential, "proofIdentifier": signed.proof_identifier})


async def public_keys(request: web.Request) -> web.Response:
    return web.json_response(public_keys_document(request.app[KEYS]))


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def create_eu_app(
    keys: Mapping[str, SignerKey],
    *,
    issuer: str = DEFAULT_ISSUER,
    backdate_seconds: int = DEFAULT_BACKDATE_SECONDS,
    clock: Callable[[], datetime] = utc_now,
    behaviour: SignerBehaviour | None = None,
    behaviour_control: bool = False,
) -> web.Application:
    """The EU signer application; `keys` maps key usage (vaccination/test/recovery) to its DSC."""
    if not re.fullmatch(r"[A-Z]{2}", issuer):
        raise ValueError("the issuer country must match ^[A-Z]{2}$")
    behaviour = behaviour or SignerBehaviour()
    app = web.Application(middlewares=[behaviour_middleware(behaviour, SIGNING_PATHS)])
    app[KEYS] = dict(keys)
    app[CONFIG] = {"issuer": issuer, "backdate_seconds": backdate_seconds, "clock": clock}
    app.router.add_route("*", "/get_credential", get_credential)
    app.router.add_get("/public_keys", public_keys)
    app.router.add_get("/health", health)
    if behaviour_control:
        add_behaviour_control(app, behaviour)
    return app
