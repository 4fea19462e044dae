"""Helpers for tests and benchmarks that run real processes on loopback."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import typing
from dataclasses import dataclass, field
from pathlib import Path

from devtools.reference.keys import TEST_IDEMIX_KEY_FOLDER
from devtools.testing import logcheck

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def working_tree_copy(prefix: str) -> Path:
    """A copy of the project's files as a fresh clone has them (tracked and untracked files that
    git does not ignore; no test artifacts or benchmarks), in a new temporary folder: for the
    tests of what a newcomer runs on a clean checkout. The caller removes it."""
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"], cwd=BASE_DIR, capture_output=True, text=True, check=True
    )
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    for name in listed.stdout.splitlines():
        source = BASE_DIR / name
        if source.is_file() and not name.startswith(("test-artifacts/", "benchmarks/")):
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, folder / name)
    return folder


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, *, timeout: float = 20.0, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before port {port} opened")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"port {port} did not open within {timeout} s")


@dataclass
class ManagedProcess:
    process: subprocess.Popen
    ports: dict[str, int] = field(default_factory=dict)
    stderr_file: typing.IO[bytes] | None = None

    def url(self, name: str, path: str = "") -> str:
        return f"http://127.0.0.1:{self.ports[name]}{path}"

    def stop(self, timeout: float = 10.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.stderr_file is not None and not self.stderr_file.closed:
            self.stderr_file.seek(0)
            logcheck.scan_text(self.stderr_file.read().decode(errors="replace"), "subprocess stderr")
            self.stderr_file.close()
        return self.process.returncode


def start_manage_command(
    args: list[str], ports: dict[str, int], *, env: dict[str, str] | None = None, settings_module: str = "devtools.settings_test"
) -> ManagedProcess:
    """Start `manage.py <args>` and wait until every port in `ports` accepts connections."""
    environment = dict(os.environ)
    environment["DJANGO_SETTINGS_MODULE"] = settings_module
    environment.update(env or {})
    # stderr goes to a file, not a pipe: nobody drains a pipe, and a child that logs more than the
    # pipe buffer (e.g. tracebacks of aborted connections) would block on its next write.
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(
        [sys.executable, str(BASE_DIR / "manage.py"), *args],
        cwd=BASE_DIR,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    try:
        for port in ports.values():
            wait_for_port(port, process=process)
    except Exception:
        process.kill()
        process.wait()
        log.seek(0)
        err = log.read()
        log.close()
        raise RuntimeError(f"{args[0]} did not start: {err.decode(errors='replace')[-2000:]}") from None
    return ManagedProcess(process=process, ports=ports, stderr_file=log)


def start_reference_signers(*, extra: list[str] | None = None, key_folder: str | None = None) -> ManagedProcess:
    """Both reference signers; the domestic one with the TEST ONLY Idemix pair (the key that
    `devtools.reference.app_holder` commits to by default)."""
    ports = {"eu": free_port(), "domestic": free_port()}
    args = [
        "run_reference_signers",
        "--eu-port",
        str(ports["eu"]),
        "--domestic-port",
        str(ports["domestic"]),
        "--fault-control",
        "--idemix-key-folder",
        str(TEST_IDEMIX_KEY_FOLDER),
        *(extra or []),
    ]
    if key_folder:
        args += ["--key-folder", key_folder]
    return start_manage_command(args, ports)


def signer_settings(signers: ManagedProcess) -> dict[str, str]:
    """Settings that point the service at a running pair of signers."""
    return {
        "DOMESTIC_NL_VWS_PREPARE_ISSUE_URL": signers.url("domestic", "/prepare_issue"),
        "DOMESTIC_NL_VWS_ONLINE_SIGNING_URL": signers.url("domestic", "/issue"),
        "DOMESTIC_NL_VWS_PAPER_SIGNING_URL": signers.url("domestic", "/issue_static"),
        "EU_INTERNATIONAL_SIGNING_URL": signers.url("eu", "/get_credential"),
    }
