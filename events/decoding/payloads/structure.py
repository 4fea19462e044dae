"""Structural validation (§4.1, §4.2, §5.1, §6): the field tables applied to one result; 422."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from events.decoding.payloads.fields import Loc, Problems, read_fields, read_list, read_object
from events.decoding.payloads.shapes import (
    EVENT_V3,
    HOLDER_V2,
    HOLDER_V3,
    PAYLOAD_KINDS,
    PROVIDER_IDENTIFIER,
    RESULT_V2,
    STATUS_PENDING,
    STATUS_V2,
    STATUS_V3,
)
from events.types import Payload

# --------------------------------------------------------------------------------------------
# Structural results (§4.1, §5.1): what passed the 422 checks, before the 400 checks.


@dataclass
class StructuredEvent:
    """One 3.0 event after the structural check; `payloads` holds its non-null payload objects."""

    index: int
    type: str
    unique: str | None
    is_specimen: bool
    payloads: dict[str, Payload]


@dataclass
class StructuredHolderV3:
    first_name: str
    last_name: str
    infix: str | None
    birth_date: str


@dataclass
class StructuredResultV3:
    """A 3.0 result after the structural check; `holder` is None only for a pending result (§6)."""

    provider_identifier: str
    status: str
    holder: StructuredHolderV3 | None
    events: list[StructuredEvent]


@dataclass
class StructuredHolderV2:
    first_name_initial: str
    last_name_initial: str
    birth_day: str
    birth_month: str


@dataclass
class StructuredTestResultV2:
    unique: str
    sample_date: datetime
    test_type: str
    negative_result: bool
    is_specimen: bool
    holder: StructuredHolderV2


@dataclass
class StructuredResultV2:
    """A 2.0 result after the structural check; `result` is None only for a pending result (§6)."""

    provider_identifier: str
    status: str
    result: StructuredTestResultV2 | None


def _structure_event(problems: Problems, value: object, index: int) -> StructuredEvent | None:
    path: Loc = ["events", index]
    if not isinstance(value, dict):
        problems.add(path, "value is not a valid dict", "type_error.dict")
        return None
    header = read_fields(problems, value, path, EVENT_V3)
    payloads: dict[str, Payload] = {}
    for kind, (payload_class, fields) in PAYLOAD_KINDS.items():
        obj = read_object(problems, value, path, kind, required=False)
        if obj is None:
            continue
        values = read_fields(problems, obj, [*path, kind], fields)
        if values is not None:
            payloads[kind] = payload_class(**values)
    if header is None:
        return None
    return StructuredEvent(index=index, payloads=payloads, **header)


def _is_pending(document: Mapping[str, Any]) -> bool:
    """A result whose `status` is exactly `"pending"` (§6)."""
    return document.get("status") == STATUS_PENDING


def structure_v3(document: Mapping[str, Any], *, loc_prefix: Sequence[Any]) -> StructuredResultV3:
    """Structural validation of a 3.0 result (§4.1, §4.2; reduced for a pending result, §6); 422."""
    problems = Problems(loc_prefix)
    head = read_fields(problems, document, [], (PROVIDER_IDENTIFIER, STATUS_V3))
    if _is_pending(document):
        problems.raise_if_any()
        assert head is not None
        return StructuredResultV3(head["provider_identifier"], head["status"], holder=None, events=[])
    holder_obj = read_object(problems, document, [], "holder", required=True)
    holder_values = read_fields(problems, holder_obj, ["holder"], HOLDER_V3) if holder_obj is not None else None
    raw_events = read_list(problems, document, [], "events")
    events = [_structure_event(problems, value, index) for index, value in enumerate(raw_events or [])]
    problems.raise_if_any()
    assert head is not None and holder_values is not None
    return StructuredResultV3(
        provider_identifier=head["provider_identifier"],
        status=head["status"],
        holder=StructuredHolderV3(**holder_values),
        events=[event for event in events if event is not None],
    )


def structure_v2(document: Mapping[str, Any], *, loc_prefix: Sequence[Any]) -> StructuredResultV2:
    """Structural validation of a 2.0 result (§5.1; reduced for a pending result, §6); 422."""
    problems = Problems(loc_prefix)
    head = read_fields(problems, document, [], (PROVIDER_IDENTIFIER, STATUS_V2))
    if _is_pending(document):
        problems.raise_if_any()
        assert head is not None
        return StructuredResultV2(head["provider_identifier"], head["status"], result=None)
    result_obj = read_object(problems, document, [], "result", required=True)
    result_values = holder_values = None
    if result_obj is not None:
        result_values = read_fields(problems, result_obj, ["result"], RESULT_V2)
        holder_obj = read_object(problems, result_obj, ["result"], "holder", required=True)
        if holder_obj is not None:
            holder_values = read_fields(problems, holder_obj, ["result", "holder"], HOLDER_V2)
    problems.raise_if_any()
    assert head is not None and result_values is not None and holder_values is not None
    return StructuredResultV2(
        provider_identifier=head["provider_identifier"],
        status=head["status"],
        result=StructuredTestResultV2(holder=StructuredHolderV2(**holder_values), **result_values),
    )
