"""The bounded chaos soak (benchmarks/chaos.py, about 60 s) in the test command: two workers,
20 clients, a worker killed twice, a PostgreSQL outage, brown-outs, a rule change and a token
revocation; the reconciliation must find 0 mismatches. It runs in a subprocess of its own (its
own PostgreSQL, its own Django set-up)."""

from __future__ import annotations

import subprocess
import sys

from devtools.testing.processes import BASE_DIR


def test_the_bounded_chaos_run_reconciles_with_no_mismatch():
    done = subprocess.run(
        [
            sys.executable,
            str(BASE_DIR / "benchmarks" / "chaos.py"),
            "--seconds",
            "60",
            "--clients",
            "20",
            "--base-port",
            "20440",
            "--pg-port",
            "54352",
            "--db-outage",
            "6",
        ],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=600,
    )
    print(done.stdout)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-4000:]
    assert "reconciliation mismatches: 0" in done.stdout
