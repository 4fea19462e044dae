"""Structure checks of the request bodies (api.md §1, §5 step 1, §6): pure functions that
return plain data or raise the upstream-style 422."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from common.errors import RequestValidationError, validation_item


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


def _missing(loc: list[Any]) -> dict[str, Any]:
    return validation_item(loc, "field required", "value_error.missing")


def _events_parse(body: dict[str, Any], problems: list[dict[str, Any]]) -> list[dict[str, str]]:
    if "events" not in body:
        problems.append(_missing(["body", "events"]))
        return []
    events = body["events"]
    if not isinstance(events, list):
        problems.append(validation_item(["body", "events"], "value is not a valid list", "type_error.list"))
        return []
    blobs = []
    for index, blob in enumerate(events):
        if not isinstance(blob, dict):
            problems.append(validation_item(["body", "events", index], "value is not a valid dict", "type_error.dict"))
            continue
        for key in ("payload", "signature"):
            if key not in blob:
                problems.append(_missing(["body", "events", index, key]))
            elif not isinstance(blob[key], str):
                problems.append(validation_item(["body", "events", index, key], "str type expected", "type_error.str"))
        blobs.append(blob)
    return blobs


def _body_object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise RequestValidationError([validation_item(["body"], "value is not a valid dict", "type_error.dict")])
    return body


@dataclass(frozen=True)
class CredentialsRequest:
    events: list[dict[str, str]]
    stoken: uuid.UUID
    issue_commitment_message: str


def credentials_request_parse(body: Any) -> CredentialsRequest:
    """`CredentialsRequestData` (api.md §5 step 1)."""
    body = _body_object(body)
    problems: list[dict[str, Any]] = []
    events = _events_parse(body, problems)
    stoken = None
    if "stoken" not in body:
        problems.append(_missing(["body", "stoken"]))
    else:
        try:
            if not isinstance(body["stoken"], str):
                raise ValueError
            stoken = uuid.UUID(body["stoken"])
        except ValueError:
            problems.append(validation_item(["body", "stoken"], "value is not a valid uuid", "type_error.uuid"))
    if "issueCommitmentMessage" not in body:
        problems.append(_missing(["body", "issueCommitmentMessage"]))
    elif not isinstance(body["issueCommitmentMessage"], str):
        problems.append(validation_item(["body", "issueCommitmentMessage"], "str type expected", "type_error.str"))
    if problems:
        raise RequestValidationError(problems)
    assert stoken is not None
    return CredentialsRequest(events=events, stoken=stoken, issue_commitment_message=body["issueCommitmentMessage"])


def print_request_parse(body: Any) -> list[dict[str, str]]:
    """`CredentialsRequestEvents` (api.md §6)."""
    body = _body_object(body)
    problems: list[dict[str, Any]] = []
    events = _events_parse(body, problems)
    if problems:
        raise RequestValidationError(problems)
    return events
