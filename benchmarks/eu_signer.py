"""EU signer throughput: HC1 signatures per second per core (signers.md §3.3).

1. In-process: the pure pipeline (`sign_dcc`) in a loop on one core.
2. Over HTTP: the reference signers started as a subprocess (one process, one event loop, so one
   core), driven by N concurrent aiohttp clients for a few seconds.

Usage: `.venv/bin/python benchmarks/eu_signer.py [--seconds 5] [--clients 1 8 32]`.
Bounded in time: about 4 + len(clients) × seconds seconds plus start-up.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

BASE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BASE_DIR))

from devtools.reference.hcert import sign_dcc
from devtools.reference.keys import generate_signer_keys, load_signer_keys
from events.dccschema import is_valid_dcc

DCC = {
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
REQUEST = {"keyUsage": "vaccination", "expirationTime": "2031-01-01T00:00:00+00:00", "dcc": DCC}


def in_process(key_folder: Path, seconds: float, *, validate: bool) -> float:
    key = load_signer_keys(key_folder)["vaccination"]
    now = datetime.now(UTC)
    count, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        for _ in range(50):
            if validate and not is_valid_dcc(DCC):
                raise RuntimeError("the benchmark DCC is invalid")
            sign_dcc(DCC, key=key, expiration_time=REQUEST["expirationTime"], now=now)
        count += 50
    return count / elapsed


async def over_http(url: str, clients: int, seconds: float) -> tuple[float, float]:
    """Requests per second and mean latency (ms) with `clients` concurrent connections."""
    body = json.dumps(REQUEST).encode()
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def client(session: aiohttp.ClientSession) -> None:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            async with session.post(url, data=body, headers={"Content-Type": "application/json"}) as response:
                await response.read()
                if response.status != 200:
                    raise RuntimeError(f"signer answered {response.status}")
            latencies.append(time.perf_counter() - started)

    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(*(client(session) for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return len(latencies) / elapsed, 1000 * sum(latencies) / max(len(latencies), 1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_signers(key_folder: Path) -> tuple[subprocess.Popen, str]:
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
            str(key_folder),
        ],
        cwd=BASE_DIR,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{eu_port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", eu_port), timeout=0.5):
                return process, f"{url}/get_credential"
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the reference signers did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8, 32])
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        key_folder = Path(folder)
        generate_signer_keys(key_folder, now=datetime.now(UTC))
        print(f"CPU cores: {os.cpu_count()}; Python {sys.version.split()[0]}")
        print(f"{'mode':<28}{'signatures/s/core':>18}{'mean latency ms':>17}")
        print(f"{'in-process sign_dcc':<28}{in_process(key_folder, 2.0, validate=False):>18.0f}")
        print(f"{'in-process schema + sign':<28}{in_process(key_folder, 2.0, validate=True):>18.0f}")
        process, url = start_signers(key_folder)
        try:
            for clients in arguments.clients:
                rate, latency = asyncio.run(over_http(url, clients, arguments.seconds))
                print(f"{f'HTTP, {clients} clients':<28}{rate:>18.0f}{latency:>17.2f}")
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=10)
    print("(HTTP: one signer process = one core; the clients run in this process on another core.)")


if __name__ == "__main__":
    main()
