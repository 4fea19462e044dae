"""Idemix signer latency on one core (signers.md §2.2–§2.4; issue 15's targets).

Measures, in process, at the JSON level of the routes (`idemix.signer.Signer`):

- `/prepare_issue` (target ≤ 1 ms);
- `/issue` of 28 credentials including the verification of the 28 commitment proofs
  (target p50 ≤ 400 ms); the holder's commitments are made beforehand and not timed;
- `/issue_static` (target p50 ≤ 60 ms): holder secret, commitment, issuance, construction, disclosure.

With the gmpy2 backend and with the pure-Python fallback. The `e` primes come from a prime pool
filled by a background process, which is topped up between timed runs (so that requests never
search for a prime, as in steady state); `--no-pool` searches synchronously instead.

Usage: `.venv/bin/python benchmarks/idemix_bench.py [--runs 20] [--backends gmpy2 python] [--no-pool]`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BASE_DIR))

from idemix import arith, holder, keys  # noqa: I001
from idemix.encoding import decode_big_int
from idemix.issuer import Issuer, IssuerKey
from idemix.primes import PrimePool, ProcessPrimePool, SyncPrimePool
from idemix.signer import Signer

KEY_ID = "TST-KEY-01"
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
AMOUNT = 28


def reference_dir() -> Path:
    return Path(os.environ.get("CORONACHECK_REFERENCE") or BASE_DIR.parent / "shared" / "reference")


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return p50 * 1000, p95 * 1000


def timed(runs: int, prepare: Callable[[], object], call: Callable[[object], object], between: Callable[[], None]) -> list[float]:
    samples = []
    for _ in range(runs):
        argument = prepare()
        between()
        start = time.perf_counter()
        call(argument)
        samples.append(time.perf_counter() - start)
    return samples


def bench(backend_name: str, runs: int, pool: PrimePool, top_up: Callable[[], None]) -> None:
    directory = reference_dir() / "keys" / "idemix"
    public, secret = keys.load_public_key(directory / "pk.xml"), keys.load_secret_key(directory / "sk.xml")
    issuer = Issuer({KEY_ID: IssuerKey(KEY_ID, public, secret)}, pool=pool, usages={"dynamic": KEY_ID})
    routes = Signer(issuer)
    with arith.backend(backend_name):
        prepare_body = json.dumps({"credentialAmount": AMOUNT}).encode()
        prepare_samples = timed(runs * 10, lambda: None, lambda _: routes.prepare_issue(prepare_body), lambda: None)

        def issue_request() -> bytes:
            specification = json.loads(routes.prepare_issue(prepare_body))
            holder_secret = holder.generate_secret()
            _builders, commitments = holder.create_commitments(
                public, holder_secret, decode_big_int(specification["issuerNonce"]), AMOUNT
            )
            return json.dumps(
                {
                    "prepareIssueMessage": specification,
                    "issueCommitmentMessage": commitments.to_json(),
                    "credentialsAttributes": [ATTRIBUTES] * AMOUNT,
                    "credentialVersion": 2,
                }
            ).encode()

        issue_samples = timed(runs, issue_request, lambda body: routes.issue(body), top_up)  # type: ignore[arg-type]
        static_body = json.dumps(
            {"credentialAttributes": {**ATTRIBUTES, "isPaperProof": "1"}, "credentialVersion": 2, "keyIdentifier": KEY_ID}
        ).encode()
        static_samples = timed(runs, lambda: None, lambda _: routes.issue_static(static_body), top_up)

    for name, samples, target in (
        ("/prepare_issue", prepare_samples, "≤ 1 ms"),
        (f"/issue ({AMOUNT} credentials)", issue_samples, "p50 ≤ 400 ms"),
        ("/issue_static", static_samples, "p50 ≤ 60 ms"),
    ):
        p50, p95 = percentiles(samples)
        print(f"{backend_name:7} {name:28} p50 {p50:9.3f} ms   p95 {p95:9.3f} ms   (n={len(samples)}, target {target})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--backends", nargs="+", default=[name for name in ("gmpy2", "python") if name in arith.BACKENDS])
    parser.add_argument("--no-pool", action="store_true", help="search every e synchronously")
    args = parser.parse_args()
    if args.no_pool:
        for backend_name in args.backends:
            bench(backend_name, args.runs, SyncPrimePool(), lambda: None)
        return
    with ProcessPrimePool(size=2 * AMOUNT, lwm=AMOUNT // 2, hwm=AMOUNT) as pool:

        def top_up() -> None:
            pool.wait_until(AMOUNT + 1, timeout=120)

        top_up()
        print(f"prime pool ready: {pool.stats()}")
        for backend_name in args.backends:
            bench(backend_name, args.runs, pool, top_up)
        print(f"prime pool after: {pool.stats()}")


if __name__ == "__main__":
    main()
