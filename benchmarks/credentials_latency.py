"""Latency of one request whose signer calls take 200 ms each (issue "Step 3"): a credentials
request calls the domestic and the EU signer concurrently, so it must take ~200 ms, not 400.

    .venv/bin/python benchmarks/credentials_latency.py [--delay-ms 200] [--requests 20] [--signers canned]

Starts PostgreSQL, the signers (both with the delay) and the service under uvicorn as
`run_matrix.py` does, then sends the requests one at a time and prints a small table.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run_matrix import BENCH_FOLDER, PYTHON, BASE_DIR, database_recreate, database_url, service_environment, stack_start  # noqa: E402,I001


def timed(client: httpx.Client, url: str, **kwargs) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    response = client.post(url, **kwargs)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}")
    return elapsed, response


def measure(base: str, fixtures: dict, requests: int, real_commitments: bool = False) -> dict[str, list[float]]:
    """`real_commitments`: the app's commitments against each session's nonce (made before the
    timed call), which the reference domestic signer verifies; the canned signers take the
    fixtures' structural one."""
    results: dict[str, list[float]] = {"prepare_issue": [], "credentials": [], "print": []}
    if real_commitments:
        sys.path.insert(0, str(BASE_DIR))
        from devtools.reference.app_holder import holder_icm
    with httpx.Client(timeout=30) as client:
        for index in range(requests + 1):
            prepare_ms, response = timed(client, f"{base}/app/prepare_issue/")
            session = response.json()
            body = {
                "events": fixtures["credentials_events"],
                "stoken": session["stoken"],
                "issueCommitmentMessage": holder_icm(session["prepareIssueMessage"]) if real_commitments else fixtures["icm"],
            }
            credentials_ms, _ = timed(client, f"{base}/app/credentials/", json=body)
            print_ms, _ = timed(
                client,
                f"{base}/app/print/",
                json={"events": fixtures["print_events"]},
                headers={"Authorization": f"Token {fixtures['print_token']}"},
            )
            if index:  # the first round opens the connections
                results["prepare_issue"].append(prepare_ms)
                results["credentials"].append(credentials_ms)
                results["print"].append(print_ms)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--delay-ms", type=int, default=200)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--signers", choices=("canned", "reference"), default="canned")
    arguments = parser.parse_args()
    import subprocess

    BENCH_FOLDER.mkdir(parents=True, exist_ok=True)
    db_url = database_url("bench_latency")
    database_recreate(db_url)
    fixtures_path = BENCH_FOLDER / "fixtures-latency.json"
    subprocess.run(
        [PYTHON, str(BASE_DIR / "benchmarks" / "bench_setup.py"), str(fixtures_path)],
        check=True,
        cwd=BASE_DIR,
        env=service_environment(db_url, 1, 1),
    )
    stack = stack_start(
        arguments.signers, arguments.delay_ms, db_url, Path(tempfile.gettempdir()) / "coronacheck-latency-server.log"
    )
    try:
        results = measure(
            stack.service_url,
            json.loads(fixtures_path.read_text()),
            arguments.requests,
            real_commitments=arguments.signers == "reference",
        )
    finally:
        stack.stop()
    calls = {
        "prepare_issue": "1 (domestic prepare_issue)",
        "credentials": "2 concurrent (domestic issue + EU)",
        "print": "2 concurrent (domestic issue_static + EU)",
    }
    print(
        f"Signer delay {arguments.delay_ms} ms each, {arguments.signers} signers, "
        f"{arguments.requests} sequential requests per endpoint\n"
    )
    print("| endpoint | signer calls | min ms | median ms | p90 ms | max ms |")
    print("|---|---|---:|---:|---:|---:|")
    for name, values in results.items():
        ordered = sorted(values)
        p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
        print(f"| {name} | {calls[name]} | {ordered[0]:.1f} | {statistics.median(ordered):.1f} | {p90:.1f} | {ordered[-1]:.1f} |")


if __name__ == "__main__":
    main()
