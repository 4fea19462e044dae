"""`manage.py check_signers`: a harmless request to every downstream system, with latency
(signers.md §1–§5). Nothing personal is sent: the domestic signer is asked to prepare one
credential, the others only get a connectivity request (RVIG a person look-up only when
RVIG_HEALTH_CHECK_BSN is configured).

With DOMESTIC_NL_IDEMIX_PUBLIC_KEY_FILE set, the domestic check goes further, as an app would: it
commits to a fresh holder secret against the prepared nonce, has the signer issue one *specimen*
credential that expired in 1970 (`isSpecimen` 1, `validFrom` 0, one hour, no initials or birth
date), and constructs it with the Idemix holder, which checks the signer's proof and the CL
signature under the configured public key; then it asks the paper signer for a specimen paper QR
with the same attributes and verifies its proof under that key. Neither is valid anywhere."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from api.health import rvig_healthy
from common import errors, jsonutil
from common.http import client_for, clients_close, transport_failure_reason
from idemix import holder, verifier
from idemix.encoding import ATTRIBUTE_NAMES, decode_big_int
from idemix.issuer import CreateCredentialMessage, IdemixError
from idemix.keys import PublicKey, load_public_key
from signing.clients import domestic_issue, domestic_issue_static, domestic_prepare_issue

#: The attributes of the check's credential: a specimen, valid for one hour in 1970, nobody's.
CHECK_ATTRIBUTES = {"isSpecimen": "1", "isPaperProof": "0", "validFrom": "0", "validForHours": "1"}


@dataclass
class SignerCheck:
    system: str
    target: str
    ok: bool
    latency_ms: float
    detail: str


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


async def _any_answer(system: str, url: str, timeout: float) -> str:
    response = await client_for(system).get(url, timeout=timeout)
    return f"HTTP {response.status_code}"


async def _eu_health(timeout: float) -> str:
    response = await client_for("eu").get(_origin(settings.EU_INTERNATIONAL_SIGNING_URL) + "/health", timeout=timeout)
    if response.status_code >= 500:
        raise errors.downstream_unavailable()
    return f"HTTP {response.status_code}" + (" (healthy)" if response.status_code == 200 else "")


async def _domestic_prepare_issue() -> str:
    prepared = await domestic_prepare_issue(credential_amount=1)
    if not settings.DOMESTIC_NL_IDEMIX_PUBLIC_KEY_FILE:
        return "prepare_issue answered"
    public = await asyncio.to_thread(load_public_key, settings.DOMESTIC_NL_IDEMIX_PUBLIC_KEY_FILE)
    return await _domestic_specimen(public, jsonutil.loads(base64.b64decode(prepared)))


def _check_strip(version: int) -> dict[str, str]:
    names = ATTRIBUTE_NAMES.get(version, ATTRIBUTE_NAMES[2])
    return {name: CHECK_ATTRIBUTES.get(name, "") for name in names}


async def _domestic_specimen(public: PublicKey, prepared: dict[str, Any]) -> str:
    """/issue of one expired specimen credential, constructed with the holder under `public`."""
    version = settings.DOMESTIC_NL_CREDENTIAL_VERSION
    secret = holder.generate_secret()
    builders, commitments = await asyncio.to_thread(
        holder.create_commitments, public, secret, decode_big_int(prepared.get("issuerNonce")), 1
    )
    issued = await domestic_issue(
        prepare_issue_message=prepared, issue_commitment_message=commitments.to_json(), strips=[_check_strip(version)]
    )
    try:
        messages = [CreateCredentialMessage.from_json(item) for item in json.loads(base64.b64decode(issued))]
        await asyncio.to_thread(holder.construct_credentials, builders, messages, version)
    except (IdemixError, ValueError, KeyError, TypeError) as exc:
        raise SpecimenCheckFailed(str(exc)[:120]) from exc
    # The paper signer (its own URL, possibly its own deployment): an expired specimen paper QR
    # whose proof must verify under the same key (the proof only: it is meant to be invalid).
    qr = await domestic_issue_static(attributes={**_check_strip(version), "isPaperProof": "1"})
    try:
        key_id = verifier.qr_issuer_pk_id(qr)
        await asyncio.to_thread(verifier.verify_qr, qr, {key_id: public})
    except (verifier.VerificationError, ValueError) as exc:
        raise SpecimenCheckFailed(f"paper QR: {str(exc)[:100]}") from exc
    return f"issued a specimen credential and a specimen paper QR that verify with key {prepared.get('issuerPkId')}"


class SpecimenCheckFailed(Exception):
    """The signer's credential does not construct under the configured public key."""


async def _rvig(timeout: float) -> str:
    if not settings.RVIG_HEALTH_CHECK_BSN:  # connectivity only: any answer, with the reason of a failure
        return await _any_answer("rvig", _origin(settings.RVIG_URL) + "/", timeout)
    if not await rvig_healthy():
        raise errors.downstream_unavailable()
    return "person look-up succeeded" if settings.RVIG_HEALTH_CHECK_BSN else "reachable"


async def _check(system: str, target: str, call: Callable[[], Awaitable[str]], timeout: float) -> SignerCheck:
    started = time.perf_counter()
    try:
        detail = await asyncio.wait_for(call(), timeout)
        ok = True
    except TimeoutError:
        ok, detail = False, f"timed out: no answer within {timeout:g} s"
    except errors.ServiceError as exc:
        ok, detail = False, f"{exc.code}: {exc.reason}" if exc.reason else exc.code
    except SpecimenCheckFailed as exc:
        ok, detail = False, f"the issued credential does not verify with DOMESTIC_NL_IDEMIX_PUBLIC_KEY_FILE: {exc}"
    except (httpx.HTTPError, OSError) as exc:
        ok, detail = False, transport_failure_reason(exc)
    except ValueError as exc:
        ok, detail = False, type(exc).__name__
    return SignerCheck(system, target, ok, (time.perf_counter() - started) * 1000, detail)


async def signers_check(timeout: float) -> list[SignerCheck]:
    """Run the four checks concurrently."""
    checks = [
        ("domestic", settings.DOMESTIC_NL_VWS_PREPARE_ISSUE_URL, _domestic_prepare_issue),
        ("eu", _origin(settings.EU_INTERNATIONAL_SIGNING_URL) + "/health", lambda: _eu_health(timeout)),
        (
            "inge6",
            _origin(settings.INGE6_BSN_RETRIEVAL_URL) + "/",
            lambda: _any_answer("inge6", _origin(settings.INGE6_BSN_RETRIEVAL_URL) + "/", timeout),
        ),
        ("rvig", _origin(settings.RVIG_URL), lambda: _rvig(timeout)),
    ]
    try:
        return list(await asyncio.gather(*(_check(s, t, c, timeout) for s, t, c in checks)))
    finally:
        await clients_close()


def checks_table(results: list[SignerCheck]) -> list[str]:
    rows = [("downstream", "target", "status", "latency", "detail")]
    rows += [(r.system, r.target, "ok" if r.ok else "FAILED", f"{r.latency_ms:.0f} ms", r.detail) for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    return ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]


class Command(BaseCommand):
    help = (
        "Check that the downstream systems answer: the domestic signer (POST /prepare_issue for one "
        "credential; with DOMESTIC_NL_IDEMIX_PUBLIC_KEY_FILE also /issue and /issue_static of an expired "
        "specimen credential, verified with that key), the EU signer (GET /health), Inge-6 and RVIG "
        "(connectivity; RVIG looks up a person only if RVIG_HEALTH_CHECK_BSN is set). Prints a table "
        "with status and latency; exits with status 1 if any check fails."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--timeout", type=float, default=3.0, help="seconds per check (default 3)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["timeout"] <= 0:
            raise CommandError("--timeout must be positive")
        results = asyncio.run(signers_check(options["timeout"]))
        for line in checks_table(results):
            self.stdout.write(line)
        failed = [r.system for r in results if not r.ok]
        if failed:
            raise CommandError(f"downstream check failed: {', '.join(failed)}")
