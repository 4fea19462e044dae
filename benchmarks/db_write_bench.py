"""CPU per submission write, in-process on uvloop as in production (coronacheck/server.py), by
three paths: `run_db` (a thread hop, Django's connection, the psycopg pool of Django); one
statement per write on psycopg's async connection from a per-loop async pool, no thread
(`common.db.run_statement`); and the group commit the service uses (`common.db.run_inserts`
through `signing.services.submission_record`: the writes in flight together share a statement).

    PG_PORT=54351 bin/postgres start
    .venv/bin/python benchmarks/db_write_bench.py [--writes 4000] [--concurrency 32] [--rounds 5]

Writes a print request's records (one UCI, the submission) into the database `coronacheck_bench`
of the server at `--database-url` (created and migrated when missing), `--concurrency` writes in
flight at a time, and prints the median over `--rounds` of µs of process CPU per write
(`time.process_time`, all threads) and of wall time per write. The outcomes are built before the
clock starts; the statement's text and parameters are built inside it on both paths.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BASE_DIR))


def database_prepare(url: str) -> None:
    import psycopg

    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
            admin.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "devtools.settings_test")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def outcomes(count: int) -> list:
    from signing.services import SubmissionOutcome, UciRecord

    now = datetime.now(UTC)
    return [
        SubmissionOutcome(
            endpoint="print",
            created_at=now,
            providers=["ZZZ"],
            event_counts={"vaccination": 2},
            eu_issued=1,
            holder_pseudonym="ab" * 32,
            duration_ms=12.345,
            downstream_ms={"eu": 3.21},
            print_client="benchmark",
            ucis=[
                UciRecord(
                    uci=f"URN:UVCI:01:NL:{uuid.uuid4().hex.upper()}#X",
                    provider_identifier="ZZZ",
                    event_unique="bench-v-2",
                    key_usage="vaccination",
                    flow="print",
                    expiration_time=now + timedelta(days=365),
                    issued_at=now,
                )
            ],
        )
        for _ in range(count)
    ]


async def old_path(outcome) -> None:
    from common.db import run_db
    from signing.services import _records_write

    await run_db(_records_write, outcome)


async def statement_path(outcome) -> None:
    from common.db import batch_statement, run_statement
    from signing.services import _records_statements

    await run_statement(*batch_statement(_records_statements(outcome)))


async def group_commit_path(outcome) -> None:
    from signing.services import submission_record

    await submission_record(outcome=outcome)


async def measure(write, batch: list, concurrency: int) -> tuple[float, float]:
    """(µs of process CPU, µs of wall time) per write of `batch`, `concurrency` at a time."""
    queue = iter(batch)

    async def worker() -> None:
        for outcome in queue:
            await write(outcome)

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return cpu / len(batch) * 1e6, wall / len(batch) * 1e6


async def bench(args: argparse.Namespace) -> None:
    from common.db import async_pools_close

    paths = {
        "run_db (thread hop)": old_path,
        "one statement per write": statement_path,
        "group commit (run_inserts)": group_commit_path,
    }
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in paths}
    for write in paths.values():  # warm up: pools filled, code paths imported
        await measure(write, outcomes(args.concurrency * 10), args.concurrency)
    for _ in range(args.rounds):  # alternating, so drift affects both alike
        for name, write in paths.items():
            results[name].append(await measure(write, outcomes(args.writes), args.concurrency))
    await async_pools_close()
    print(f"{args.writes} writes x {args.rounds} rounds, concurrency {args.concurrency}, medians:")
    for name, samples in results.items():
        cpu = statistics.median(sample[0] for sample in samples)
        wall = statistics.median(sample[1] for sample in samples)
        print(f"  {name:30} {cpu:7.1f} µs CPU/write  {wall:7.1f} µs wall/write")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:54351/coronacheck_bench")
    parser.add_argument("--writes", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    database_prepare(args.database_url)
    import uvloop

    uvloop.run(bench(args))

    from django.db import connection

    connection.close_pool()


if __name__ == "__main__":
    main()
