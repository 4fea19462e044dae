"""Instructions per request of the production server, counted by valgrind (issue "Performance").

    PG_PORT=54342 .venv/bin/python benchmarks/instructions.py [--scenario print] [--requests 300]
        [--warmup 100] [--concurrency 1] [--database bench_instructions]

CPU time on this shared 2-core virtual machine moves by ±10 % between runs of the same code, more
than most single changes save. The number of instructions the server executes per request does
not: this script runs the production command (`python -m coronacheck.server`, one worker) under
valgrind's callgrind, with PostgreSQL and the canned 0 ms signers as separate, native processes,
sends `--warmup` requests, zeroes the counters (`callgrind_control --zero`), sends `--requests`
more with `loadgen.py` and prints the instructions the server executed per request (or per
prepare_issue + credentials flow), its own process alone (its threads included; the kernel's
work for its system calls is not counted).

At concurrency 1 the count repeats within ~0.2 % between runs of the same code, so two versions
of the code can be compared one after the other; at higher concurrency it also depends on how
requests interleave (batched writes, loop iterations). Under valgrind the server runs ~40×
slower: the default run takes about two minutes. Instructions are not time (a system call or a
cache miss costs more than its instructions), so a change is confirmed with `run_matrix.py`.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BASE_DIR))
sys.path.insert(0, str(BASE_DIR / "benchmarks"))

from run_matrix import (  # noqa: E402
    PYTHON,
    database_recreate,
    database_url,
    loadgen,
    loadgen_result,
    service_environment,
    signers_start,
)

from devtools.testing.processes import free_port, wait_for_port  # noqa: E402


def requests_sent(url: str, scenario: str, fixtures: Path, requests: int, concurrency: int) -> None:
    """`requests` requests (or flows) with `loadgen.py`, one after the other per virtual user."""
    process = loadgen(url, scenario, concurrency, 3600, 0, fixtures, max_requests=requests)
    result = loadgen_result(process, timeout=3600)
    if result["errors"]:
        raise SystemExit(f"the load generator saw errors: {result['errors']}")


def counted(out_file: Path, pid: int, before: set[Path]) -> int:
    """Dump the server's counters now and return their total (instructions since the last zero)."""
    subprocess.run(["callgrind_control", "--dump", str(pid)], check=True, capture_output=True)
    dumps = sorted(set(out_file.parent.glob(out_file.name + "*")) - before, key=lambda path: path.stat().st_mtime)
    for line in dumps[-1].read_text().splitlines():
        if line.startswith(("summary:", "totals:")):
            return int(line.split()[1])
    raise SystemExit(f"no totals in {dumps[-1]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", choices=("print", "credentials"), default="print")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--database", default="bench_instructions", help="the benchmark database's name (recreated)")
    arguments = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")

    db_url = database_url(arguments.database)
    database_recreate(db_url)
    eu_port, domestic_port, port = free_port(), free_port(), free_port()
    env = service_environment(db_url, eu_port, domestic_port)
    work = Path(tempfile.mkdtemp(prefix="instructions-"))
    fixtures = work / "fixtures.json"
    subprocess.run([PYTHON, str(BASE_DIR / "benchmarks" / "bench_setup.py"), str(fixtures)], check=True, cwd=BASE_DIR, env=env)
    signers = signers_start("canned", 0, eu_port, domestic_port, env)
    out_file = work / "callgrind.out"
    server_command = [PYTHON, "-m", "coronacheck.server", "--host", "127.0.0.1", "--port", str(port)]
    log = (work / "server.log").open("wb")
    server = subprocess.Popen(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out_file}", *server_command],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=log,
    )
    try:
        wait_for_port(port, process=server, timeout=600)
        url = f"http://127.0.0.1:{port}"
        requests_sent(url, arguments.scenario, fixtures, arguments.warmup, arguments.concurrency)
        subprocess.run(["callgrind_control", "--zero", str(server.pid)], check=True, capture_output=True)
        before = set(work.glob("callgrind.out*"))
        requests_sent(url, arguments.scenario, fixtures, arguments.requests, arguments.concurrency)
        total = counted(out_file, server.pid, before)
        unit = "flow" if arguments.scenario == "credentials" else "request"
        print(
            f"{arguments.scenario} c={arguments.concurrency}: {total / arguments.requests / 1e3:,.1f} k instructions per {unit}"
            f" ({arguments.requests} {unit}s after {arguments.warmup} of warm-up; server process, callgrind)"
        )
    finally:
        server.terminate()
        server.wait(timeout=120)
        signers.terminate()
        signers.wait()
        log.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
