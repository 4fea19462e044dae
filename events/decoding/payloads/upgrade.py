"""The 2.0 → 3.0 upgrade (§5.2): one protocol 3.0 result with one negative test."""

from __future__ import annotations

from collections.abc import Mapping

from events.decoding.payloads.semantics import v2_birth_month_day
from events.decoding.payloads.shapes import PROTOCOL_V3, ResultV2
from events.types import V2_BIRTH_YEAR, Event, Holder, NegativeTest, ProviderResult

# 2.0 `testType` → 3.0 test-type code (§5.2).
V2_TEST_TYPES: Mapping[str, str] = {"antigen": "LP217198-3", "pcr": "LP6464-4", "pcr-lamp": "LP6464-4"}
V2_UNKNOWN_TEST_TYPE = "unknown"
NOT_AVAILABLE = "not available"


def upgrade_v2(structured: ResultV2) -> ProviderResult:
    """The 2.0 result as one 3.0 result with one negative test (§5.2); only after `semantics_v2`."""
    result = structured.result
    month, day = v2_birth_month_day(result.holder)
    holder = Holder(
        first_name=result.holder.first_name_initial,
        last_name=result.holder.last_name_initial,
        infix="",
        birth_year=V2_BIRTH_YEAR,
        birth_month=month,
        birth_day=day,
    )
    test = NegativeTest(
        sample_date=result.sample_date,
        negative_result=result.negative_result,
        facility=NOT_AVAILABLE,
        type=V2_TEST_TYPES.get(result.test_type, V2_UNKNOWN_TEST_TYPE),
        name=NOT_AVAILABLE,
        manufacturer=NOT_AVAILABLE,
        country="NL",
    )
    event = Event(
        type="negativetest",
        unique=result.unique,
        is_specimen=result.is_specimen,
        source_provider=structured.provider_identifier,
        holder=holder,
        payload=test,
    )
    return ProviderResult(
        protocol_version=PROTOCOL_V3,
        provider_identifier=structured.provider_identifier,
        status=structured.status,
        holder=holder,
        events=[event],
    )
