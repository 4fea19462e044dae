"""The reference domestic signer over HTTP (signers.md §2.2–§2.5; issue 15's targets, end to end).

Starts `manage.py run_reference_signers` on loopback (the TEST ONLY Idemix pair, its issuing in a
process pool, its `e` primes from a background process) and measures, one request at a time:

- `POST /prepare_issue` (target ≤ 1 ms in the signer);
- `POST /issue` of 28 credentials, including the verification of the 28 commitment proofs (target
  p50 ≤ 400 ms); the holder's commitments are made beforehand and not timed;
- `POST /issue_static` (target p50 ≤ 60 ms);
- `GET /stats` while an `/issue` of 28 is in flight: the event loop's answer time while a worker
  issues (the loop never does the arithmetic).

Between timed issuing calls the prime pool is allowed to refill (`Index` back above the amount),
as in steady state; `--no-wait` measures back to back instead. The figures include HTTP on loopback
and the hand-over to the worker process; `benchmarks/idemix_bench.py` measures the same calls in
process. Usage: `.venv/bin/python benchmarks/idemix_http_bench.py [--runs 20] [--workers 1]
[--port 21401]`.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path

import httpx

BASE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "devtools.settings_test")

from devtools.reference.app_holder import app_commitments  # noqa: E402
from devtools.reference.keys import TEST_IDEMIX_KEY_FOLDER  # noqa: E402
from devtools.testing.processes import start_manage_command  # noqa: E402

AMOUNT = 28
JSON = {"Content-Type": "application/json"}
ATTRIBUTES = {
    "isSpecimen": "0",
    "isPaperProof": "0",
    "validFrom": "1622505600",
    "validForHours": "24",
    "firstNameInitial": "A",
    "lastNameInitial": "B",
    "birthDay": "1",
    "birthMonth": "12",
}


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p95 * 1000, ordered[-1] * 1000


def report(name: str, samples: list[float], target: str) -> None:
    p50, p95, top = percentiles(samples)
    print(f"{name:34} p50 {p50:8.2f} ms   p95 {p95:8.2f} ms   max {top:8.2f} ms   (n={len(samples)}, target {target})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--workers", type=int, default=1, help="the signer's issuing processes")
    parser.add_argument("--port", type=int, default=21401, help="domestic port (the EU signer gets port + 1)")
    parser.add_argument("--no-wait", action="store_true", help="do not let the prime pool refill between calls")
    args = parser.parse_args()
    ports = {"domestic": args.port, "eu": args.port + 1}
    signers = start_manage_command(
        [
            "run_reference_signers",
            "--domestic-port",
            str(ports["domestic"]),
            "--eu-port",
            str(ports["eu"]),
            "--key-folder",
            str(BASE_DIR / ".dev" / "bench-signer-keys"),
            "--idemix-key-folder",
            str(TEST_IDEMIX_KEY_FOLDER),
            "--domestic-workers",
            str(args.workers),
        ],
        ports,
    )
    base = signers.url("domestic")
    try:
        with httpx.Client(base_url=base, timeout=60, headers=JSON) as client:

            def stats() -> dict:
                return client.get("/stats").json()

            def refilled() -> None:
                if args.no_wait:
                    return
                deadline = time.monotonic() + 120
                while stats()["Index"] < min(AMOUNT + 1, stats()["Size"]) and time.monotonic() < deadline:
                    time.sleep(0.05)

            refilled()
            print(f"signer ready ({args.workers} worker(s)); prime pool {stats()}")
            prepare_body = json.dumps({"credentialAmount": AMOUNT})
            for _ in range(20):  # warm the connection and the code paths
                client.post("/prepare_issue", content=prepare_body)

            prepare_samples = []
            for _ in range(args.runs * 10):
                started = time.perf_counter()
                response = client.post("/prepare_issue", content=prepare_body)
                prepare_samples.append(time.perf_counter() - started)
                assert response.status_code == 200, response.text

            def issue_body() -> str:
                prepared = client.post("/prepare_issue", content=prepare_body).json()
                session = app_commitments(prepared)
                return json.dumps(
                    {
                        "prepareIssueMessage": prepared,
                        "issueCommitmentMessage": json.loads(base64.b64decode(session.icm)),
                        "credentialsAttributes": [ATTRIBUTES] * AMOUNT,
                        "credentialVersion": 2,
                    }
                )

            issue_samples = []
            for _ in range(args.runs):
                body = issue_body()
                refilled()
                started = time.perf_counter()
                response = client.post("/issue", content=body)
                issue_samples.append(time.perf_counter() - started)
                assert response.status_code == 200 and len(response.json()) == AMOUNT, response.text

            static_body = json.dumps(
                {
                    "credentialAttributes": {**ATTRIBUTES, "isPaperProof": "1"},
                    "credentialVersion": 2,
                    "keyIdentifier": "TST-KEY-01",
                }
            )
            static_samples = []
            for _ in range(args.runs):
                refilled()
                started = time.perf_counter()
                response = client.post("/issue_static", content=static_body)
                static_samples.append(time.perf_counter() - started)
                assert response.status_code == 200 and response.json()["qr"].startswith("NL2:"), response.text

            # /stats answered by the event loop while /issue calls of 28 run in the worker
            stats_samples: list[float] = []
            bodies = [issue_body() for _ in range(max(3, args.runs // 4))]
            refilled()
            done = threading.Event()

            def issue_all() -> None:
                with httpx.Client(base_url=base, timeout=60, headers=JSON) as other:
                    for body in bodies:
                        assert other.post("/issue", content=body).status_code == 200
                done.set()

            issuing = threading.Thread(target=issue_all)
            issuing.start()
            while not done.is_set():
                started = time.perf_counter()
                assert client.get("/stats").status_code == 200
                stats_samples.append(time.perf_counter() - started)
                time.sleep(0.002)
            issuing.join()
            final = stats()

        print()
        report("/prepare_issue", prepare_samples, "≤ 1 ms")
        report(f"/issue ({AMOUNT} credentials)", issue_samples, "p50 ≤ 400 ms")
        report("/issue_static", static_samples, "p50 ≤ 60 ms")
        report(f"/stats during /issue of {AMOUNT}", stats_samples, "answers while issuing")
        print(f"prime pool after: {final}")
    finally:
        signers.stop()


if __name__ == "__main__":
    main()
