"""Summarise a py-spy "raw" (collapsed stacks) profile: where the CPU goes.

    py-spy record -p <server pid> -d 10 -r 200 -f raw -o /tmp/profile.txt --nonblocking
    .venv/bin/python benchmarks/profile_summary.py /tmp/profile.txt [--top 40] [--match events/]

With `--stages`, prints instead a per-stage CPU budget: each sample goes to the stage of its
innermost frame that belongs to a stage (`STAGES`, first match wins; generic library frames such
as asyncio or functools are skipped, so their time counts for the caller that uses them), and
`--requests N` turns the shares into microseconds per request given the CPU time per request.

Prints the functions with the largest inclusive share (the frame is anywhere on the stack) and
the largest self share (the frame is on top), over all samples of all threads; idle samples are
not recorded by py-spy unless `--idle` is given, so the shares are of the busy time.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

# (stage, path fragments): the innermost frame whose file path contains a fragment decides.
STAGES: list[tuple[str, tuple[str, ...]]] = [
    ("admission", ("api/admission.py",)),
    ("/health", ("api/health.py",)),
    ("logging", ("logging/", "common/logging.py")),
    ("JSON (encode/decode)", ("json/",)),
    ("CMS verification (cms.py, asn1crypto, cryptography)", ("events/decoding/cms.py", "asn1crypto/", "cryptography/")),
    ("intake: decode, validate, normalise", ("events/intake.py", "events/decoding/", "events/validation.py")),
    ("rules (domestic, EU, DCC schema)", ("events/rules/", "events/dccschema.py", "fastjsonschema")),
    ("outbound: connections (common/transport.py; aiohttp before)", ("common/transport.py", "aiohttp/", "yarl/", "multidict/")),
    ("outbound: httpx layer + common/http.py", ("httpx/", "common/http.py", "signing/clients.py")),
    (
        "database (run_db, thread hop, psycopg, ORM)",
        ("common/db.py", "psycopg", "django/db/", "concurrent/futures", "signing/services.py"),
    ),
    ("issuance orchestration (signing/, events/selectors)", ("signing/", "events/selectors.py", "events/types.py")),
    ("Django/DRF/adrf request handling + API views", ("django/", "rest_framework/", "adrf/", "asgiref/", "api/", "coronacheck/")),
    ("ASGI server (uvicorn, httptools, granian)", ("uvicorn/", "httptools", "granian/")),
]
GENERIC = ("asyncio/", "functools.py", "contextlib.py", "threading.py", "typing.py", "dataclasses.py", "copy.py", "<frozen")


def stage_of(frames: list[str]) -> str:
    for frame in reversed(frames):
        location = frame.rpartition("(")[2]
        if any(fragment in location for fragment in GENERIC):
            continue
        for name, fragments in STAGES:
            if any(fragment in location for fragment in fragments):
                return name
    return "event loop and other"


def stages(path: Path, cpu_ms_per_request: float) -> str:
    counts: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        total += count
        counts[stage_of(stack.split(";"))] += count
    header = "| stage | share |" + (" µs/request |" if cpu_ms_per_request else "")
    lines = [f"{total} samples", "", header, "|---|---:|" + ("---:|" if cpu_ms_per_request else "")]
    for name, n in counts.most_common():
        row = f"| {name} | {100 * n / total:.1f} % |"
        if cpu_ms_per_request:
            row += f" {1000 * cpu_ms_per_request * n / total:.0f} |"
        lines.append(row)
    return "\n".join(lines)


def summarise(path: Path, top: int, match: str) -> str:
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    threads: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        frames = stack.split(";")
        total += count
        threads[frames[0]] += count
        for frame in set(frames[1:]):
            inclusive[frame] += count
        own[frames[-1]] += count
    lines = [f"{total} samples", "", "threads:"]
    lines += [f"  {100 * n / total:5.1f} %  {name}" for name, n in threads.most_common(8)]
    lines += ["", "inclusive:"]
    lines += [f"  {100 * n / total:5.1f} %  {name}" for name, n in inclusive.most_common() if match in name][: top + 3]
    lines += ["", "self:"]
    lines += [f"  {100 * n / total:5.1f} %  {name}" for name, n in own.most_common(top)]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", type=Path)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--match", default="", help="only inclusive frames containing this text")
    parser.add_argument("--stages", action="store_true", help="a per-stage CPU budget instead")
    parser.add_argument("--cpu-ms", type=float, default=0.0, help="CPU ms per request, for µs per stage")
    arguments = parser.parse_args()
    if arguments.stages:
        print(stages(arguments.path, arguments.cpu_ms))
    else:
        print(summarise(arguments.path, arguments.top, arguments.match))


if __name__ == "__main__":
    main()
