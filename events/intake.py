"""Event intake: from the submitted blobs to a clean list of events (events.md, processing order).

For each blob in array order (the first failing blob decides): decode (§1) → protocol detection
(§3) → structural validation (§4.1, §5.1; 422) → semantic validation (§4.3, §5.2; 400) →
provider lookup and CMS signature check (§2; 400) → upgrade 2.0 to 3.0 (§5.2). Then: drop
pending results (§6), holder consistency (§8), flatten (§9), specimen filter (§10).

Pure: the clock (`now`), the provider registry snapshot and the trust anchors are parameters.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cryptography import x509

from common.errors import ServiceError, holder_mismatch
from events.decoding.cms import ProviderTrust, SignatureError, verify_detached_signature_cached
from events.decoding.envelope import decode_payload, payload_loc
from events.decoding.normalise import initial
from events.decoding.payloads import (
    STATUS_PENDING,
    upgrade,
    validate_provider_result,
    validate_structure,
)
from events.types import Event, Holder, ProviderResult


@dataclass
class IntakeResult:
    events: list[Event]
    providers: list[str]  # identifiers of the results, in order (for the submission record)
    event_counts: dict[str, int] = field(default_factory=dict)  # per event type, after filtering


def provider_lookup(identifier: str, providers: Mapping[str, ProviderTrust], *, blob_index: int) -> ProviderTrust:
    """The registered provider whose results are accepted (§2.2 step 1); else 400 `unknown_provider`."""
    provider = providers.get(identifier)
    if provider is None or not provider.events_accepted:
        raise ServiceError(
            400,
            "unknown_provider",
            "The provider is not registered or its results are not accepted.",
            [*payload_loc(blob_index), "providerIdentifier"],
        )
    return provider


def signature_check(
    payload: bytes,
    signature: str,
    *,
    provider: ProviderTrust,
    trust_anchors: Sequence[x509.Certificate],
    now: datetime,
    skew_seconds: int,
    blob_index: int,
) -> None:
    """The blob's CMS signature is trusted for its provider (§2.2); else 400 `invalid_signature`.
    Successful verifications are cached per blob and provider-trust snapshot (events.decoding.cms)."""
    try:
        verify_detached_signature_cached(
            payload, signature, provider=provider, trust_anchors=trust_anchors, now=now, skew_seconds=skew_seconds
        )
    except SignatureError:
        raise ServiceError(
            400, "invalid_signature", "The signature is not valid for this provider.", ["events", blob_index, "signature"]
        ) from None


def blob_intake(
    blob_index: int,
    blob: Mapping[str, Any],
    *,
    providers: Mapping[str, ProviderTrust],
    trust_anchors: Sequence[x509.Certificate],
    now: datetime,
    skew_seconds: int,
) -> ProviderResult:
    """One blob through decode → detect → structure → semantics → provider → signature → upgrade."""
    payload, document = decode_payload(blob["payload"], blob_index=blob_index)
    validated = validate_provider_result(document, blob_index=blob_index)
    provider = provider_lookup(validated.provider_identifier, providers, blob_index=blob_index)
    signature_check(
        payload,
        blob["signature"],
        provider=provider,
        trust_anchors=trust_anchors,
        now=now,
        skew_seconds=skew_seconds,
        blob_index=blob_index,
    )
    return upgrade(validated)


def drop_pending(results: Sequence[ProviderResult]) -> list[ProviderResult]:
    """Results with status `"pending"` contribute nothing (§6, decisions l, u)."""
    return [result for result in results if result.status != STATUS_PENDING]


def holder_key(holder: Holder) -> tuple[int | None, int | None, str, str]:
    """What makes two holders "the same" (§8): birth month and day, first- and last-name initials."""
    return holder.birth_month, holder.birth_day, initial(holder.first_name), initial(holder.last_name)


def holder_consistency(results: Sequence[ProviderResult]) -> None:
    """Every remaining result is about the holder of the first one (§8); else 400 `error code 99966`."""
    keys = [holder_key(result.holder) for result in results if result.holder is not None]
    if any(key != keys[0] for key in keys[1:]):
        raise holder_mismatch()


def flatten(results: Sequence[ProviderResult]) -> list[Event]:
    """All events of all results, results in array order, events in their order (§9)."""
    return [event for result in results for event in result.events]


def specimen_filter(events: Sequence[Event]) -> list[Event]:
    """Keep all events when every one is a specimen, otherwise drop the specimens (§10)."""
    if all(event.is_specimen for event in events):
        return list(events)
    return [event for event in events if not event.is_specimen]


def event_counts(events: Sequence[Event]) -> dict[str, int]:
    return dict(Counter(event.type for event in events))


def events_intake(
    blobs: list[dict],
    *,
    providers: Mapping[str, ProviderTrust],
    trust_anchors: Sequence[x509.Certificate],
    now: datetime,
    skew_seconds: int,
) -> IntakeResult:
    """The whole intake of the `events` array (events.md, processing order).

    `blobs` have already passed the body-structure check (string `payload` and `signature`).
    Raises `ServiceError` (400), `RequestValidationError` (422) or `UpstreamError` (99966).
    """
    results = [
        blob_intake(blob_index, blob, providers=providers, trust_anchors=trust_anchors, now=now, skew_seconds=skew_seconds)
        for blob_index, blob in enumerate(blobs)
    ]
    remaining = drop_pending(results)
    holder_consistency(remaining)
    events = specimen_filter(flatten(remaining))
    return IntakeResult(
        events=events,
        providers=[result.provider_identifier for result in results],
        event_counts=event_counts(events),
    )


def validate_provider_result_document(document: object, *, protocol: str) -> None:
    """Validate a request body as a 3.0 or 2.0 provider result (api.md §8); 422 with loc `["body", …]`."""
    validate_structure(document, protocol=protocol, loc_prefix=["body"])
