"""Offline policy check benchmark: median time to check the prod export.

    python -m bench.check [--runs 9] [--file build/prod.stack.json]

Times what `make check FILE=build/prod.stack.json` does after the interpreter has
started: read the export, read policies/config.prod.json, run all policies (resource
policies on every registered resource, stack policies on the whole stack), format the
text report. The export is rendered first when the file does not exist. Also prints the
cold time of one `python -m tools.check` process (interpreter start and imports
included). Goal: median <= 0.5 s on the 2-core machine.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

from tools.check import check_file, format_text
from tools.stackfiles import ROOT

GOAL_SECONDS = 0.5


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.check", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--file", default=str(ROOT / "build" / "prod.stack.json"))
    args = parser.parse_args(argv)
    path = Path(args.file)
    if not path.is_file():
        from tools.render import dumps, render

        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dumps(render("prod")), encoding="utf-8")
    check_file(path)  # warm-up: first use of lazily imported modules
    times = []
    report = None
    for _ in range(max(1, args.runs)):
        started = time.perf_counter()
        report = check_file(path)
        format_text(report)
        times.append(time.perf_counter() - started)
    assert report is not None
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "tools.check", str(path)], cwd=ROOT, capture_output=True, check=False)
    cold = time.perf_counter() - started
    median = statistics.median(times)
    verdict = "OK" if median <= GOAL_SECONDS else "OVER GOAL"
    print(
        f"bench check: median {median:.3f} s over {len(times)} runs (min {min(times):.3f}, max {max(times):.3f}) "
        f"for {len(report.policies)} policies on {report.resources} resources of {path.name}; "
        f"cold process {cold:.2f} s; goal <= {GOAL_SECONDS} s: {verdict}"
    )
    return 0 if median <= GOAL_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
