"""Tests of devtools/fakes.py and its two management commands (development stand-ins)."""

from __future__ import annotations

import base64
import io
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import httpx
import jwt
import pytest
from django.conf import settings
from django.core.management import call_command
from nacl.public import PrivateKey

from devtools.fakes import (
    FAKE_PERSONS,
    dev_inge6_jwt,
    inge6_box,
    rvig_response,
)
from devtools.testing.processes import free_port, wait_for_port
from events.accesstokens.inge6 import decrypt_bsn, verify_inge6_jwt
from events.accesstokens.rvig import (
    RvigHolder,
    parse_vraag_response,
    rvig_birth_date,
    vraag_request,
)

BASE_DIR = Path(__file__).resolve().parents[2]


def test_fake_box_opens_with_the_service_keys():
    inge6 = PrivateKey.generate()
    service = PrivateKey.generate()
    body = inge6_box(
        "999990019",
        inge6_private_key_b64=base64.b64encode(bytes(inge6)).decode(),
        service_public_key_b64=base64.b64encode(bytes(service.public_key)).decode(),
    )
    assert (
        decrypt_bsn(
            body,
            private_key_b64=base64.b64encode(bytes(service)).decode(),
            inge6_public_key_b64=base64.b64encode(bytes(inge6.public_key)).decode(),
        )
        == "999990019"
    )


@pytest.mark.parametrize("bsn", sorted(FAKE_PERSONS))
def test_fake_rvig_answers_parse(bsn):
    first, last, birth = FAKE_PERSONS[bsn]
    holder = parse_vraag_response(rvig_response(FAKE_PERSONS[bsn]).encode())
    assert (holder.first_name, holder.last_name) == (first, last)
    assert holder == RvigHolder(first, last, rvig_birth_date(birth))


def test_dev_jwt_verifies_with_the_configured_key_and_audience():
    now = datetime.now(UTC)
    token = dev_inge6_jwt("999990019", now=now)
    claims = verify_inge6_jwt(
        token,
        public_key_pem=Path(settings.INGE6_JWT_PUBLIC_CRT_FILE).read_bytes(),
        audiences=settings.INGE4_JWT_AUDIENCE,
        issuer=settings.INGE6_JWT_ISSUER,
        now=now,
    )
    assert claims["bsn"] == "999990019"


def test_mint_inge6_jwt_command_prints_a_token():
    out = io.StringIO()
    call_command("mint_inge6_jwt", "--bsn", "999995571", "--minutes", "5", stdout=out)
    claims = jwt.decode(out.getvalue().strip(), options={"verify_signature": False})
    assert claims["bsn"] == "999995571"
    assert claims["exp"] - claims["iat"] == 300


def test_run_fake_identity_services_serves_and_stops_on_sigterm():
    inge6_port, rvig_port = free_port(), free_port()
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="devtools.settings_test")
    process = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "run_fake_identity_services",
            "--skip-checks",
            "--inge6-port",
            str(inge6_port),
            "--rvig-port",
            str(rvig_port),
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for_port(inge6_port, process=process)
        wait_for_port(rvig_port, process=process)
        token = dev_inge6_jwt("999995571", now=datetime.now(UTC))
        answer = httpx.post(f"http://127.0.0.1:{inge6_port}/bsn_attribute", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200
        refused = httpx.post(f"http://127.0.0.1:{inge6_port}/bsn_attribute", headers={"Authorization": "Bearer x"})
        assert refused.status_code == 401
        soap = httpx.post(
            f"http://127.0.0.1:{rvig_port}/gba-v/online/lo3services/adhoc",
            content=vraag_request("999995571"),
            headers={"Content-Type": "text/xml; charset=utf-8"},
        )
        assert parse_vraag_response(soap.content) == RvigHolder("Naomi", "Goede", "1987-04-01")
        unknown = httpx.post(f"http://127.0.0.1:{rvig_port}/gba-v/online/lo3services/adhoc", content=vraag_request("123456782"))
        assert b"<code>33</code>" in unknown.content
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=15)
    assert process.returncode == 0, err
    assert "stopped" in out


def test_mint_inge6_jwt_lists_the_test_bsns_and_refuses_an_unknown_one():
    from django.core.management import CommandError

    from devtools.fakes import FAKE_PERSONS
    from devtools.management.commands.mint_inge6_jwt import Command

    help_text = Command().create_parser("manage.py", "mint_inge6_jwt").format_help()
    assert all(bsn in help_text for bsn in FAKE_PERSONS)
    with pytest.raises(CommandError, match="not a test BSN"):
        call_command("mint_inge6_jwt", "--bsn", "999999990")
    out = io.StringIO()
    call_command("mint_inge6_jwt", "--bsn", "999999990", "--any-bsn", stdout=out)
    assert out.getvalue().strip()


def test_demo_against_a_stopped_service_fails_with_one_line(tmp_path, monkeypatch):
    from django.core.management import CommandError

    from devtools import devenv

    monkeypatch.setattr(devenv, "DEV_FOLDER", tmp_path)
    monkeypatch.setenv("DEV_PROVIDER_FOLDER", str(tmp_path / "test-provider"))
    (tmp_path / "print_token").write_text("not-a-real-token\n")
    with pytest.raises(CommandError) as raised:
        call_command("demo", "--url", f"http://127.0.0.1:{free_port()}", "--out", str(tmp_path / "demo"))
    message = str(raised.value)
    assert message.startswith("cannot connect to the service at http://127.0.0.1:") and "\n" not in message
