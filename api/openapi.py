"""What the OpenAPI document (`/openapi.json`) says about each operation: summaries, descriptions
written for the app and print-portal developers who read it, tags, examples built from sample
events, the documented error responses with their codes, and the security schemes.

Documentation only: nothing here is used to validate or answer a request.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from rest_framework import serializers

# --- Tags ----------------------------------------------------------------------------------------

TAG_HEALTH = "Health"
TAG_APP = "App: issuance"
TAG_ACCESS = "App: access tokens"
TAG_PRINT = "Print portal"
TAG_SCHEMAS = "Provider payload schemas"

TAGS = [
    {"name": TAG_APP, "description": "The holder's app turns signed events into a domestic and EU certificates."},
    {"name": TAG_ACCESS, "description": "The app exchanges its DigiD session for tokens to fetch events from providers."},
    {"name": TAG_PRINT, "description": "The print portal turns signed events into paper certificates."},
    {"name": TAG_HEALTH, "description": "Liveness and the state of the database and the RVIG connection."},
    {"name": TAG_SCHEMAS, "description": "Validation-only endpoints that publish the provider result formats."},
]

# --- Security schemes ----------------------------------------------------------------------------

PRINT_TOKEN = "PrintToken"
INGE6_JWT = "Inge6Jwt"

SECURITY_SCHEMES = {
    PRINT_TOKEN: {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": (
            "A print-portal API token issued by staff, sent as `Authorization: Token <key>`. "
            "Missing: 401 `not_authenticated`; unknown or revoked: 401 `authentication_failed`."
        ),
    },
    INGE6_JWT: {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "The JWT the app received from the DigiD login service (Inge-6), as `Authorization: Bearer <JWT>`.",
    },
}

# --- Sample events ---------------------------------------------------------------------------------

SAMPLE_HOLDER = {"firstName": "Demi", "infix": "van", "lastName": "Testen", "birthDate": "1980-05-01"}

SAMPLE_RESULT_3_0: dict[str, Any] = {
    "protocolVersion": "3.0",
    "providerIdentifier": "ZZZ",
    "status": "complete",
    "holder": SAMPLE_HOLDER,
    "events": [
        {
            "type": "vaccination",
            "unique": "ee5afb32-3ef5-4fdf-94e3-e61b752dbed9",
            "isSpecimen": True,
            "vaccination": {
                "date": "2021-06-01",
                "hpkCode": "2924528",
                "doseNumber": 2,
                "totalDoses": 2,
                "country": "NLD",
            },
        }
    ],
}

SAMPLE_RESULT_2_0: dict[str, Any] = {
    "protocolVersion": "2.0",
    "providerIdentifier": "ZZZ",
    "status": "complete",
    "result": {
        "unique": "7ba5d7b1-3a45-4c62-b2b3-4b1f2a3e7c11",
        "sampleDate": "2021-06-01T05:40:00Z",
        "testType": "antigen",
        "negativeResult": True,
        "isSpecimen": True,
        "holder": {"firstNameInitial": "D", "lastNameInitial": "T", "birthDay": "1", "birthMonth": "5"},
    },
}

SAMPLE_BLOB = {
    "payload": base64.b64encode(json.dumps(SAMPLE_RESULT_3_0, separators=(",", ":")).encode()).decode(),
    # The provider's detached CMS signature over the payload bytes (shortened here).
    "signature": "MIIKcQYJKoZIhvcNAQcCoIIKYjCCCl4CAQExDTALBglghkgBZQMEAgEwCwYJKoZIhvcNAQcBoIIH",
}

SAMPLE_ORIGIN_DOMESTIC = {
    "type": "vaccination",
    "eventTime": "2021-06-01T00:00:00+00:00",
    "expirationTime": "2022-06-01T00:00:00+00:00",
    "validFrom": "2021-06-15T00:00:00+00:00",
}
SAMPLE_ORIGIN_EU = {
    "type": "vaccination",
    "eventTime": "2021-06-01T00:00:00+00:00",
    "expirationTime": "2022-05-31T00:00:00+00:00",
    "validFrom": "2021-06-01T00:00:00+00:00",
}
SAMPLE_DCC = {
    "ver": "1.3.0",
    "nam": {"fn": "van Testen", "fnt": "VAN<TESTEN", "gn": "Demi", "gnt": "DEMI"},
    "dob": "1980-05-01",
    "v": [
        {
            "tg": "840539006",
            "vp": "1119349007",
            "mp": "EU/1/20/1528",
            "ma": "ORG-100030215",
            "dn": 2,
            "sd": 2,
            "dt": "2021-06-01",
            "co": "NL",
            "is": "Ministry of Health Welfare and Sport",
            "ci": "URN:UCI:01:NL:JLXN4P4ONJH7VMELWYUT42#6",
        }
    ],
    "t": None,
    "r": None,
}

# --- Error responses -------------------------------------------------------------------------------


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="a short human-readable text; rely on `code`")
    code = serializers.CharField(help_text="a stable error code")
    loc = serializers.ListField(
        child=serializers.JSONField(), required=False, help_text="path of the offending value in the request body"
    )


class UpstreamErrorSerializer(serializers.Serializer):
    detail = serializers.JSONField(
        help_text="a list of strings, or for 422 a list of {loc, msg, type} items (bodies the app already knows)"
    )


def _coded(status: int, code: str, detail: str, loc: list[Any] | None = None) -> OpenApiExample:
    value: dict[str, Any] = {"detail": detail, "code": code}
    if loc is not None:
        value["loc"] = loc
    return OpenApiExample(code, value=value, status_codes=[status], response_only=True)


def _upstream(status: int, name: str, detail: Any) -> OpenApiExample:
    return OpenApiExample(name, value={"detail": detail}, status_codes=[status], response_only=True)


EXAMPLES_400_EVENTS = [
    _coded(400, "invalid_signature", "The signature is not valid for this provider.", ["events", 0, "signature"]),
    _coded(400, "unknown_provider", "Unknown provider.", ["events", 0, "payload", "providerIdentifier"]),
    _coded(400, "invalid_payload_encoding", "The payload is not valid base64.", ["events", 0, "payload"]),
    _upstream(400, "holder mismatch", ["error code 99966"]),
]
EXAMPLE_422 = _upstream(
    422,
    "validation error",
    [{"loc": ["body", "events", 0, "payload"], "msg": "field required", "type": "value_error.missing"}],
)
DOWNSTREAM_EXAMPLES = {
    502: _coded(502, "downstream_bad_response", "A downstream system answered with an error."),
    503: _coded(503, "downstream_unavailable", "A downstream system is unavailable."),
    504: _coded(504, "downstream_timeout", "A downstream system did not answer in time."),
}

ERROR_DESCRIPTIONS = {
    413: "`request_too_large`: the body is larger than the configured maximum (1 MiB by default).",
    429: "`rate_limited`: too many requests from this client; retry after the `Retry-After` seconds.",
    502: "`downstream_bad_response`: a signer, the DigiD service or RVIG answered with an error or nonsense.",
    503: "`downstream_unavailable`: a downstream system could not be reached or reported itself "
    "unavailable; `storage_unavailable`: the database is unreachable.",
    504: "`downstream_timeout`: a downstream call did not finish in time.",
}


def error_responses(*statuses: int, extra: dict[int, OpenApiResponse] | None = None) -> dict[int, OpenApiResponse]:
    """The documented error responses of an operation, with descriptions and examples."""
    out: dict[int, OpenApiResponse] = {}
    for status in statuses:
        if extra and status in extra:
            out[status] = extra[status]
        elif status == 413:
            out[status] = OpenApiResponse(
                ErrorSerializer,
                ERROR_DESCRIPTIONS[413],
                [_coded(413, "request_too_large", "Request body is too large.")],
            )
        elif status == 422:
            out[status] = OpenApiResponse(
                UpstreamErrorSerializer, "The body or a payload does not have the required structure.", [EXAMPLE_422]
            )
        elif status == 429:
            out[status] = OpenApiResponse(
                ErrorSerializer, ERROR_DESCRIPTIONS[429], [_coded(429, "rate_limited", "Too many requests.")]
            )
        elif status in DOWNSTREAM_EXAMPLES:
            examples = [DOWNSTREAM_EXAMPLES[status]]
            if status == 503:
                examples.append(_coded(503, "storage_unavailable", "The database is unavailable."))
            out[status] = OpenApiResponse(ErrorSerializer, ERROR_DESCRIPTIONS[status], examples)
        else:
            raise ValueError(f"no default documentation for {status}")
    return out


EVENTS_400 = OpenApiResponse(
    ErrorSerializer,
    "An event is not acceptable: `invalid_payload_encoding`, `invalid_payload_json`, `unknown_provider`, "
    "`invalid_signature`, `event_type_mismatch`, `invalid_birth_date`, `naive_datetime`"
    " (and for credentials `invalid_issue_commitment_message`), with `loc` pointing at the value. "
    'Events about different people: `{"detail": ["error code 99966"]}`.',
    EXAMPLES_400_EVENTS,
)
SESSION_401 = OpenApiResponse(
    UpstreamErrorSerializer,
    "The `stoken` is unknown, has expired (60 seconds by default) or was already used.",
    [_upstream(401, "session expired", ["Session expired or is invalid"])],
)
PRINT_401 = OpenApiResponse(
    ErrorSerializer,
    "The print token is missing (`not_authenticated`) or unknown or revoked (`authentication_failed`); "
    "the response carries `WWW-Authenticate: Token`.",
    [
        _coded(401, "not_authenticated", "Authentication credentials were not provided."),
        _coded(401, "authentication_failed", "Invalid token."),
    ],
)
ACCESS_401 = OpenApiResponse(
    UpstreamErrorSerializer,
    "The `Authorization` header is missing or not a bearer token, or the DigiD JWT is invalid or was refused.",
    [
        _upstream(401, "wrong token type", ["Invalid Authorization Token type"]),
        _upstream(401, "invalid token", ["Invalid Authorization Token"]),
    ],
)

# --- Operations --------------------------------------------------------------------------------------

HEALTH: dict[str, Any] = {
    "summary": "Service health",
    "description": (
        "Always answers 200 while the process runs, with the state of the database and of the RVIG "
        "connection. Messages are deliberately vague; details go to the service log. `GET /` answers the same."
    ),
    "examples": [
        OpenApiExample(
            "healthy database, RVIG unreachable",
            value={
                "running": True,
                "service_status": [
                    {"service": "database", "is_healthy": True, "message": "ping succeeded"},
                    {"service": "rvig", "is_healthy": False, "message": "Could not perform test call."},
                ],
            },
            response_only=True,
        )
    ],
}

PREPARE_ISSUE: dict[str, Any] = {
    "summary": "Open an issuance session",
    "description": (
        "Starts the issuance of a domestic certificate: the domestic signer prepares an issuance and the "
        "service opens a short-lived session for it. The answer holds the session token (`stoken`) and the "
        "signer's message (base64). The app builds its commitments from that message and calls "
        "`/app/credentials/` with the same `stoken` within the session lifetime (60 seconds by default). "
        "A session can be used once. No authentication; the request body is ignored."
    ),
    "examples": [
        OpenApiExample(
            "session",
            value={
                "stoken": "a019e902-86a0-4b1d-bff0-5c89f3cfc4d9",
                "prepareIssueMessage": base64.b64encode(
                    b'{"issuerPkId":"TST","nonce":"fKzSYGMdb8EA==","credentialAmount":28}'
                ).decode(),
            },
            response_only=True,
        )
    ],
}

CREDENTIALS: dict[str, Any] = {
    "summary": "Issue certificates for the app",
    "description": (
        "Turns the holder's signed events into certificates. Each element of `events` is a provider result "
        "exactly as the provider returned it: the base64 of its JSON and a detached CMS signature over those "
        "bytes, which must verify against the certificates registered for the provider. The session "
        "(`stoken` from `/app/prepare_issue/`) is checked first and used up only when the request is valid. "
        "The Dutch business rules decide which certificates the events support: at most one domestic green "
        "card (with the domestic signer's messages, for the app's Idemix wallet) and one EU Digital COVID "
        "Certificate (`HC1:…`) per qualifying vaccination, recovery or negative test. "
        "`issueCommitmentMessage` is only read when a domestic card is due. An empty `events` list yields no "
        "certificates."
    ),
    "examples": [
        OpenApiExample(
            "two doses of a vaccination",
            value={
                "events": [SAMPLE_BLOB],
                "stoken": "a019e902-86a0-4b1d-bff0-5c89f3cfc4d9",
                "issueCommitmentMessage": base64.b64encode(b'{"n_2":"...","combinedProofs":[]}').decode(),
            },
            request_only=True,
        ),
        OpenApiExample(
            "a domestic card and an EU certificate",
            value={
                "domesticGreencard": {
                    "origins": [SAMPLE_ORIGIN_DOMESTIC],
                    "createCredentialMessages": base64.b64encode(b'[{"ism":{},"attributes":["..."]}]').decode(),
                },
                "euGreencards": [{"origins": [SAMPLE_ORIGIN_EU], "credential": "HC1:NCFOXN%TS3DH3ZSUZK+.V0ETD%65NL-AH..."}],
            },
            response_only=True,
        ),
    ],
}

PRINT: dict[str, Any] = {
    "summary": "Issue paper certificates for the print portal",
    "description": (
        "For the print portal: turns the holder's signed events into paper certificates, a domestic one "
        "(its attributes and the `NL2:` QR content) and an EU one (the DCC as signed, with absent parts as "
        "null, its expiry and the `HC1:` QR content). Either can be null when the events do not support it. "
        "Requires a print-portal token (`Authorization: Token <key>`), which is checked before the body is read."
    ),
    "examples": [
        OpenApiExample("a vaccination", value={"events": [SAMPLE_BLOB]}, request_only=True),
        OpenApiExample(
            "both certificates",
            value={
                "domestic": {
                    "attributes": {
                        "isSpecimen": "1",
                        "isPaperProof": "1",
                        "validFrom": "1623715200",
                        "validForHours": "2016",
                        "firstNameInitial": "D",
                        "lastNameInitial": "T",
                        "birthDay": "1",
                        "birthMonth": "5",
                    },
                    "qr": "NL2:...",
                },
                "european": {"expirationTime": "2021-07-20T08:15:02+00:00", "dcc": SAMPLE_DCC, "qr": "HC1:..."},
            },
            response_only=True,
        ),
    ],
}

ACCESS_TOKENS: dict[str, Any] = {
    "summary": "Tokens to fetch events from providers",
    "description": (
        "After the holder logged in with DigiD, the app sends the JWT it received from the login service. "
        "The service retrieves the holder's citizen service number (BSN) with it and answers, for every "
        "provider that takes part, two short-lived JWTs: one for the provider's lookup (`unomi`) and one for "
        "fetching events (`event`). They carry a per-provider pseudonym of the holder, never the BSN itself. "
        "The request body is ignored."
    ),
    "examples": [
        OpenApiExample(
            "one provider",
            value=[{"provider_identifier": "ZZZ", "unomi": "eyJhbGciOiJIUzI1NiJ9...", "event": "eyJhbGciOiJIUzI1NiJ9..."}],
            response_only=True,
        )
    ],
}

DOC_3_0: dict[str, Any] = {
    "summary": "Validate a provider result (protocol 3.0)",
    "description": (
        "Publishes the format in which providers deliver vaccination, recovery and test results (protocol "
        "3.0): the body is validated as such a result (without its signature) and the answer is `null`. "
        "Nothing is stored or issued."
    ),
    "examples": [OpenApiExample("a vaccination result", value=SAMPLE_RESULT_3_0, request_only=True)],
}

DOC_2_0: dict[str, Any] = {
    "summary": "Validate a provider result (protocol 2.0)",
    "description": (
        "Publishes the older protocol 2.0 format (negative tests only): the body is validated as such a "
        "result (without its signature) and the answer is `null`. Nothing is stored or issued."
    ),
    "examples": [OpenApiExample("a negative test result", value=SAMPLE_RESULT_2_0, request_only=True)],
}


def postprocess(result: dict[str, Any], generator: object, request: object, public: bool) -> dict[str, Any]:
    """drf-spectacular post-processing hook: the tag descriptions and the security schemes."""
    result["tags"] = TAGS
    result.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
    return result


# Security requirements of the two authenticated operations (`extend_schema(auth=...)` takes
# requirement objects, although its annotation says strings).
PRINT_AUTH: Any = [{PRINT_TOKEN: []}]
ACCESS_AUTH: Any = [{INGE6_JWT: []}]
