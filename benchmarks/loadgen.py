"""A closed-loop HTTP load generator (asyncio + aiohttp, one process), run by `run_matrix.py`.

`--concurrency` virtual users each send one request (or one prepare_issue + credentials flow)
after the other, for `--warmup` seconds unmeasured and then `--seconds` measured (or until
`--max-requests` have completed). Prints one JSON object: completed, errors by status, elapsed,
latencies in ms and, with `--server-pid`, the server's CPU seconds over the measured window
(utime + stime from /proc, its children included).

With `--honour-retry-after` a virtual user that gets a 503 with `Retry-After` waits that long
before its next request, as a well-behaved client does; without it, it retries at once (the
worst case for a server that sheds load).

Scenarios: `print` (POST /app/print/), `credentials` (POST /app/prepare_issue/, then
/app/credentials/ with the stoken: one flow counts as one request), `health` (GET /health every
`--interval-ms`: the prober) and `ping` (GET <url>, to calibrate this generator's own maximum).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path

import aiohttp

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float:
    """utime + stime of `pid` and of its live children (and the reaped children it waited for)."""
    total = 0.0
    for candidate in [pid, *child_pids(pid)]:
        try:
            fields = Path(f"/proc/{candidate}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        # fields[0] is field 3 (state): utime=14, stime=15, cutime=16, cstime=17
        total += sum(int(value) for value in fields[11:15]) / CLOCK_TICKS
    return total


def child_pids(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        return [int(value) for value in children.read_text().split()]
    except (FileNotFoundError, ValueError):
        return []


class Run:
    def __init__(self, arguments: argparse.Namespace) -> None:
        self.arguments = arguments
        self.base = arguments.url.rstrip("/")
        self.measuring = False
        self.stop = False
        self.latencies: list[float] = []
        self.errors: dict[str, int] = {}
        self.retry_after: float = 0.0  # set by `one()` from a 503's Retry-After
        fixtures = json.loads(Path(arguments.fixtures).read_text()) if arguments.fixtures else {}
        self.print_body = json.dumps({"events": fixtures.get("print_events", [])}).encode()
        self.print_headers = {"Content-Type": "application/json", "Authorization": f"Token {fixtures.get('print_token', '')}"}
        head, tail = json.dumps(
            {"events": fixtures.get("credentials_events", []), "stoken": "@", "issueCommitmentMessage": fixtures.get("icm", "")}
        ).split('"@"')
        self.credentials_parts = (head.encode() + b'"', b'"' + tail.encode())
        self.json_headers = {"Content-Type": "application/json"}

    def record(self, started: float, status: int | str) -> None:
        if not self.measuring:
            return
        if status == 200:
            self.latencies.append((time.perf_counter() - started) * 1000)
        else:
            self.errors[str(status)] = self.errors.get(str(status), 0) + 1
            if self.arguments.count_errors_as_latency:
                self.latencies.append((time.perf_counter() - started) * 1000)
        if len(self.latencies) >= self.arguments.max_requests:
            self.stop = True

    async def one(self, session: aiohttp.ClientSession) -> int:
        scenario = self.arguments.scenario
        if scenario == "print":
            async with session.post(f"{self.base}/app/print/", data=self.print_body, headers=self.print_headers) as r:
                await r.read()
                return self.status_of(r)
        if scenario == "credentials":
            async with session.post(f"{self.base}/app/prepare_issue/") as r:
                session_body = await r.read()
                if r.status != 200:
                    return self.status_of(r)
            stoken = json.loads(session_body)["stoken"].encode()
            head, tail = self.credentials_parts
            async with session.post(f"{self.base}/app/credentials/", data=head + stoken + tail, headers=self.json_headers) as r:
                await r.read()
                return self.status_of(r)
        path = "/health" if scenario == "health" else ""
        async with session.get(f"{self.base}{path}") as r:
            await r.read()
            return r.status

    def status_of(self, response: aiohttp.ClientResponse) -> int:
        if response.status == 503 and self.arguments.honour_retry_after:
            try:
                return -int(response.headers.get("Retry-After", "0")) or 503  # -seconds: wait, then go on
            except ValueError:
                return 503
        return response.status

    async def user(self, session: aiohttp.ClientSession) -> None:
        interval = self.arguments.interval_ms / 1000
        while not self.stop:
            started = time.perf_counter()
            try:
                status: int | str = await self.one(session)
            except (TimeoutError, aiohttp.ClientError) as exc:
                status = type(exc).__name__
            if isinstance(status, int) and status < 0:
                self.record(started, 503)
                await asyncio.sleep(-status)
                continue
            self.record(started, status)
            if interval:
                await asyncio.sleep(max(0.0, interval - (time.perf_counter() - started)))

    async def main(self) -> dict:
        arguments = self.arguments
        connector = aiohttp.TCPConnector(limit=arguments.concurrency, force_close=False)
        timeout = aiohttp.ClientTimeout(total=arguments.request_timeout)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            users = [asyncio.create_task(self.user(session)) for _ in range(arguments.concurrency)]
            await asyncio.sleep(arguments.warmup)
            self.measuring = True
            cpu_before = process_cpu_seconds(arguments.server_pid) if arguments.server_pid else 0.0
            own_before = time.process_time()
            started = time.perf_counter()
            deadline = started + arguments.seconds
            while not self.stop and time.perf_counter() < deadline:
                await asyncio.sleep(0.05)
            elapsed = time.perf_counter() - started
            self.measuring = False
            cpu = (process_cpu_seconds(arguments.server_pid) - cpu_before) if arguments.server_pid else None
            own_cpu = time.process_time() - own_before
            self.stop = True
            await asyncio.wait(users, timeout=arguments.request_timeout)
        return {
            "scenario": arguments.scenario,
            "concurrency": arguments.concurrency,
            "elapsed": elapsed,
            "completed": len(self.latencies),
            "errors": self.errors,
            "server_cpu_seconds": cpu,
            "loadgen_cpu_seconds": own_cpu,
            "latencies_ms": [round(v, 3) for v in self.latencies],
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True, help="the service's base URL (or the URL to GET for ping)")
    parser.add_argument("--scenario", choices=("print", "credentials", "health", "ping"), required=True)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--max-requests", type=int, default=100_000)
    parser.add_argument("--interval-ms", type=float, default=0.0, help="pause between requests of one user")
    parser.add_argument("--request-timeout", type=float, default=30.0)
    parser.add_argument("--fixtures", help="JSON with print_events, credentials_events, icm, print_token")
    parser.add_argument("--server-pid", type=int, default=0)
    parser.add_argument("--count-errors-as-latency", action="store_true")
    parser.add_argument("--honour-retry-after", action="store_true", help="wait Retry-After after a 503")
    arguments = parser.parse_args()
    try:
        import uvloop
    except ImportError:
        result = asyncio.run(Run(arguments).main())
    else:
        result = uvloop.run(Run(arguments).main())
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
