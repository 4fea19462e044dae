"""`POST /app/access_tokens/`: Inge-6, RVIG, then two JWTs per provider (access-tokens.md §1).

Only the outcome and the number of providers are logged: no token, BSN, name, birth date or hash
(decision d). Outbound calls go through `common.http` (pooling, timeouts, error mapping).
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime

from django.conf import settings

from common import errors
from common.http import downstream_post, invalid_response
from events.accesstokens import keys
from events.accesstokens.identity import NONCE_BYTES, provider_jwts
from events.accesstokens.inge6 import bearer_token, decrypt_bsn, verify_inge6_jwt
from events.accesstokens.rvig import RvigHolder, parse_vraag_response, vraag_request
from events.selectors import providers_for_tokens

logger = logging.getLogger(__name__)

RVIG_HEADERS = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}


def mock_bsn() -> str | None:
    """The mock-mode BSN (signers.md §4 step 5), honoured only in explicit development/test deployments."""
    if not (settings.INGE6_MOCK_MODE and settings.INGE6_MOCK_MODE_BSN):
        return None
    if not (settings.ALLOW_MOCKS and (settings.DEBUG or getattr(settings, "TEST_SETTINGS", False))):
        return None
    return settings.INGE6_MOCK_MODE_BSN


async def bsn_retrieve(*, token: str) -> str:
    """Inge-6 `bsn_attribute` call and BSN box (signers.md §4 steps 3–4); 401/403 → invalid token."""
    response = await downstream_post(
        "inge6",
        settings.INGE6_BSN_RETRIEVAL_URL,
        headers={"Authorization": f"Bearer {token}"},
        status_errors={401: errors.invalid_token(), 403: errors.invalid_token()},
    )
    try:
        body = response.content.decode("ascii")
    except UnicodeDecodeError:
        raise invalid_response("inge6", "body is not ASCII") from None
    try:
        return decrypt_bsn(body, private_key_b64=keys.inge4_nacl_private_key(), inge6_public_key_b64=keys.inge6_nacl_public_key())
    except errors.ServiceError:
        raise invalid_response("inge6", "BSN box did not open to digits") from None


async def rvig_holder_get(bsn: str) -> RvigHolder:
    """Name and birth date of the holder from RVIG (signers.md §5); also the `/health` lookup."""
    auth = (settings.RVIG_USERNAME, settings.RVIG_PASSWORD) if settings.RVIG_USERNAME else None
    response = await downstream_post("rvig", settings.RVIG_URL, content=vraag_request(bsn), headers=dict(RVIG_HEADERS), auth=auth)
    return parse_vraag_response(response.content)


async def access_tokens_issue(*, authorization: str | None, now: datetime) -> list[dict]:
    """The access-token response (access-tokens.md §1 steps 1–5)."""
    token = bearer_token(authorization)
    bsn = mock_bsn()
    if bsn is None:
        verify_inge6_jwt(
            token,
            public_key_pem=keys.inge6_jwt_public_key(),
            audiences=settings.INGE4_JWT_AUDIENCE,
            issuer=settings.INGE6_JWT_ISSUER,
            now=now,
        )
        bsn = await bsn_retrieve(token=token)
    holder = await rvig_holder_get(bsn)
    signing_key = keys.access_token_signing_key()
    tokens = [
        provider_jwts(
            provider,
            bsn=bsn,
            holder=holder,
            signing_key=signing_key,
            issuer=settings.IDENTITY_HASH_JWT_ISSUER_CLAIM,
            validity_seconds=settings.IDENTITY_HASH_JWT_VALIDITY_DURATION_SECONDS,
            now=now,
            nonce=secrets.token_bytes(NONCE_BYTES),
        )
        for provider in await providers_for_tokens()
    ]
    logger.info("access tokens issued", extra={"providers": len(tokens)})
    return tokens
