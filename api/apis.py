"""The app and print API (api.md §2–§8). Views are thin: parse, call one service, shape output."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from api import openapi as docs
from api.fastpath import APIView
from api.health import application_health
from api.requests import (
    CredentialsRequestData,
    CredentialsRequestEvents,
    credentials_request_parse,
    json_body_parse,
    print_request_parse,
)
from common import errors
from events.accesstokens.service import access_tokens_issue
from events.decoding.payloads.shapes import ResultV2, ResultV3
from events.intake import validate_provider_result_document
from signing.issuance import credentials_issue, issuance_prepare, print_proof_issue
from signing.services import print_client_authenticate


def request_now() -> datetime:
    """The request's single "now" (README conventions)."""
    return datetime.now(timezone.utc)


def body_json(request: Request) -> Any:
    try:
        raw = request._request.body
    except RequestDataTooBig:
        raise errors.ServiceError(413, "request_too_large", "Request body is too large.") from None
    return json_body_parse(raw, max_depth=settings.REQUEST_MAX_JSON_DEPTH)


# --- OpenAPI shapes of the responses. The request bodies are documented by the shapes that
# validate them (api.requests, events.decoding.payloads.shapes; drf-spectacular's pydantic support).


class GreenCardOriginSerializer(serializers.Serializer):
    type = serializers.CharField()
    eventTime = serializers.CharField()
    expirationTime = serializers.CharField()
    validFrom = serializers.CharField()


class HealthApi(APIView):
    @extend_schema(
        tags=[docs.TAG_HEALTH],
        **docs.HEALTH,
        responses=inline_serializer(
            "ApplicationHealth",
            {
                "running": serializers.BooleanField(),
                "service_status": inline_serializer(
                    "ServiceHealth",
                    {
                        "service": serializers.CharField(),
                        "is_healthy": serializers.BooleanField(),
                        "message": serializers.CharField(),
                    },
                    many=True,
                ),
            },
        ),
    )
    async def get(self, request: Request) -> Response:
        return Response(await application_health())


class PrepareIssueApi(APIView):
    @extend_schema(
        tags=[docs.TAG_APP],
        **docs.PREPARE_ISSUE,
        request=None,
        responses={
            200: inline_serializer(
                "PrepareIssueResponse",
                {"stoken": serializers.UUIDField(), "prepareIssueMessage": serializers.CharField()},
            ),
            **docs.error_responses(429, 502, 503, 504),
        },
    )
    async def post(self, request: Request) -> Response:
        return Response(await issuance_prepare())


class CredentialsIssueApi(APIView):
    @extend_schema(
        operation_id="app_credentials",
        tags=[docs.TAG_APP],
        **docs.CREDENTIALS,
        request=CredentialsRequestData,
        responses={
            200: inline_serializer(
                "MobileAppProofOfVaccination",
                {
                    "domesticGreencard": inline_serializer(
                        "DomesticGreenCard",
                        {"origins": GreenCardOriginSerializer(many=True), "createCredentialMessages": serializers.CharField()},
                        allow_null=True,
                    ),
                    "euGreencards": inline_serializer(
                        "EuGreenCard",
                        {"origins": GreenCardOriginSerializer(many=True), "credential": serializers.CharField()},
                        many=True,
                    ),
                },
            ),
            **docs.error_responses(400, 401, 413, 422, 429, 502, 503, 504, extra={400: docs.EVENTS_400, 401: docs.SESSION_401}),
        },
    )
    async def post(self, request: Request) -> Response:
        now = request_now()
        data = credentials_request_parse(body_json(request))
        result = await credentials_issue(
            blobs=data.events, stoken=data.stoken, issue_commitment_message=data.issue_commitment_message, now=now
        )
        return Response(result)


def print_token_from_header(header: str | None) -> str:
    if not header or not header.startswith("Token "):
        raise errors.ServiceError(401, "not_authenticated", "Authentication credentials were not provided.")
    key = header[len("Token ") :].strip()
    if not key:
        raise errors.ServiceError(401, "not_authenticated", "Authentication credentials were not provided.")
    return key


class PrintProofApi(APIView):
    @extend_schema(
        operation_id="app_print",
        tags=[docs.TAG_PRINT],
        **docs.PRINT,
        auth=docs.PRINT_AUTH,
        request=CredentialsRequestEvents,
        responses={
            200: inline_serializer(
                "PrintProof",
                {
                    "domestic": inline_serializer(
                        "PrintDomestic",
                        {"attributes": serializers.DictField(child=serializers.CharField()), "qr": serializers.CharField()},
                        allow_null=True,
                    ),
                    "european": inline_serializer(
                        "PrintEuropean",
                        {
                            "expirationTime": serializers.CharField(),
                            "dcc": serializers.JSONField(),
                            "qr": serializers.CharField(),
                        },
                        allow_null=True,
                    ),
                },
            ),
            **docs.error_responses(400, 401, 413, 422, 429, 502, 503, 504, extra={400: docs.EVENTS_400, 401: docs.PRINT_401}),
        },
    )
    async def post(self, request: Request) -> Response:
        now = request_now()
        key = print_token_from_header(request.META.get("HTTP_AUTHORIZATION"))
        client = await print_client_authenticate(key=key)
        if client is None:
            raise errors.ServiceError(401, "authentication_failed", "Invalid token.")
        blobs = print_request_parse(body_json(request))
        return Response(await print_proof_issue(blobs=blobs, now=now, print_client=client))


class AccessTokensApi(APIView):
    @extend_schema(
        tags=[docs.TAG_ACCESS],
        **docs.ACCESS_TOKENS,
        auth=docs.ACCESS_AUTH,
        request=None,
        responses={
            200: inline_serializer(
                "EventDataProviderJWT",
                {
                    "provider_identifier": serializers.CharField(),
                    "unomi": serializers.CharField(),
                    "event": serializers.CharField(),
                },
                many=True,
            ),
            **docs.error_responses(401, 429, 502, 503, 504, extra={401: docs.ACCESS_401}),
        },
    )
    async def post(self, request: Request) -> Response:
        now = request_now()
        return Response(await access_tokens_issue(authorization=request.META.get("HTTP_AUTHORIZATION"), now=now))


DOCUMENTATION_RESPONSES = {200: None, **docs.error_responses(413, 422, 429)}


class DataProviderEventsResultApi(APIView):
    @extend_schema(
        request=ResultV3,
        responses=DOCUMENTATION_RESPONSES,
        tags=[docs.TAG_SCHEMAS],
        **docs.DOC_3_0,
    )
    async def post(self, request: Request) -> Response:
        validate_provider_result_document(body_json(request), protocol="3.0")
        return Response(None)


class V2EventApi(APIView):
    @extend_schema(
        request=ResultV2,
        responses=DOCUMENTATION_RESPONSES,
        tags=[docs.TAG_SCHEMAS],
        **docs.DOC_2_0,
    )
    async def post(self, request: Request) -> Response:
        validate_provider_result_document(body_json(request), protocol="2.0")
        return Response(None)
