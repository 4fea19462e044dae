"""`manage.py check_signers` against small HTTP peers on loopback."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO

import pytest
from django.core.management import CommandError, call_command


class Peer(BaseHTTPRequestHandler):
    """Answers like the four downstream systems: prepare_issue, /health, anything else 404."""

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        request = json.loads(self.rfile.read(length))
        if self.path == "/prepare_issue" and request.get("credentialAmount") == 1:
            self._answer(200, {"issuerPkId": "TST-KEY-01", "issuerNonce": "bm9uY2U=", "credentialAmount": 1})
        else:
            self._answer(400, {"error": "bad"})

    def do_GET(self) -> None:
        self._answer(200 if self.path == "/health" else 404, {"status": "ok"})

    def _answer(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def peer():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Peer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def downstreams(settings, peer):
    settings.DOMESTIC_NL_VWS_PREPARE_ISSUE_URL = peer + "/prepare_issue"
    settings.EU_INTERNATIONAL_SIGNING_URL = peer + "/get_credential"
    settings.INGE6_BSN_RETRIEVAL_URL = peer + "/bsn_attribute"
    settings.RVIG_URL = peer + "/gba-v/online/lo3services/adhoc"
    settings.RVIG_HEALTH_CHECK_BSN = ""
    settings.DOMESTIC_NL_KEY_IDENTIFIER = ""
    return settings


def test_all_downstreams_answer(downstreams):
    out = StringIO()
    call_command("check_signers", "--timeout", "2", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].split() == ["downstream", "target", "status", "latency", "detail"]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert set(rows) == {"domestic", "eu", "inge6", "rvig"}
    assert all("  ok  " in row and " ms" in row for row in rows.values())
    assert "prepare_issue answered" in rows["domestic"] and "HTTP 200 (healthy)" in rows["eu"]


def test_an_unreachable_downstream_fails_the_command(downstreams):
    downstreams.EU_INTERNATIONAL_SIGNING_URL = "http://127.0.0.1:9/get_credential"
    out = StringIO()
    with pytest.raises(CommandError, match="downstream check failed: eu"):
        call_command("check_signers", "--timeout", "2", stdout=out)
    eu = next(line for line in out.getvalue().splitlines() if line.startswith("eu "))
    assert "FAILED" in eu


def test_a_bad_prepare_issue_answer_fails(downstreams, peer):
    downstreams.DOMESTIC_NL_VWS_PREPARE_ISSUE_URL = peer + "/wrong"
    out = StringIO()
    with pytest.raises(CommandError, match="domestic"):
        call_command("check_signers", stdout=out)
    assert "downstream_bad_response" in out.getvalue()


@pytest.fixture
def silent_port():
    """A port that accepts connections (the kernel's backlog) but never answers."""
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    yield listener.getsockname()[1]
    listener.close()


def test_a_refused_connection_is_told_from_a_timeout(downstreams, silent_port):
    downstreams.DOMESTIC_NL_VWS_PREPARE_ISSUE_URL = "http://127.0.0.1:9/prepare_issue"  # nothing listens: refused
    downstreams.INGE6_BSN_RETRIEVAL_URL = "http://127.0.0.1:9/bsn_attribute"
    downstreams.EU_INTERNATIONAL_SIGNING_URL = f"http://127.0.0.1:{silent_port}/get_credential"
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("check_signers", "--timeout", "1", stdout=out)
    rows = {line.split()[0]: line for line in out.getvalue().splitlines()[1:]}
    assert "downstream_unavailable: connection refused" in rows["domestic"]
    assert "connection refused" in rows["inge6"]
    assert "timed out" in rows["eu"] and "refused" not in rows["eu"]


def test_the_domestic_check_issues_a_specimen_that_verifies_with_the_configured_key(downstreams, signers, tmp_path):
    """Against the real reference signer: commit, /issue of an expired specimen, construct."""
    from devtools.reference.keys import TEST_IDEMIX_KEY_FOLDER

    downstreams.DOMESTIC_NL_VWS_PREPARE_ISSUE_URL = signers.url("domestic", "/prepare_issue")
    downstreams.DOMESTIC_NL_VWS_ONLINE_SIGNING_URL = signers.url("domestic", "/issue")
    downstreams.DOMESTIC_NL_VWS_PAPER_SIGNING_URL = signers.url("domestic", "/issue_static")
    downstreams.DOMESTIC_NL_IDEMIX_PUBLIC_KEY_FILE = str(TEST_IDEMIX_KEY_FOLDER / "pk.xml")
    out = StringIO()
    call_command("check_signers", "--timeout", "10", stdout=out)
    domestic = next(line for line in out.getvalue().splitlines() if line.startswith("domestic "))
    assert "  ok  " in domestic
    assert "issued a specimen credential and a specimen paper QR that verify with key TST-KEY-01" in domestic


def test_the_domestic_check_fails_with_another_key(downstreams, signers, tmp_path):
    from idemix import keys

    secret, public = keys.generate_key_pair(1024, num_bases=12)
    (tmp_path / "pk.xml").write_text(keys.public_key_xml(public))
    downstreams.DOMESTIC_NL_VWS_PREPARE_ISSUE_URL = signers.url("domestic", "/prepare_issue")
    downstreams.DOMESTIC_NL_VWS_ONLINE_SIGNING_URL = signers.url("domestic", "/issue")
    downstreams.DOMESTIC_NL_IDEMIX_PUBLIC_KEY_FILE = str(tmp_path / "pk.xml")
    out = StringIO()
    with pytest.raises(CommandError, match="downstream check failed: domestic"):
        call_command("check_signers", "--timeout", "10", stdout=out)
    domestic = next(line for line in out.getvalue().splitlines() if line.startswith("domestic "))
    assert "FAILED" in domestic
