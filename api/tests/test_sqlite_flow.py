"""The whole flow on the embedded default: SQLite, the reference signers and the service under
uvicorn, all real processes talking HTTP on loopback."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from devtools.testing.api_fixtures import holder_icm, negative_test, result, vaccination
from devtools.testing.processes import BASE_DIR, free_port, signer_settings, start_reference_signers, wait_for_port
from devtools.testprovider import make_blob

REGISTER = """
import sys
from events.models import Provider
from events.providers import provider_certificate_set
from signing.services import print_token_create
Provider.objects.create(identifier="ZZZ", unomi_url="https://p.example/u", event_url="https://p.example/e",
    identity_hash_secret="s" * 40, bsn_public_key="A" * 43 + "=", bsn_private_key="A" * 43 + "=")
provider_certificate_set(identifier="ZZZ", pem=sys.stdin.read(), match="pinned", status=None, retired_at=None)
print(print_token_create(client_name="sqlite test")[1])
"""


@pytest.fixture
def sqlite_service(tmp_path, provider_signer):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update({"DJANGO_SETTINGS_MODULE": "devtools.settings_test", "SQLITE_PATH": str(tmp_path / "db.sqlite3")})
    signers = start_reference_signers(key_folder=str(tmp_path / "keys"))
    env.update(signer_settings(signers))
    manage = [sys.executable, str(BASE_DIR / "manage.py")]
    subprocess.run([*manage, "migrate", "-v", "0"], env=env, cwd=BASE_DIR, check=True)
    token = (
        subprocess.run(
            [*manage, "shell", "-c", REGISTER],
            env=env,
            cwd=BASE_DIR,
            check=True,
            capture_output=True,
            text=True,
            input=provider_signer.cert.public_bytes(Encoding.PEM).decode(),
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "coronacheck.asgi:application", "--port", str(port), "--no-access-log"],
        env=env,
        cwd=BASE_DIR,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, process=server)
        yield f"http://127.0.0.1:{port}", token
    finally:
        server.terminate()
        server.wait(10)
        assert signers.stop() == 0


def test_the_whole_flow_runs_on_sqlite(sqlite_service, provider_signer):
    url, token = sqlite_service
    now = datetime.now(timezone.utc)
    vaccinations = result(
        vaccination((now - timedelta(days=60)).date().isoformat(), 1),
        vaccination((now - timedelta(days=30)).date().isoformat(), 2),
    )
    test = result(negative_test(now - timedelta(hours=2)))
    with httpx.Client(base_url=url, timeout=20) as client:
        health = client.get("/health").json()
        assert health["service_status"][0] == {"service": "database", "is_healthy": True, "message": "ping succeeded"}

        session = client.post("/app/prepare_issue/").json()
        body = {
            "events": [make_blob(vaccinations, provider_signer), make_blob(test, provider_signer)],
            "stoken": session["stoken"],
            "issueCommitmentMessage": holder_icm(session["prepareIssueMessage"]),
        }
        issued = client.post("/app/credentials/", json=body)
        assert issued.status_code == 200, issued.text
        assert len(issued.json()["euGreencards"]) == 2
        assert client.post("/app/credentials/", json=body).status_code == 401

        printed = client.post(
            "/app/print/",
            json={"events": [make_blob(vaccinations, provider_signer)]},
            headers={"Authorization": f"Token {token}"},
        )
        assert printed.status_code == 200, printed.text
        assert printed.json()["european"]["qr"].startswith("HC1:")


def test_the_demo_writes_domestic_qrs_that_verify(sqlite_service, provider_signer, tmp_path):
    """`bin/demo`'s walk: the paper domestic QR passes the project's verifier, and the app-flow
    credentials are constructed by the project's holder (one disclosed now, and verified)."""
    from devtools.management.commands.demo import run_demo
    from devtools.reference.app_holder import shared_test_public_key

    url, token = sqlite_service
    with httpx.Client(base_url=url, timeout=30) as client:
        report = run_demo(
            client,
            signer=provider_signer,
            print_token=token,
            public_key=shared_test_public_key(),
            out_dir=tmp_path,
            now=datetime.now(timezone.utc),
        )
    assert report.paper_domestic is not None and report.paper_domestic.ok, report.paper_domestic
    assert report.paper_domestic.credential is not None
    assert report.paper_domestic.credential.attributes["isPaperProof"] == "1"
    assert report.app_credentials > 0
    assert report.app_domestic is not None and report.app_domestic.ok, report.app_domestic
    assert {path.name for path in report.files} >= {"print-domestic.png", "print-eu.png", "app-domestic.png"}
