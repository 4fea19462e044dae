"""Summarise a py-spy "raw" (collapsed stacks) profile: where the CPU goes.

    py-spy record -p <server pid> -d 10 -r 200 -f raw -o /tmp/profile.txt --nonblocking
    .venv/bin/python benchmarks/profile_summary.py /tmp/profile.txt [--top 40] [--match events/]

Prints the functions with the largest inclusive share (the frame is anywhere on the stack) and
the largest self share (the frame is on top), over all samples of all threads; idle samples are
not recorded by py-spy unless `--idle` is given, so the shares are of the busy time.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path


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
    arguments = parser.parse_args()
    print(summarise(arguments.path, arguments.top, arguments.match))


if __name__ == "__main__":
    main()
