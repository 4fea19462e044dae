"""`python -m devtools.reference` on its own: starts, serves, stops with status 0 on SIGINT."""

from __future__ import annotations

import signal
import subprocess
import sys

import httpx

from devtools.reference.keys import TEST_IDEMIX_KEY_FOLDER
from devtools.tests.reference.conftest import (
    BASE_DIR,
    TEST_DSC_FOLDER,
    _wait_until_ready,
    free_port,
    stop_process,
)


def test_module_entry_point_uses_the_key_folder_and_stops_on_sigint():
    eu_port, domestic_port = free_port(), free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "devtools.reference",
            "--eu-port",
            str(eu_port),
            "--domestic-port",
            str(domestic_port),
            "--key-folder",
            str(TEST_DSC_FOLDER),
            "--idemix-key-folder",
            str(TEST_IDEMIX_KEY_FOLDER),
        ],
        cwd=BASE_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_until_ready([f"http://127.0.0.1:{eu_port}/health", f"http://127.0.0.1:{domestic_port}/stats"], process)
        keys = httpx.get(f"http://127.0.0.1:{eu_port}/public_keys").json()
        assert keys == {"1qnV0tbR3MQ=": [keys["1qnV0tbR3MQ="][0]]}
        assert keys["1qnV0tbR3MQ="][0]["keyUsage"] == ["v", "t", "r"]
    finally:
        status = stop_process(process, signal.SIGINT)
    output = process.stdout.read().decode()
    assert status == 0, output
    assert f"http://127.0.0.1:{eu_port}/get_credential" in output
