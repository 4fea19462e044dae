"""The issuance flows behind the API (api.md §4–§6): intake, rules, concurrent signer calls,
audit and submission records. The rules are pure; everything here is orchestration and I/O."""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from common import errors, jsonutil, metrics
from common.base64rule import decode_base64
from common.http import DownstreamRecord, downstream_record
from events.intake import IntakeResult, events_intake
from events.rules.config import credential_amount
from events.rules.domestic import DomesticIssuance, domestic_issuance, domestic_print_attributes
from events.rules.eu import EuMessage, eu_messages, eu_print_message
from events.selectors import ConfigSnapshot, config_snapshot_get
from signing import clients
from signing.services import (
    SubmissionOutcome,
    UciRecord,
    holder_pseudonym,
    session_consume,
    session_create,
    session_lookup,
    submission_record,
)

logger = logging.getLogger(__name__)


async def issuance_prepare() -> dict[str, str]:
    """`/app/prepare_issue/` (api.md §4): called whatever the domestic switch says."""
    snapshot = await config_snapshot_get()
    message = await clients.domestic_prepare_issue(credential_amount=credential_amount(snapshot.rules))
    stoken = await session_create(prepare_issue_message=message)
    return {"stoken": str(stoken), "prepareIssueMessage": message}


def _finite_float(text: str) -> float:
    """A JSON number with a fraction or an exponent: one too large for a float (1e400) is refused;
    a `ParsedFloat`, as `common.jsonutil.loads` reads it (the message is sent on)."""
    value = jsonutil.ParsedFloat(text)
    if not math.isfinite(value):
        raise ValueError("a number out of range")
    return value


def _constant_refused(name: str) -> float:
    """NaN, Infinity and -Infinity, which Python's parser accepts, are not JSON."""
    raise ValueError(f"{name} is not JSON")


def issue_commitment_message_decode(text: str) -> dict[str, Any]:
    """The ICM must be base64 of a UTF-8 JSON object (api.md §5 step 5); one that could not be
    sent on as valid UTF-8 JSON (a lone surrogate escape such as "\\ud800", NaN, Infinity, a
    number out of range) is refused here too. The parser refuses the numbers; only a text with
    a `\\u` escape is encoded once more to find a lone surrogate (encoding every ICM cost ~35 µs
    per credentials request, benchmarks/PROFILE.md)."""
    try:
        decoded = decode_base64(text).decode("utf-8")
        value = json.loads(decoded, parse_float=_finite_float, parse_constant=_constant_refused)
        if "\\u" in decoded:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
    except (ValueError, UnicodeError, RecursionError):
        value = None
    if not isinstance(value, dict):
        raise errors.ServiceError(
            400,
            "invalid_issue_commitment_message",
            "issueCommitmentMessage is not base64 of a JSON object.",
            loc=["issueCommitmentMessage"],
        )
    return value


def _intake(blobs: list[dict[str, str]], snapshot: ConfigSnapshot, now: datetime) -> IntakeResult:
    return events_intake(
        blobs,
        providers=snapshot.providers,
        trust_anchors=snapshot.trust_anchors,
        now=now,
        skew_seconds=snapshot.rules.cms_signing_time_skew_seconds,
    )


@dataclass
class SignedEu:
    message: EuMessage
    credential: str


async def _sign_eu(message: EuMessage) -> SignedEu:
    return SignedEu(message, await clients.eu_get_credential(request=message.signer_request()))


def _uci_records(signed: list[SignedEu], *, flow: str, now: datetime) -> list[UciRecord]:
    return [
        UciRecord(
            uci=item.message.uci,
            provider_identifier=item.message.source_provider,
            event_unique=item.message.unique,
            key_usage=item.message.key_usage,
            flow=flow,
            expiration_time=datetime.fromisoformat(item.message.expiration_time),
            issued_at=now,
        )
        for item in signed
    ]


async def _gather_all(calls: list[Awaitable[Any]]) -> list[Any]:
    """Run independent signer calls concurrently and wait for all (signers.md §1): their results
    in call order, a failed call's exception in its place. (Running the last call in the
    request's own task instead, one task fewer, cost more: every wake-up of the request's task
    resumes its whole chain of awaits, the handler and the middleware; benchmarks/PROFILE.md.)"""
    return await asyncio.gather(*calls, return_exceptions=True)


def _signed_accounted(outcome: SubmissionOutcome, results: list[Any], *, flow: str, now: datetime) -> list[SignedEu]:
    """Put every certificate the EU signer issued into the audit trail, even when another call
    failed (rules-eu.md §9.4); then fail with the first failure in call order (signers.md §1)."""
    signed = [result for result in results if isinstance(result, SignedEu)]
    outcome.ucis = _uci_records(signed, flow=flow, now=now)
    outcome.eu_issued = len(signed)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return signed


class SubmissionTracking:
    """Record one `EventSubmission` for the request, whatever its outcome, with the UCIs that
    were issued; if that record cannot be written the request fails with 503 rather than hand
    out certificates that are not in the audit trail. (An async context manager class rather
    than `@asynccontextmanager`, whose generator steps cost ~3 µs per request.)"""

    def __init__(self, endpoint: str, now: datetime, print_client: str = "") -> None:
        self.endpoint = endpoint
        self.outcome = SubmissionOutcome(endpoint=endpoint, created_at=now, print_client=print_client)

    async def __aenter__(self) -> SubmissionOutcome:
        self.calls = DownstreamRecord()
        self.token = downstream_record.set(self.calls)
        self.started = time.perf_counter()
        return self.outcome

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any) -> None:
        outcome = self.outcome
        if isinstance(exc, (errors.ServiceError, errors.UpstreamError, errors.RequestValidationError)):
            outcome.status = exc.status
            outcome.error_code = exc.code
        elif isinstance(exc, Exception):
            outcome.status = 500
            outcome.error_code = "internal_error"
        downstream_record.reset(self.token)
        outcome.duration_ms = round((time.perf_counter() - self.started) * 1000, 3)
        outcome.downstream_ms = self.calls.timings_ms
        outcome.downstream_errors = self.calls.errors
        try:
            await _submission_write(outcome)
        except errors.ServiceError as failure:  # not in the audit trail: nothing was handed out
            metrics.submission_observed(
                endpoint=self.endpoint, status=failure.status, code=failure.code, domestic_issued=False, eu_issued=0
            )
            raise
        metrics.submission_observed(
            endpoint=self.endpoint,
            status=outcome.status,
            code=outcome.error_code,
            domestic_issued=outcome.domestic_issued,
            eu_issued=outcome.eu_issued,
        )


async def _submission_write(outcome: SubmissionOutcome) -> None:
    try:
        await submission_record(outcome=outcome)
    except Exception as exc:
        logger.error("submission record not written", extra={"ucis": len(outcome.ucis), "exception": type(exc).__name__})
        if outcome.status == 200:
            # Certificates that are not in the audit trail are not handed out.
            raise errors.storage_unavailable() from None


def _outcome_from_intake(outcome: SubmissionOutcome, intake: IntakeResult) -> None:
    outcome.providers = intake.providers
    outcome.event_counts = intake.event_counts
    outcome.holder_pseudonym = holder_pseudonym(intake.events[0].holder if intake.events else None)


async def credentials_issue(
    *, blobs: list[dict[str, str]], stoken: uuid.UUID, issue_commitment_message: str, now: datetime
) -> dict[str, Any]:
    """`/app/credentials/` (api.md §5 steps 2–8)."""
    async with SubmissionTracking("credentials", now) as outcome:
        if await session_lookup(stoken=stoken) is None:
            raise errors.session_invalid()
        snapshot = await config_snapshot_get()
        intake = _intake(blobs, snapshot, now)
        _outcome_from_intake(outcome, intake)
        domestic: DomesticIssuance | None = domestic_issuance(intake.events, config=snapshot.rules, now=now)
        messages = eu_messages(intake.events, config=snapshot.rules, now=now)
        icm = issue_commitment_message_decode(issue_commitment_message) if domestic is not None else None
        stored = await session_consume(stoken=stoken)
        if stored is None:
            raise errors.session_invalid()

        calls: list[Awaitable[Any]] = []
        if domestic is not None:
            prepare_issue_message = jsonutil.loads(decode_base64(stored))
            calls.append(
                clients.domestic_issue(
                    prepare_issue_message=prepare_issue_message,
                    issue_commitment_message=icm or {},
                    strips=domestic.strips,
                )
            )
        calls.extend(_sign_eu(message) for message in messages)
        results = await _gather_all(calls)

        signed = _signed_accounted(outcome, results, flow="app", now=now)
        outcome.domestic_issued = domestic is not None
        return {
            "domesticGreencard": None
            if domestic is None
            else {"origins": [o.render() for o in domestic.origins], "createCredentialMessages": results[0]},
            "euGreencards": [{"origins": [item.message.origin.render()], "credential": item.credential} for item in signed],
        }


async def print_proof_issue(*, blobs: list[dict[str, str]], now: datetime, print_client: str) -> dict[str, Any]:
    """`/app/print/` (api.md §6; rules-domestic.md §7, rules-eu.md §8)."""
    async with SubmissionTracking("print", now, print_client) as outcome:
        snapshot = await config_snapshot_get()
        intake = _intake(blobs, snapshot, now)
        _outcome_from_intake(outcome, intake)
        attributes = domestic_print_attributes(intake.events, config=snapshot.rules, now=now)
        message = eu_print_message(intake.events, config=snapshot.rules, now=now)

        calls: list[Awaitable[Any]] = []
        if attributes is not None:
            calls.append(clients.domestic_issue_static(attributes=attributes))
        if message is not None:
            calls.append(_sign_eu(message))
        results = await _gather_all(calls)

        signed = _signed_accounted(outcome, results, flow="print", now=now)
        outcome.domestic_issued = attributes is not None
        return {
            "domestic": None if attributes is None else {"attributes": attributes, "qr": results[0]},
            "european": None
            if not signed
            else {
                "expirationTime": signed[0].message.expiration_time,
                "dcc": signed[0].message.display_dcc(),
                "qr": signed[0].credential,
            },
        }
