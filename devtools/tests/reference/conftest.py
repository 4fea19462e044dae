"""Fixtures of the reference-signer tests: reference data, the TEST ONLY DSC, and the signers
started as a real subprocess (`manage.py run_reference_signers`) on free loopback ports."""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from devtools.reference.hcert import SignerKey, signer_key
from devtools.reference.keys import TEST_IDEMIX_KEY_FOLDER
from devtools.testing.reference import REFERENCE

BASE_DIR = Path(__file__).resolve().parents[3]
REFERENCE_DIR = REFERENCE
TEST_DSC_FOLDER = REFERENCE_DIR / "keys" / "hcert"  # TEST ONLY pair, kid d6a9d5d2d6d1dcc4
VECTOR_FOLDER = REFERENCE_DIR / "dgc-testdata"
SCHEMA_EXAMPLES = REFERENCE_DIR / "dcc-schema" / "examples"


def vector_paths() -> list[Path]:
    return sorted(VECTOR_FOLDER.glob("**/*.json"))


def vector_id(path: Path) -> str:
    return str(path.relative_to(VECTOR_FOLDER)).replace("/2DCode/raw/", "/")


def load_vector(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def vector_certificate(vector: dict[str, Any]) -> x509.Certificate:
    return x509.load_der_x509_certificate(base64.b64decode(vector["TESTCTX"]["CERTIFICATE"]))


@pytest.fixture(scope="session")
def test_dsc() -> SignerKey:
    """The TEST ONLY DSC and key of reference/keys/hcert/."""
    private_key = serialization.load_pem_private_key((TEST_DSC_FOLDER / "key.pem").read_bytes(), password=None)
    certificate = x509.load_pem_x509_certificate((TEST_DSC_FOLDER / "cert.pem").read_bytes())
    return signer_key(private_key, certificate)


@pytest.fixture
def vaccination_dcc() -> dict[str, Any]:
    return {
        "ver": "1.3.0",
        "nam": {"fn": "Bar", "fnt": "BAR", "gn": "Foo", "gnt": "FOO"},
        "dob": "1980-01-31",
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
                "ci": "URN:UVCI:01:NL:ABCDEFGHIJKLMNOPQRSTUV12#W",
            }
        ],
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class RunningSigners:
    eu_url: str
    domestic_url: str
    process: subprocess.Popen
    key_folder: Path

    def behave(self, base_url: str, *, fault: str = "none", delay_ms: int = 0) -> None:
        response = httpx.post(f"{base_url}/_reference/behaviour", json={"fault": fault, "delay_ms": delay_ms})
        response.raise_for_status()


def _wait_until_ready(urls: list[str], process: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    pending = list(urls)
    while pending:
        if process.poll() is not None:
            raise RuntimeError(f"run_reference_signers exited early with status {process.returncode}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"signers not ready: {pending}")
        try:
            if httpx.get(pending[0], timeout=1.0).status_code == 200:
                pending.pop(0)
                continue
        except httpx.TransportError:
            pass
        time.sleep(0.1)


def stop_process(process: subprocess.Popen, signum: int = signal.SIGTERM) -> int:
    process.send_signal(signum)
    try:
        return process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise


@pytest.fixture(scope="session")
def signers(tmp_path_factory: pytest.TempPathFactory) -> RunningSigners:
    """Both signers as a real subprocess; on teardown SIGTERM must stop it with exit status 0."""
    eu_port, domestic_port = free_port(), free_port()
    key_folder = tmp_path_factory.mktemp("signer-keys")
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "devtools.settings_test", "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "run_reference_signers",
            "--eu-port",
            str(eu_port),
            "--domestic-port",
            str(domestic_port),
            "--key-folder",
            str(key_folder),
            "--fault-control",
            "--idemix-key-folder",
            str(TEST_IDEMIX_KEY_FOLDER),
        ],
        cwd=BASE_DIR,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    running = RunningSigners(f"http://127.0.0.1:{eu_port}", f"http://127.0.0.1:{domestic_port}", process, key_folder)
    try:
        _wait_until_ready([f"{running.eu_url}/health", f"{running.domestic_url}/stats"], process)
    except (RuntimeError, OSError):
        process.kill()
        output = process.communicate()[0].decode(errors="replace")
        raise RuntimeError(f"signers failed to start:\n{output}") from None
    yield running
    status = stop_process(process)
    output = process.stdout.read().decode(errors="replace") if process.stdout else ""
    assert status == 0, output
    assert "Traceback" not in output, output
