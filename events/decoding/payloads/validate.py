"""One blob: §3 protocol detection → structure → semantics; the upgrade after the signature check."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from common.errors import RequestValidationError, validation_item
from events.decoding.payloads.fields import Loc, validate
from events.decoding.payloads.semantics import semantics_v2, semantics_v3
from events.decoding.payloads.shapes import (
    PROTOCOL_V2,
    PROTOCOL_V3,
    STATUS_PENDING,
    PendingResultV2,
    ProtocolVersionV2,
    ProtocolVersionV3,
    ResultV2,
    ResultV3,
)
from events.decoding.payloads.structure import structure_v2, structure_v3
from events.decoding.payloads.upgrade import upgrade_v2
from events.types import ProviderResult


@dataclass
class ValidatedResult:
    """One provider result that passed §3–§6: the identifier to look up and what becomes of it.

    Exactly one of `v3` (already a `ProviderResult`) and `v2` (upgraded by `upgrade`) is set.
    """

    protocol_version: str
    provider_identifier: str
    status: str
    v3: ProviderResult | None = None
    v2: PendingResultV2 | None = None

    @property
    def pending(self) -> bool:
        return self.status == STATUS_PENDING


# --------------------------------------------------------------------------------------------
# §3 Protocol detection.


def protocol_version_loc(loc_prefix: Sequence[Any]) -> Loc:
    return [*loc_prefix, "protocolVersion"]


def detect_protocol(document: object, *, loc_prefix: Sequence[Any]) -> str:
    """`"3.0"` or `"2.0"` (events.md §3); 422 with the exact upstream messages otherwise.

    A JSON value that is not an object counts as an object without `protocolVersion` (§1).
    """
    loc = protocol_version_loc(loc_prefix)
    if not isinstance(document, dict) or "protocolVersion" not in document:
        raise RequestValidationError([validation_item(loc, "field required", "value_error.missing")])
    version = document["protocolVersion"]
    if isinstance(version, str) and version in (PROTOCOL_V3, PROTOCOL_V2):
        return version
    raise RequestValidationError([validation_item(loc, "value should be 2.0 or 3.0", "value_error.invalid")])


# --------------------------------------------------------------------------------------------
# One blob: §3 → structure → semantics; the upgrade after the signature check.


def validate_provider_result(document: object, *, blob_index: int) -> ValidatedResult:
    """Protocol detection, structural and semantic validation of one blob's JSON (§3–§6).

    422 (`RequestValidationError`, loc `["body", i, "payload", …]`) for §3/§4.1/§5.1 problems,
    400 (`ServiceError`, loc `["events", i, "payload", …]`) for §4.3/§5.2 problems. A pending
    result gets the reduced checks of §6 only.
    """
    loc_prefix = ["body", blob_index, "payload"]
    protocol = detect_protocol(document, loc_prefix=loc_prefix)
    assert isinstance(document, dict)
    if protocol == PROTOCOL_V3:
        structured_v3 = structure_v3(document, loc_prefix=loc_prefix)
        if isinstance(structured_v3, ResultV3):
            result = semantics_v3(structured_v3, blob_index=blob_index)
        else:
            result = ProviderResult(PROTOCOL_V3, structured_v3.provider_identifier, STATUS_PENDING, None, [])
        return ValidatedResult(protocol, result.provider_identifier, result.status, v3=result)
    structured_v2 = structure_v2(document, loc_prefix=loc_prefix)
    if isinstance(structured_v2, ResultV2):
        semantics_v2(structured_v2, blob_index=blob_index)
    return ValidatedResult(protocol, structured_v2.provider_identifier, structured_v2.status, v2=structured_v2)


def upgrade(validated: ValidatedResult) -> ProviderResult:
    """The result in protocol 3.0 shape (§5.2); a pending result stays without holder and events (§6)."""
    if validated.v3 is not None:
        return validated.v3
    assert validated.v2 is not None
    if not isinstance(validated.v2, ResultV2):
        return ProviderResult(PROTOCOL_V3, validated.provider_identifier, STATUS_PENDING, None, [])
    return upgrade_v2(validated.v2)


def validate_structure(document: object, *, protocol: str, loc_prefix: Sequence[Any]) -> None:
    """Structural validation of a whole document as a `protocol` result (api.md §8); 422 on error.

    `protocolVersion` must be a string (required for 2.0, optional for 3.0, as upstream's models);
    its value is not checked.
    """
    if not isinstance(document, dict):
        raise RequestValidationError([validation_item(list(loc_prefix), "value is not a valid dict", "type_error.dict")])
    if protocol == PROTOCOL_V2:
        validate(ProtocolVersionV2, document, loc_prefix=loc_prefix)
        structure_v2(document, loc_prefix=loc_prefix)
    else:
        validate(ProtocolVersionV3, document, loc_prefix=loc_prefix)
        structure_v3(document, loc_prefix=loc_prefix)
