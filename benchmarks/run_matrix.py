"""The load benchmark matrix (issue "Performance"): one command, a Markdown table.

    .venv/bin/python benchmarks/run_matrix.py [--repeat 3] [--seconds 6] [--soak-minutes 5]

What it does, all on loopback:
1. starts PostgreSQL (`bin/postgres start`) and recreates a database of its own (`bench`),
   migrates it, registers the dev test provider, creates a print token and pre-signs the
   provider results (`bench_setup.py`);
2. for each signer delay (0 and 200 ms): starts the signers as a separate process (canned ones
   from `fake_signers.py` by default, `--signers reference` for the real reference signers) and the
   service under uvicorn with ONE worker (`--loop uvloop --http httptools --no-access-log`);
3. for `/app/print/` and the prepare_issue + credentials flow at each concurrency: runs the load
   generator (`loadgen.py`, a separate process) and the `/health` prober (another process, one
   probe every 20 ms) for `--warmup` + `--seconds`, `--repeat` times; reports the medians of
   requests/s, p50/p95/p99 latency, `/health` p50/p99, and the server's CPU time per request
   (utime + stime from /proc over the measured window, children included; the prober's ~50
   requests/s are included in that CPU, which matters only at low rates);
4. reports the worker's resident memory at start and end, the load generator's own ceiling
   (GET /ping on the canned signer) and its CPU use in each cell (below 100 % of a core means it
   was not the bottleneck); with `--soak-minutes N`, RSS over N minutes of print at c=200 with
   200 ms signers.

Writes `benchmarks/results/<timestamp>.md` and prints the table. `--serve-only` starts everything
and waits (for profiling with py-spy; see PROFILE.md). `--no-prober` leaves the `/health` prober out
(for CPU per request of the issuance traffic alone); `--port-base N` puts the servers on ports
N, N+1, ... instead of random free ones; PostgreSQL is `bin/postgres` on `PG_PORT` (default 54329)
with its own data directory; `--env NAME=VALUE` adds settings to the service's environment (e.g.
`ADMISSION_MAX_IN_FLIGHT=64`); `--workers N` runs N workers (CPU is summed over them); `--server` picks the
server: `production` (the default: `python -m coronacheck.server`, uvicorn with the guarded httptools protocol and
uvloop), `uvicorn` (plain `uvicorn --http httptools --loop uvloop`) or `granian` (not a dependency:
`pip install granian` first); `--honour-retry-after`: see loadgen.py. Bounded: with the defaults about
2 delays × 2 scenarios × 4 concurrencies × 3 repeats × 8 s ≈ 7 minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BASE_DIR))

from devtools.testing.processes import free_port, wait_for_port  # noqa: E402

PYTHON = sys.executable
BENCH_FOLDER = BASE_DIR / ".dev" / "bench"
RESULTS_FOLDER = BASE_DIR / "benchmarks" / "results"
HEALTH_INTERVAL_MS = 20


# --- processes -----------------------------------------------------------------------------------


def database_url(name: str) -> str:
    url = (
        subprocess.run([str(BASE_DIR / "bin" / "postgres"), "start"], check=True, capture_output=True, text=True, cwd=BASE_DIR)
        .stdout.strip()
        .splitlines()[-1]
    )
    return url.rsplit("/", 1)[0] + "/" + name


def database_recreate(url: str) -> None:
    import psycopg

    server, name = url.rsplit("/", 1)
    with psycopg.connect(server + "/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def service_environment(db_url: str, eu_port: int, domestic_port: int) -> dict[str, str]:
    from devtools.devsecrets import ensure_dev_secrets

    env = dict(os.environ)
    env.update(ensure_dev_secrets(BENCH_FOLDER / "secrets"))
    loopback = "http://127.0.0.1"
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "coronacheck.settings",
            "DATABASE_URL": db_url,
            "DEBUG": "false",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SESSION_COOKIE_SECURE": "false",
            "CSRF_COOKIE_SECURE": "false",
            "SECURE_HSTS_SECONDS": "0",
            "DOMESTIC_NL_VWS_PREPARE_ISSUE_URL": f"{loopback}:{domestic_port}/prepare_issue",
            "DOMESTIC_NL_VWS_ONLINE_SIGNING_URL": f"{loopback}:{domestic_port}/issue",
            "DOMESTIC_NL_VWS_PAPER_SIGNING_URL": f"{loopback}:{domestic_port}/issue_static",
            "EU_INTERNATIONAL_SIGNING_URL": f"{loopback}:{eu_port}/get_credential",
            # /health checks RVIG reachability: any HTTP answer counts, so the signer port will do.
            "INGE6_BSN_RETRIEVAL_URL": f"{loopback}:{domestic_port}/bsn_attribute",
            "RVIG_URL": f"{loopback}:{domestic_port}/gba-v/online/lo3services/adhoc",
        }
    )
    return env


@dataclass
class Stack:
    """The signers and the service of one signer delay."""

    signers: subprocess.Popen
    server: subprocess.Popen
    eu_port: int
    service_url: str
    processes: list[subprocess.Popen] = field(default_factory=list)

    def stop(self) -> None:
        for process in (self.server, self.signers):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def signers_start(kind: str, delay_ms: int, eu_port: int, domestic_port: int, env: dict[str, str]) -> subprocess.Popen:
    ports = ["--eu-port", str(eu_port), "--domestic-port", str(domestic_port)]
    delays = ["--eu-delay-ms", str(delay_ms), "--domestic-delay-ms", str(delay_ms)]
    if kind == "canned":
        command = [PYTHON, str(BASE_DIR / "benchmarks" / "fake_signers.py"), *ports, *delays]
    else:
        command = [
            PYTHON,
            str(BASE_DIR / "manage.py"),
            "run_reference_signers",
            *ports,
            *delays,
            "--key-folder",
            str(BENCH_FOLDER / "signer-keys"),
            # the TEST ONLY Idemix pair: the key devtools.reference.app_holder commits to
            "--idemix-key-folder",
            str(BASE_DIR.parent / "shared" / "reference" / "keys" / "idemix"),
        ]
    process = subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for port in (eu_port, domestic_port):
        wait_for_port(port, process=process, timeout=30)
    return process


def server_start(env: dict[str, str], port: int, log: Path, workers: int = 1, server: str = "production") -> subprocess.Popen:
    if server == "granian":
        return _start(
            [
                PYTHON,
                "-m",
                "granian",
                "--interface",
                "asgi",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(workers),
                "--loop",
                "uvloop",
                "--no-ws",
                "--backlog",
                "4096",
                "--log-level",
                "warning",
                "coronacheck.asgi:application",
            ],
            env,
            port,
            log,
        )
    if server == "production":  # the production command: uvicorn with the guarded protocol, uvloop
        command = [PYTHON, "-m", "coronacheck.server", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
        return _start(command, env, port, log)
    command = [
        PYTHON,
        "-m",
        "uvicorn",
        "coronacheck.asgi:application",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--no-access-log",
        "--lifespan",
        "on",
        "--backlog",
        "4096",
        "--workers",
        str(workers),
    ]
    return _start(command, env, port, log)


def _start(command: list[str], env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    with log.open("ab") as handle:
        process = subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=handle, stderr=handle)
    wait_for_port(port, process=process, timeout=60)
    return process


def stack_start(
    kind: str,
    delay_ms: int,
    db_url: str,
    log: Path,
    port_base: int = 0,
    extra_env: dict[str, str] | None = None,
    workers: int = 1,
    server_kind: str = "uvicorn",
) -> Stack:
    if port_base:
        eu_port, domestic_port, port = port_base, port_base + 1, port_base + 2
    else:
        eu_port, domestic_port, port = free_port(), free_port(), free_port()
    env = service_environment(db_url, eu_port, domestic_port)
    env.update(extra_env or {})
    signers = signers_start(kind, delay_ms, eu_port, domestic_port, env)
    server = server_start(env, port, log, workers, server_kind)
    return Stack(signers=signers, server=server, eu_port=eu_port, service_url=f"http://127.0.0.1:{port}")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def loadgen(
    url: str,
    scenario: str,
    concurrency: int,
    seconds: float,
    warmup: float,
    fixtures: Path | None,
    server_pid: int = 0,
    interval_ms: float = 0.0,
    honour_retry_after: bool = False,
    max_requests: int = 0,
) -> subprocess.Popen:
    command = [
        PYTHON,
        str(BASE_DIR / "benchmarks" / "loadgen.py"),
        "--url",
        url,
        "--scenario",
        scenario,
        "--concurrency",
        str(concurrency),
        "--seconds",
        str(seconds),
        "--warmup",
        str(warmup),
        "--interval-ms",
        str(interval_ms),
    ]
    if fixtures:
        command += ["--fixtures", str(fixtures)]
    if server_pid:
        command += ["--server-pid", str(server_pid)]
    if honour_retry_after:
        command += ["--honour-retry-after"]
    if max_requests:
        command += ["--max-requests", str(max_requests)]
    return subprocess.Popen(command, cwd=BASE_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def loadgen_result(process: subprocess.Popen, timeout: float) -> dict:
    out, err = process.communicate(timeout=timeout)
    if process.returncode != 0:
        raise RuntimeError(f"load generator failed: {err.decode(errors='replace')[-2000:]}")
    return json.loads(out)


# --- measurements --------------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))]


@dataclass
class Cell:
    delay_ms: int
    scenario: str
    concurrency: int
    runs: list[dict] = field(default_factory=list)

    def median(self, key: str) -> float:
        return statistics.median(run[key] for run in self.runs)


def measure(
    stack: Stack,
    scenario: str,
    concurrency: int,
    seconds: float,
    warmup: float,
    fixtures: Path,
    prober_on: bool = True,
    honour_retry_after: bool = False,
) -> dict:
    prober = loadgen(stack.service_url, "health", 1, seconds, warmup, None, interval_ms=HEALTH_INTERVAL_MS) if prober_on else None
    main = loadgen(
        stack.service_url,
        scenario,
        concurrency,
        seconds,
        warmup,
        fixtures,
        server_pid=stack.server.pid,
        honour_retry_after=honour_retry_after,
    )
    load = loadgen_result(main, timeout=warmup + seconds + 120)
    health = loadgen_result(prober, timeout=warmup + seconds + 120) if prober else {"latencies_ms": [], "errors": {}}
    latencies = load["latencies_ms"]
    completed = load["completed"]
    return {
        "rps": completed / load["elapsed"],
        "p50": percentile(latencies, 0.50),
        "p95": percentile(latencies, 0.95),
        "p99": percentile(latencies, 0.99),
        "health_p50": percentile(health["latencies_ms"], 0.50),
        "health_p99": percentile(health["latencies_ms"], 0.99),
        "cpu_ms": 1000 * load["server_cpu_seconds"] / completed if completed else float("nan"),
        "errors": sum(load["errors"].values()) + sum(health["errors"].values()),
        "shed_rps": load["errors"].get("503", 0) / load["elapsed"],
        "error_kinds": {**load["errors"], **{f"health {k}": v for k, v in health["errors"].items()}},
        "gen_cpu": 100 * load["loadgen_cpu_seconds"] / load["elapsed"],
    }


def calibrate(stack: Stack) -> dict:
    """The load generator's own ceiling: GET /ping on the canned signer, answered at once."""
    result = loadgen_result(loadgen(f"http://127.0.0.1:{stack.eu_port}/ping", "ping", 50, 3, 0.5, None), 60)
    return {"rps": result["completed"] / result["elapsed"], "gen_cpu": 100 * result["loadgen_cpu_seconds"] / result["elapsed"]}


def soak(stack: Stack, minutes: float, fixtures: Path, honour_retry_after: bool = False) -> dict:
    seconds = minutes * 60
    pid = stack.server.pid
    # No request cap (the load generator stops at 100,000 by default: ~2 minutes at today's rates).
    main = loadgen(
        stack.service_url,
        "print",
        200,
        seconds,
        5.0,
        fixtures,
        server_pid=pid,
        honour_retry_after=honour_retry_after,
        max_requests=10**9,
    )
    samples: list[tuple[float, float]] = []
    started = time.monotonic()
    while True:  # sample RSS every 10 s while reading the generator's output (a full pipe would block it)
        samples.append((time.monotonic() - started, rss_mib(stack.server.pid)))
        try:
            out, err = main.communicate(timeout=10)
            break
        except subprocess.TimeoutExpired:
            continue
    if main.returncode != 0:
        raise RuntimeError(f"load generator failed: {err.decode(errors='replace')[-2000:]}")
    load = json.loads(out)
    measured = [rss for at, rss in samples if at >= 5.0] or [rss for _, rss in samples]
    # The worker's young garbage generation fills during the first minute or so (at
    # GC_GENERATION0_THRESHOLD allocations per collection): growth is also given from minute 1 on.
    steady = [rss for at, rss in samples if at >= 60.0] or measured
    return {
        "series": [round(rss) for _, rss in samples],
        "after_1min": steady[0],
        "change_after_1min_pct": 100 * (steady[-1] - steady[0]) / steady[0],
        "minutes": round(load["elapsed"] / 60, 1),
        "rps": load["completed"] / load["elapsed"],
        "errors": sum(load["errors"].values()),
        "shed": load["errors"].get("503", 0),
        "first": measured[0],
        "last": measured[-1],
        "min": min(measured),
        "max": max(measured),
        "change_pct": 100 * (measured[-1] - measured[0]) / measured[0],
    }


# --- report --------------------------------------------------------------------------------------


def table(cells: list[Cell]) -> str:
    lines = [
        "| signers | scenario | c | req/s | p50 ms | p95 ms | p99 ms | /health p50 | /health p99 | CPU ms/req "
        "| errors | 503/s | gen CPU % |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for cell in cells:
        lines.append(
            f"| {cell.delay_ms} ms | {cell.scenario} | {cell.concurrency} | {cell.median('rps'):.0f} | "
            f"{cell.median('p50'):.1f} | {cell.median('p95'):.1f} | {cell.median('p99'):.1f} | "
            f"{cell.median('health_p50'):.1f} | {cell.median('health_p99'):.1f} | {cell.median('cpu_ms'):.3f} | "
            f"{sum(run['errors'] for run in cell.runs)} | {cell.median('shed_rps'):.0f} | {cell.median('gen_cpu'):.0f} |"
        )
    return "\n".join(lines)


def report(
    arguments: argparse.Namespace, cells: list[Cell], memory: list[str], calibration: dict, soak_result: dict | None
) -> str:
    scenario_names = {"print": "`/app/print/`", "credentials": "prepare_issue + `/app/credentials/` (one flow)"}
    parts = [
        f"# Load benchmark {datetime.now().isoformat(timespec='seconds')}",
        "",
        f"Machine: {os.cpu_count()} cores, {platform.platform()}, Python {platform.python_version()}. "
        f"Service: {arguments.server}, {arguments.workers} worker(s), uvloop, PostgreSQL. Signers: {arguments.signers}. "
        f"Extra settings: {' '.join(arguments.env) or 'none'}. /health prober: {'off' if arguments.no_prober else 'on'}. "
        f"Clients {'wait' if arguments.honour_retry_after else 'do not wait'} Retry-After after a 503. "
        f"Each cell: {arguments.warmup} s warm-up + {arguments.seconds} s measured, median of {arguments.repeat} runs. "
        f"Scenarios: " + "; ".join(f"{k} = {v}" for k, v in scenario_names.items()) + ". "
        f"`/health` probed every {HEALTH_INTERVAL_MS} ms by a separate process. CPU ms/req = server utime+stime "
        "over the window / completed requests (or flows). gen CPU % = the load generator's own CPU.",
        "",
        table(cells),
        "",
        f"Load generator ceiling (GET /ping on the canned signer, c=50): {calibration['rps']:.0f} req/s "
        f"at {calibration['gen_cpu']:.0f} % of a core.",
        "",
        "Worker RSS: " + "; ".join(memory) + ".",
    ]
    errors = {
        f"{c.delay_ms} ms {c.scenario} c={c.concurrency}": run["error_kinds"]
        for c in cells
        for run in c.runs
        if run["error_kinds"]
    }
    if errors:
        parts += ["", f"Errors: {json.dumps(errors)}"]
    if soak_result:
        parts += [
            "",
            f"Soak: print, c=200, 200 ms signers, {soak_result['minutes']} min: "
            f"{soak_result['rps']:.0f} req/s, "
            f"{soak_result['errors']} errors ({soak_result['shed']} of them 503); "
            f"RSS {soak_result['first']:.1f} MiB after warm-up, "
            f"min {soak_result['min']:.1f}, max {soak_result['max']:.1f}, end {soak_result['last']:.1f} MiB "
            f"({soak_result['change_pct']:+.1f} %; from minute 1, {soak_result['after_1min']:.1f} MiB: "
            f"{soak_result['change_after_1min_pct']:+.1f} %). RSS every 10 s (MiB): "
            + " ".join(str(value) for value in soak_result["series"])
            + ".",
        ]
    return "\n".join(parts) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 10, 50, 200])
    parser.add_argument("--delays", type=int, nargs="+", default=[0, 200], help="signer delays in ms")
    parser.add_argument("--scenarios", nargs="+", default=["print", "credentials"], choices=("print", "credentials"))
    parser.add_argument("--signers", choices=("canned", "reference"), default="canned")
    parser.add_argument("--soak-minutes", type=float, default=0.0)
    parser.add_argument("--serve-only", type=int, metavar="DELAY_MS", help="start the stack and wait")
    parser.add_argument("--database", default="bench")
    parser.add_argument("--no-prober", action="store_true", help="no /health prober traffic")
    parser.add_argument("--port-base", type=int, default=0, help="ports for the signers and the service (3 in a row)")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE", help="extra service setting")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--server", choices=("production", "uvicorn", "granian"), default="production")
    parser.add_argument("--honour-retry-after", action="store_true", help="load generator users wait Retry-After on a 503")
    arguments = parser.parse_args()
    extra_env = dict(item.split("=", 1) for item in arguments.env)

    BENCH_FOLDER.mkdir(parents=True, exist_ok=True)
    RESULTS_FOLDER.mkdir(parents=True, exist_ok=True)
    db_url = database_url(arguments.database)
    database_recreate(db_url)
    fixtures = BENCH_FOLDER / "fixtures.json"
    setup_env = service_environment(db_url, 1, 1)
    subprocess.run(
        [PYTHON, str(BASE_DIR / "benchmarks" / "bench_setup.py"), str(fixtures)], check=True, cwd=BASE_DIR, env=setup_env
    )
    log = Path(tempfile.gettempdir()) / "coronacheck-bench-server.log"

    # SIGTERM (e.g. `kill <pid>`) stops the stack as Ctrl-C does, leaving no servers behind.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    if arguments.serve_only is not None:
        delay = arguments.serve_only
        stack = stack_start(
            arguments.signers, delay, db_url, log, arguments.port_base, extra_env, arguments.workers, arguments.server
        )
        print(json.dumps({"service": stack.service_url, "server_pid": stack.server.pid, "fixtures": str(fixtures)}), flush=True)
        try:
            stack.server.wait()
        except KeyboardInterrupt:
            pass
        finally:
            stack.stop()
        return

    cells: list[Cell] = []
    memory: list[str] = []
    calibration: dict = {}
    soak_result = None
    for delay in arguments.delays:
        stack = stack_start(
            arguments.signers, delay, db_url, log, arguments.port_base, extra_env, arguments.workers, arguments.server
        )
        try:
            time.sleep(1)
            rss_start = rss_mib(stack.server.pid)
            if not calibration:
                calibration = calibrate(stack)
            for scenario in arguments.scenarios:
                for concurrency in arguments.concurrency:
                    cell = Cell(delay, scenario, concurrency)
                    for _ in range(arguments.repeat):
                        cell.runs.append(
                            measure(
                                stack,
                                scenario,
                                concurrency,
                                arguments.seconds,
                                arguments.warmup,
                                fixtures,
                                prober_on=not arguments.no_prober,
                                honour_retry_after=arguments.honour_retry_after,
                            )
                        )
                    cells.append(cell)
                    print(table([cell]).splitlines()[-1], file=sys.stderr, flush=True)
            memory.append(
                f"{delay} ms signers: {rss_start:.1f} MiB at start, {rss_mib(stack.server.pid):.1f} MiB after the matrix"
            )
            if arguments.soak_minutes and delay == max(arguments.delays):
                soak_result = soak(stack, arguments.soak_minutes, fixtures, arguments.honour_retry_after)
        finally:
            stack.stop()

    text = report(arguments, cells, memory, calibration, soak_result)
    path = RESULTS_FOLDER / f"{datetime.now().strftime('%Y%m%dT%H%M%S')}.md"
    path.write_text(text)
    print(text)
    print(f"written to {path.relative_to(BASE_DIR)}")


if __name__ == "__main__":
    main()
