"""Security settings and secrets (issue "Reliability and security"; api.md §1, §6, §9): the
production settings pass `manage.py check --deploy`, responses carry the security headers, print
tokens are stored hashed, and no key material ever appears in a response."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings as django_settings

from devtools.testing.asgi_client import AsgiTestClient
from devtools.testing.processes import BASE_DIR

PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "coronacheck.settings",
    "DEBUG": "false",
    "SECRET_KEY": secrets.token_urlsafe(64),
    "ALLOWED_HOSTS": "signing.coronacheck.example",
    "BEHIND_TLS_PROXY": "true",
    "SECURE_SSL_REDIRECT": "true",
}


def test_production_settings_pass_check_deploy():
    environment = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DEBUG", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_HSTS_SECONDS")
    }
    environment.update(PRODUCTION_ENV)
    done = subprocess.run(
        [sys.executable, str(BASE_DIR / "manage.py"), "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_check_deploy_fails_on_a_debug_configuration():
    """The check above can fail: the same with DEBUG on and a short key."""
    environment = {**os.environ, **PRODUCTION_ENV, "DEBUG": "true", "SECRET_KEY": "short"}
    done = subprocess.run(
        [sys.executable, str(BASE_DIR / "manage.py"), "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0 and "security.W018" in done.stderr


async def test_api_responses_carry_the_security_headers():
    response = await AsgiTestClient().post("/app/credentials/", b"{", content_type="application/json")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    secure = await AsgiTestClient().get("/openapi.json", secure=True)
    assert "max-age=31536000" in secure["Strict-Transport-Security"]


@pytest.mark.django_db
def test_print_tokens_are_stored_hashed():
    from signing.models import PrintToken
    from signing.services import print_token_create

    token, key = print_token_create(client_name="portal")
    row = PrintToken.objects.values().get(pk=token.pk)
    assert all(key not in str(value) for value in row.values())
    assert key[8:] not in str(row)  # at most the display prefix is kept


def key_material() -> dict[str, list[str]]:
    """Distinctive fragments of every secret the service holds: the Django key and each key file."""
    fragments = {"SECRET_KEY": [django_settings.SECRET_KEY]}
    for path in sorted(Path(BASE_DIR / ".test-secrets").glob("*")):
        text = path.read_bytes().decode("latin-1")
        lines = [line.strip() for line in text.splitlines() if len(line.strip()) >= 24 and not line.startswith("-----")]
        fragments[path.name] = lines or [text.strip()]
    return fragments


@pytest.mark.django_db(transaction=True)
async def test_no_key_material_in_documents_or_error_bodies(settings):
    settings.REQUEST_MAX_BYTES = 2000
    client = AsgiTestClient()
    responses = [
        await client.get("/openapi.json"),
        await client.get("/health"),
        await client.get("/nope"),
        await client.get("/app/print/"),
        await client.post(
            "/app/print/", {"events": []}, content_type="application/json", headers={"Authorization": "Token not-a-token"}
        ),
        await client.post("/app/access_tokens/", headers={"Authorization": "Bearer eyJhbGciOiJub25lIn0.e30."}),
        await client.post("/app/credentials/", b"{", content_type="application/json"),
        await client.post("/app/credentials/", b"x" * 3000, content_type="application/json"),
        await client.post("/documentation/V2Event/", {"protocolVersion": "2.0"}, content_type="application/json"),
    ]
    fragments = await sync_to_async(key_material)()
    assert len(fragments) >= 5
    for response in responses:
        body = response.content.decode("utf-8", errors="replace")
        assert "Traceback" not in body and 'File "' not in body
        for name, parts in fragments.items():
            assert not any(part in body for part in parts), f"{name} in {response.request['PATH_INFO']}"
