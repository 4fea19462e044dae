"""Provider results: protocol detection, validation and the 2.0 upgrade (events.md §3–§6).

The steps, each a plain function over the decoded JSON value, one module per concern:

- `coercions`: pydantic v1's lenient conversions (strings, booleans, integers, dates,
  datetimes, countries) with its exact 422 messages;
- `fields`: the field tables' `Field` and the reader that collects every problem of one result
  into one 422 (`RequestValidationError`, pydantic-style items, §4.4);
- `shapes`: the field tables of protocol 3.0 and 2.0 (§4.1, §5.1), stated once;
- `structure`: `structure_v3` / `structure_v2` (§4.1, §4.2, §5.1, §6);
- `semantics`: `semantics_v3` / `semantics_v2` (§4.3, §5.2): 400s with a stable code; events
  without a payload object are dropped here;
- `upgrade`: `upgrade_v2` (§5.2): one protocol 3.0 result with one negative test;
- `validate`: `detect_protocol` (§3) and `validate_provider_result`, which chains the first
  steps for one blob; the intake runs the provider lookup and the signature check before
  calling `upgrade`.

Nothing here may raise anything but `RequestValidationError` or `ServiceError` for any JSON
value: hostile input (huge numbers, long strings, odd types) always ends as a 4xx.
"""

from events.decoding.payloads.shapes import PROTOCOL_V2, PROTOCOL_V3, STATUS_COMPLETE, STATUS_PENDING
from events.decoding.payloads.validate import (
    ValidatedResult,
    detect_protocol,
    upgrade,
    validate_provider_result,
    validate_structure,
)

__all__ = [
    "PROTOCOL_V2",
    "PROTOCOL_V3",
    "STATUS_COMPLETE",
    "STATUS_PENDING",
    "ValidatedResult",
    "detect_protocol",
    "upgrade",
    "validate_provider_result",
    "validate_structure",
]
