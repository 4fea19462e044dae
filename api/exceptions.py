"""Rendering of errors as HTTP responses (api.md §9) for DRF views and plain Django views."""

from __future__ import annotations

import logging
from typing import Any

from django.http import HttpRequest, JsonResponse
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response

from common import errors

logger = logging.getLogger("common.errors")

_KNOWN = (errors.ServiceError, errors.UpstreamError, errors.RequestValidationError)


def error_response_parts(exc: BaseException) -> tuple[int, dict[str, Any], dict[str, str]]:
    """Status, body and extra headers for any exception; unknown ones become 500 internal_error."""
    if isinstance(exc, _KNOWN):
        logger.info("request failed", extra={"status": exc.status, "code": exc.code})
        token_error = getattr(exc, "code", "") in ("not_authenticated", "authentication_failed")
        headers = {"WWW-Authenticate": "Token"} if token_error else {}
        return exc.status, exc.body(), headers
    if isinstance(exc, drf_exceptions.MethodNotAllowed):
        return 405, {"detail": "Method not allowed."}, {}
    if isinstance(exc, drf_exceptions.NotFound):
        return 404, {"detail": "Not found."}, {}
    if isinstance(exc, drf_exceptions.APIException):
        return exc.status_code, {"detail": str(exc.detail), "code": str(exc.default_code)}, {}
    logger.error("unexpected error", exc_info=(type(exc), exc, None))
    internal = errors.internal_error()
    return internal.status, internal.body(), {}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    status, body, headers = error_response_parts(exc)
    return Response(body, status=status, headers=headers)


def not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse({"detail": "Not Found"}, status=404)


def server_error(request: HttpRequest) -> JsonResponse:
    return JsonResponse(errors.internal_error().body(), status=500)
