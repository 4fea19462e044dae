"""`bin/run` and `bin/demo` on a fresh clone: the development stack starts on the ports it is
given, serves styled admin pages and the demo, refuses to start a second time on the same ports
with a clear message, and stops its children when it is stopped.

The checkout's files are copied to a temporary folder; its `.venv` is a link to this checkout's
(so bin/setup has nothing to install)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from devtools.testing.processes import BASE_DIR, free_port, working_tree_copy


@pytest.fixture(scope="module")
def clone():
    folder = working_tree_copy("fresh-clone-run-")
    (folder / ".venv").symlink_to(BASE_DIR / ".venv")
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def run_env(ports: dict[str, int]) -> dict[str, str]:
    env = {"PATH": os.environ["PATH"], "HOME": tempfile.gettempdir(), "HOST": "127.0.0.1"}
    env.update({name: str(port) for name, port in ports.items()})
    return env


def read_until(process: subprocess.Popen, marker: str, log: Path, timeout: float = 240) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace")
        if marker in text:
            return text
        if process.poll() is not None:
            raise AssertionError(f"bin/run exited with {process.returncode}:\n{text[-3000:]}")
        time.sleep(0.2)
    raise AssertionError(f"no {marker!r} within {timeout} s:\n{log.read_text(errors='replace')[-3000:]}")


def test_bin_run_serves_the_demo_and_refuses_busy_ports(clone, tmp_path):
    ports = {name: free_port() for name in ("PORT", "DOMESTIC_SIGNER_PORT", "EU_SIGNER_PORT", "INGE6_PORT", "RVIG_PORT")}
    log = tmp_path / "run.log"
    with log.open("wb") as output:
        run = subprocess.Popen(
            ["bin/run"], cwd=clone, env=run_env(ports), stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        text = read_until(run, "All running.", log)
        assert f"http://127.0.0.1:{ports['EU_SIGNER_PORT']}/get_credential" in text
        base = f"http://127.0.0.1:{ports['PORT']}"
        with httpx.Client(base_url=base, timeout=30) as client:
            assert client.get("/health").status_code == 200
            login = client.get("/admin/login/")
            assert login.status_code == 200
            css = client.get("/static/admin/css/base.css")
            assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")

        demo = subprocess.run(["bin/demo"], cwd=clone, env=run_env({}), capture_output=True, text=True, timeout=120)
        assert demo.returncode == 0, demo.stderr
        assert "QR codes written" in demo.stdout
        assert list((clone / ".dev" / "demo").glob("*.png"))

        second = subprocess.run(["bin/run"], cwd=clone, env=run_env(ports), capture_output=True, text=True, timeout=120)
        assert second.returncode != 0
        assert "cannot listen on 127.0.0.1" in second.stderr and f"PORT={ports['PORT']}" in second.stderr
        assert "Traceback" not in second.stderr and "All running" not in second.stdout
    finally:
        run.send_signal(signal.SIGTERM)
        run.wait(timeout=60)
    # bin/run stops its children with it: the ports are free again.
    for port in ports.values():
        deadline = time.monotonic() + 30
        while True:
            try:
                with httpx.Client(timeout=1) as client:
                    client.get(f"http://127.0.0.1:{port}/")
            except httpx.ConnectError:
                break
            assert time.monotonic() < deadline, f"port {port} still open after bin/run stopped"
            time.sleep(0.2)


def test_bin_demo_without_a_running_service_says_so_in_one_line(clone):
    done = subprocess.run(
        ["bin/demo", "--url", f"http://127.0.0.1:{free_port()}"],
        cwd=clone,
        env=run_env({}),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
