"""The error types every layer raises, and their HTTP bodies (api.md §9).

Two families: bodies inherited from upstream (exact `{"detail": [...]}` shapes) and this
project's `{"detail": text, "code": code[, "loc": [...]]}` bodies. Views never build error
bodies themselves; the exception handler in `api.exceptions` renders these.
"""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """An error with a stable `code` (api.md §9, family B)."""

    def __init__(self, status: int, code: str, detail: str, loc: list[Any] | None = None) -> None:
        super().__init__(code)
        self.status = status
        self.code = code
        self.detail = detail
        self.loc = loc
        # Why a downstream call failed, for operators (logs, check_signers); never in a body.
        self.reason = ""

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"detail": self.detail, "code": self.code}
        if self.loc is not None:
            body["loc"] = self.loc
        return body


class UpstreamError(Exception):
    """An error whose body upstream defined and the app knows: `{"detail": [text]}` (api.md §9 A)."""

    def __init__(self, status: int, detail: str, code: str) -> None:
        super().__init__(code)
        self.status = status
        self.detail = detail
        # Not part of the body: used for logging and the submission record only.
        self.code = code

    def body(self) -> dict[str, Any]:
        return {"detail": [self.detail]}


class RequestValidationError(Exception):
    """422 with pydantic-style items `{"loc", "msg", "type"}` (api.md §9 A, events.md §4.4)."""

    status = 422
    code = "validation_error"

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__("validation_error")
        self.errors = errors

    def body(self) -> dict[str, Any]:
        return {"detail": self.errors}


def validation_item(loc: list[Any], msg: str, type_: str) -> dict[str, Any]:
    return {"loc": list(loc), "msg": msg, "type": type_}


# Constructors for the errors the spec names, so that codes and texts live in one place.


def session_invalid() -> UpstreamError:
    return UpstreamError(401, "Session expired or is invalid", "session_invalid")


def holder_mismatch() -> UpstreamError:
    return UpstreamError(400, "error code 99966", "holder_mismatch")


def invalid_token_type() -> UpstreamError:
    return UpstreamError(401, "Invalid Authorization Token type", "invalid_token_type")


def invalid_token() -> UpstreamError:
    return UpstreamError(401, "Invalid Authorization Token", "invalid_token")


def downstream_timeout() -> ServiceError:
    return ServiceError(504, "downstream_timeout", "A downstream service did not answer in time.")


def downstream_unavailable() -> ServiceError:
    return ServiceError(503, "downstream_unavailable", "A downstream service is unavailable.")


def downstream_bad_response() -> ServiceError:
    return ServiceError(502, "downstream_bad_response", "A downstream service gave an invalid answer.")


def overloaded() -> ServiceError:
    """The worker sheds issuance work it cannot take on now (api.admission)."""
    return ServiceError(503, "overloaded", "The service is overloaded; try again later.")


def storage_unavailable() -> ServiceError:
    return ServiceError(503, "storage_unavailable", "The storage is unavailable.")


def internal_error() -> ServiceError:
    return ServiceError(500, "internal_error", "Internal server error.")
