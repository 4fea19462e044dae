"""CPU per request of the ASGI application alone, in process (issue "Performance").

    PG_PORT=54342 .venv/bin/python benchmarks/inprocess.py [--scenario print] [--requests 3000]
        [--concurrency 50] [--repeat 3] [--profile 40]

The same stack as `run_matrix.py` (PostgreSQL database `bench`, the canned signers as a separate
process, the same pre-signed bodies), but the requests are ASGI calls made in this process to
`coronacheck.asgi.application` after its lifespan start-up, `--concurrency` at a time: no ASGI server, no sockets on the
inbound side, no load generator competing for the cores. Prints the process CPU time
(`time.process_time`, all threads, the database threads included) per request (or per
prepare_issue + credentials flow) of each run: a steadier figure than the server's CPU under
a load generator, for comparing two versions of the code. The ASGI server's own share (uvicorn,
~0.2-0.3 ms per request) is not in it. `--profile N` adds the N largest cumulative entries of a
cProfile run (CPU time of the event-loop thread only; wall time would count GIL waits).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import cProfile
import gc
import json
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BASE_DIR))
sys.path.insert(0, str(BASE_DIR / "benchmarks"))

from run_matrix import PYTHON, database_recreate, database_url, service_environment, signers_start  # noqa: E402

from devtools.testing.asgi_client import asgi_request  # noqa: E402
from devtools.testing.processes import free_port  # noqa: E402


async def run(app, scenario: str, fixtures: dict, requests: int, concurrency: int) -> tuple[float, int, dict[int, int]]:
    host = [(b"host", b"127.0.0.1")]
    json_headers = [*host, (b"content-type", b"application/json")]
    print_headers = [*json_headers, (b"authorization", f"Token {fixtures['print_token']}".encode())]
    print_body = json.dumps({"events": fixtures["print_events"]}).encode()
    remaining = requests
    statuses: dict[int, int] = {}

    async def one() -> None:
        if scenario == "print":
            status, _, _ = await asgi_request(app, "POST", "/app/print/", print_body, print_headers)
        else:
            status, _, answer = await asgi_request(app, "POST", "/app/prepare_issue/", b"", host)
            if status == 200:
                body = {"events": fixtures["credentials_events"], "stoken": json.loads(answer)["stoken"]}
                body["issueCommitmentMessage"] = fixtures["icm"]
                status, _, _ = await asgi_request(app, "POST", "/app/credentials/", json.dumps(body).encode(), json_headers)
        statuses[status] = statuses.get(status, 0) + 1

    async def user() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await one()

    started = time.process_time()
    await asyncio.gather(*(user() for _ in range(concurrency)))
    return (time.process_time() - started) * 1e6 / requests, requests, statuses


async def lifespan_start(app) -> tuple[asyncio.Queue, asyncio.Task]:
    """The ASGI lifespan start-up, as the server runs it (start-up checks, garbage-collection
    tuning); returns what `lifespan_stop` needs."""
    messages: asyncio.Queue = asyncio.Queue()
    started = asyncio.Event()

    async def send(message: dict) -> None:
        if message["type"].startswith("lifespan.startup"):
            if message["type"] != "lifespan.startup.complete":
                raise RuntimeError(message)
            started.set()

    await messages.put({"type": "lifespan.startup"})
    task = asyncio.create_task(app({"type": "lifespan", "asgi": {"version": "3.0"}}, messages.get, send))
    await started.wait()
    return messages, task


async def lifespan_stop(messages: asyncio.Queue, task: asyncio.Task) -> None:
    await messages.put({"type": "lifespan.shutdown"})
    await task


async def garbage_report(app, scenario: str, fixtures: dict, requests: int, concurrency: int, top: int = 40) -> None:
    """What the requests leave to the garbage collector: the objects in reference cycles (which
    reference counting cannot free), by type, per request."""
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        await run(app, scenario, fixtures, requests, concurrency)
        gc.collect()
        garbage = list(gc.garbage)
        gc.garbage.clear()
    finally:
        gc.set_debug(0)
        gc.enable()
    counts = collections.Counter(f"{type(item).__module__}.{type(item).__qualname__}" for item in garbage)
    print(f"cyclic garbage: {len(garbage) / requests:.1f} objects per request; by type:")
    for name, count in counts.most_common(top):
        print(f"  {count / requests:8.2f}  {name}")
    del garbage
    gc.collect()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", choices=("print", "credentials"), default="print")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", type=int, default=0, metavar="N")
    parser.add_argument("--garbage", type=int, default=0, metavar="N")
    parser.add_argument("--database", default="bench", help="the benchmark database's name (recreated)")
    arguments = parser.parse_args()

    db_url = database_url(arguments.database)
    database_recreate(db_url)
    eu_port, domestic_port = free_port(), free_port()
    env = service_environment(db_url, eu_port, domestic_port)
    fixtures_path = Path(tempfile.mkdtemp()) / "fixtures.json"
    subprocess.run(
        [PYTHON, str(BASE_DIR / "benchmarks" / "bench_setup.py"), str(fixtures_path)], check=True, cwd=BASE_DIR, env=env
    )
    fixtures = json.loads(fixtures_path.read_text())
    signers = signers_start("canned", 0, eu_port, domestic_port, env)
    os.environ.update(env)
    try:
        from coronacheck.asgi import application  # noqa: PLC0415  (after the environment is set)

        async def measure() -> None:
            import uvloop  # noqa: PLC0415

            lifespan = await lifespan_start(application)
            await run(application, arguments.scenario, fixtures, 300, arguments.concurrency)  # warm-up
            figures = []
            for _ in range(arguments.repeat):
                cpu_us, n, statuses = await run(
                    application, arguments.scenario, fixtures, arguments.requests, arguments.concurrency
                )
                figures.append(cpu_us)
                print(f"{arguments.scenario} c={arguments.concurrency}: {cpu_us:7.1f} µs CPU per request ({n}, {statuses})")
            print(f"median {statistics.median(figures):.1f} µs  (uvloop {uvloop.__version__})")
            if arguments.profile:
                profiler = cProfile.Profile(time.thread_time)  # CPU of the event-loop thread, not wall time
                profiler.enable()
                await run(application, arguments.scenario, fixtures, arguments.requests // 2, arguments.concurrency)
                profiler.disable()
                pstats.Stats(profiler).sort_stats("cumulative").print_stats(arguments.profile)
            if arguments.garbage:
                await garbage_report(application, arguments.scenario, fixtures, arguments.requests, arguments.concurrency)
            await lifespan_stop(*lifespan)

        import uvloop  # noqa: PLC0415

        uvloop.run(measure())
    finally:
        signers.terminate()
        signers.wait()


if __name__ == "__main__":
    main()
