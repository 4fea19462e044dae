"""Development stand-ins for Inge-6 and RVIG (aiohttp), so that the access-token flow runs on a
fresh machine (`manage.py run_fake_identity_services`, `manage.py mint_inge6_jwt`).

DEVELOPMENT AND TESTS ONLY. The fake Inge-6 takes the BSN from a `bsn` claim of the dev JWT
(the real Inge-6 looks it up from the DigiD session); the fake RVIG knows a few fictional
persons and answers result code 33 for any other BSN. Neither logs requests or bodies.
`FakeControls` lets tests make either fake misbehave (status codes, garbage, slowness).
"""

from __future__ import annotations

import asyncio
import base64
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import defusedxml.ElementTree as SafeElementTree
import jwt
from aiohttp import web
from django.conf import settings
from nacl.public import Box, PrivateKey, PublicKey

from events.accesstokens.rvig import LO3, LRD, SOAP_ENV

INGE6_PATH = "/bsn_attribute"
RVIG_PATH = "/gba-v/online/lo3services/adhoc"

# Fictional test persons: BSN → (first names, surname, RVIG birth date YYYYMMDD).
FAKE_PERSONS: dict[str, tuple[str, str, str]] = {
    "999999138": ("Naomi", "Goede", "19870401"),
    "999995571": ("Naomi", "Goede", "19870401"),
    "999995844": ("Bernhard", "Boer", "19710000"),
    "999990019": ("Bob", "Bouwer", "19600101"),
    # Diacritics, an unknown birth date and a surname with trailing whitespace kept verbatim.
    "999990743": ("Zoë Émile", "Ŝmit-d'Ançay\n   ", "00000000"),
}


@dataclass
class FakeControls:
    """How the fakes behave; tests change these between requests.

    `inge6` / `rvig`: `"ok"`, an HTTP status (int) to answer with, `"garbage"` (a body that is not
    what the service expects), `"slow"` (sleep `delay` seconds first); RVIG also `"code1"` (a
    technical-error result), `"fault"` (a SOAP fault with HTTP 500) and `"malformed"` (broken XML).
    """

    inge6: str | int = "ok"
    rvig: str | int = "ok"
    delay: float = 5.0
    requests: list[dict[str, Any]] = field(default_factory=list)


CONTROLS = web.AppKey("controls", FakeControls)
INGE6_KEYS = web.AppKey("inge6_keys", dict)


def mint_inge6_jwt(
    *, bsn: str, private_key_pem: bytes, audience: str, issuer: str, now: datetime, lifetime_seconds: int = 3600
) -> str:
    """A dev Inge-6 JWT carrying the BSN for the fake Inge-6 (never a real Inge-6 token)."""
    issued = int(now.timestamp())
    claims: dict[str, Any] = {
        "aud": [audience],
        "bsn": bsn,
        "exp": issued + lifetime_seconds,
        "iat": issued,
        "nbf": issued,
        "sub": secrets.token_hex(16),
    }
    if issuer:
        claims["iss"] = issuer
    return jwt.encode(claims, private_key_pem, algorithm="RS256")


def inge6_box(bsn: str, *, inge6_private_key_b64: str, service_public_key_b64: str) -> str:
    """What Inge-6 answers: base64 of `nonce || box` of the BSN (signers.md §4 step 4)."""
    box = Box(PrivateKey(base64.b64decode(inge6_private_key_b64)), PublicKey(base64.b64decode(service_public_key_b64)))
    return base64.b64encode(bytes(box.encrypt(bsn.encode("ascii")))).decode("ascii")


async def _misbehave(mode: str | int, controls: FakeControls) -> web.Response | None:
    if mode == "slow":
        await asyncio.sleep(controls.delay)
    if isinstance(mode, int):
        return web.Response(status=mode, text="fake error")
    return None


async def _inge6_bsn_attribute(request: web.Request) -> web.Response:
    controls = request.app[CONTROLS]
    controls.requests.append({"system": "inge6", "headers": dict(request.headers), "body": await request.read()})
    failure = await _misbehave(controls.inge6, controls)
    if failure is not None:
        return failure
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return web.Response(status=401, text="no bearer token")
    keys = request.app[INGE6_KEYS]
    try:
        claims = jwt.decode(
            header[len("Bearer ") :].strip(),
            keys["jwt_public_key_pem"],
            algorithms=["RS256"],
            options={"verify_aud": False, "require": ["exp"]},
        )
    except jwt.PyJWTError:
        return web.Response(status=401, text="invalid token")
    bsn = claims.get("bsn")
    if not isinstance(bsn, str) or not bsn.isdigit():
        return web.Response(status=403, text="no session")
    if controls.inge6 == "garbage":
        return web.Response(text="this is not a box")
    return web.Response(
        text=inge6_box(
            bsn, inge6_private_key_b64=keys["nacl_private_key_b64"], service_public_key_b64=keys["service_public_key_b64"]
        )
    )


def inge6_app(
    *,
    jwt_public_key_pem: bytes,
    nacl_private_key_b64: str,
    service_public_key_b64: str,
    controls: FakeControls | None = None,
) -> web.Application:
    """The fake Inge-6: `POST /bsn_attribute` with the dev JWT → the boxed BSN."""
    app = web.Application()
    app[CONTROLS] = controls or FakeControls()
    app[INGE6_KEYS] = {
        "jwt_public_key_pem": jwt_public_key_pem,
        "nacl_private_key_b64": nacl_private_key_b64.strip(),
        "service_public_key_b64": service_public_key_b64.strip(),
    }
    app.router.add_post(INGE6_PATH, _inge6_bsn_attribute)
    return app


def _soap(inner: str) -> str:
    return (
        "<?xml version='1.0' encoding='UTF-8'?>\n"
        f'<soap:Envelope xmlns:soap="{SOAP_ENV}"><soap:Body>{inner}</soap:Body></soap:Envelope>'
    )


def rvig_response(person: tuple[str, str, str] | None, *, code: str = "0", letter: str = "A") -> str:
    """A `vraagResponse` for one person (category 1) or none, with the given result code."""
    if person is None:
        lists = '<persoonslijsten xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:nil="true"/>'
    else:
        elements = "".join(
            f"<ns2:item><ns2:nummer>{number}</ns2:nummer><ns2:waarde>{escape(value)}</ns2:waarde></ns2:item>"
            for number, value in zip(("210", "240", "310"), person, strict=True)
        )
        lists = (
            "<persoonslijsten><ns2:item><ns2:categoriestapels><ns2:item><ns2:categorievoorkomens><ns2:item>"
            f"<ns2:categorienummer>1</ns2:categorienummer><ns2:elementen>{elements}</ns2:elementen>"
            "</ns2:item></ns2:categorievoorkomens></ns2:item></ns2:categoriestapels></ns2:item></persoonslijsten>"
        )
    description = "Aantal: 1." if code == "0" else "Geen gegevens gevonden." if code == "33" else "Fout."
    return _soap(
        f'<vraagResponse xmlns:ns2="{LO3}" xmlns="{LRD}"><vraagReturn>{lists}'
        f"<resultaat><code>{code}</code><letter>{letter}</letter><omschrijving>{description}</omschrijving>"
        f"<referentie>{secrets.randbelow(10**8)}</referentie></resultaat></vraagReturn></vraagResponse>"
    )


def _soap_fault(text: str) -> web.Response:
    body = _soap(f"<soap:Fault><faultcode>soap:Client</faultcode><faultstring>{escape(text)}</faultstring></soap:Fault>")
    return web.Response(status=500, text=body, content_type="text/xml", charset="utf-8")


def _requested_bsn(body: bytes) -> str | None:
    try:
        root = SafeElementTree.fromstring(body)
    except Exception:  # noqa: BLE001 - any unreadable request is a client fault
        return None
    found = root.find(f"{{{SOAP_ENV}}}Body/{{{LRD}}}vraag/{{{LRD}}}in0/{{{LRD}}}parameters/{{{LRD}}}item/{{{LRD}}}zoekwaarde")
    return None if found is None else (found.text or "")


async def _rvig_vraag(request: web.Request) -> web.Response:
    controls = request.app[CONTROLS]
    body = await request.read()
    controls.requests.append({"system": "rvig", "headers": dict(request.headers), "body": body})
    failure = await _misbehave(controls.rvig, controls)
    if failure is not None:
        return failure
    if controls.rvig == "fault":
        return _soap_fault("Server error")
    if controls.rvig == "malformed" or controls.rvig == "garbage":
        return web.Response(text="<soap:Envelope><unclosed>", content_type="text/xml")
    bsn = _requested_bsn(body)
    if bsn is None:
        return _soap_fault("Unreadable request")
    if controls.rvig == "code1":
        text = rvig_response(None, code="1", letter="X")
    elif bsn in FAKE_PERSONS:
        text = rvig_response(FAKE_PERSONS[bsn])
    else:
        text = rvig_response(None, code="33", letter="G")
    return web.Response(text=text, content_type="text/xml", charset="utf-8")


def rvig_app(*, controls: FakeControls | None = None) -> web.Application:
    """The fake RVIG: `POST /gba-v/online/lo3services/adhoc` (SOAP `vraag`)."""
    app = web.Application()
    app[CONTROLS] = controls or FakeControls()
    app.router.add_post(RVIG_PATH, _rvig_vraag)
    return app


def inge6_app_from_settings(controls: FakeControls | None = None) -> web.Application:
    """The fake Inge-6 with the development secrets (`devtools.devsecrets`)."""

    folder = Path(settings.SECRETS_FOLDER)
    inge6_private = (folder / "inge6_NaCl").read_text().strip()
    if settings.INGE4_NACL_PUBLIC_KEY_FILE:
        service_public = Path(settings.INGE4_NACL_PUBLIC_KEY_FILE).read_text().strip()
    else:
        private = PrivateKey(base64.b64decode(Path(settings.INGE4_NACL_PRIVATE_KEY_FILE).read_text().strip()))
        service_public = base64.b64encode(bytes(private.public_key)).decode()
    return inge6_app(
        jwt_public_key_pem=Path(settings.INGE6_JWT_PUBLIC_CRT_FILE).read_bytes(),
        nacl_private_key_b64=inge6_private,
        service_public_key_b64=service_public,
        controls=controls,
    )


def dev_inge6_jwt(bsn: str, *, now: datetime, lifetime: timedelta = timedelta(hours=1)) -> str:
    """A dev Inge-6 JWT for the configured audience and issuer, signed with the dev key."""

    private = (Path(settings.SECRETS_FOLDER) / "inge6_jwt_private.key").read_bytes()
    audience = settings.INGE4_JWT_AUDIENCE[0] if settings.INGE4_JWT_AUDIENCE else "cc_app"
    return mint_inge6_jwt(
        bsn=bsn,
        private_key_pem=private,
        audience=audience,
        issuer=settings.INGE6_JWT_ISSUER,
        now=now,
        lifetime_seconds=int(lifetime.total_seconds()),
    )
