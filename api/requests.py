"""Structure checks of the request bodies (api.md §1, §5 step 1, §6): pure functions that
return plain data or raise the upstream-style 422.

The body shapes below are the one definition of each request body: they validate it, report its
problems as pydantic v1 items (`events.decoding.payloads.fields`) and are the OpenAPI
components (`api.apis`). Request bodies are strict: only JSON strings are strings."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import Field

from common.errors import RequestValidationError, validation_item
from events.decoding.payloads.coercions import to_plain_str, to_uuid
from events.decoding.payloads.fields import Coerced, Shape, validate


def json_body_parse(raw: bytes, *, max_depth: int) -> Any:
    """Parse a JSON body; invalid JSON → 422 `value_error.jsondecode` (api.md §1)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RequestValidationError(
            [validation_item(["body", exc.start], "body is not valid UTF-8", "value_error.jsondecode")]
        ) from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RequestValidationError([validation_item(["body", exc.pos], exc.msg, "value_error.jsondecode")]) from None
    except RecursionError:
        # Nesting deeper than the parser's own recursion limit (about 1,000 levels): the same
        # answer as nesting past `max_depth` that the parser could still read.
        raise _too_deep() from None
    except ValueError:
        raise RequestValidationError([validation_item(["body", 0], "body is not valid JSON", "value_error.jsondecode")]) from None
    if json_depth_exceeds(value, max_depth):
        raise _too_deep()
    return value


def _too_deep() -> RequestValidationError:
    return RequestValidationError([validation_item(["body"], "JSON nesting is too deep", "value_error.jsondepth")])


def json_depth_exceeds(value: Any, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return False


# Request bodies are strict: only a JSON string is a string, null included ("str type expected").
RequestStr = Annotated[str, Coerced(to_plain_str, {"type": "string"}, strict_null=True)]


# api.md §5 step 1
class Blob(Shape):
    """One signed provider result: the provider's JSON and its detached CMS signature."""

    payload: RequestStr = Field(description="base64 of the provider's JSON bytes")
    signature: RequestStr = Field(description="base64 of a DER CMS SignedData, detached")


# api.md §6
class CredentialsRequestEvents(Shape):
    """The body of `POST /app/print/`: the signed provider results to turn into paper proofs."""

    events: list[Blob]


# api.md §5 step 1
class CredentialsRequestData(CredentialsRequestEvents):
    """The body of `POST /app/credentials/`: signed provider results, the session token and the
    app's issue commitment message."""

    stoken: Annotated[uuid.UUID, Coerced(to_uuid, {"type": "string", "format": "uuid"}, strict_null=True)]
    issue_commitment_message: RequestStr


def _blob_dicts(blobs: list[Blob]) -> list[dict[str, str]]:
    return [{"payload": blob.payload, "signature": blob.signature} for blob in blobs]


@dataclass(frozen=True)
class CredentialsRequest:
    events: list[dict[str, str]]
    stoken: uuid.UUID
    issue_commitment_message: str


def credentials_request_parse(body: Any) -> CredentialsRequest:
    """`CredentialsRequestData` (api.md §5 step 1)."""
    data = validate(CredentialsRequestData, body, loc_prefix=["body"])
    return CredentialsRequest(
        events=_blob_dicts(data.events), stoken=data.stoken, issue_commitment_message=data.issue_commitment_message
    )


def print_request_parse(body: Any) -> list[dict[str, str]]:
    """`CredentialsRequestEvents` (api.md §6)."""
    return _blob_dicts(validate(CredentialsRequestEvents, body, loc_prefix=["body"]).events)
