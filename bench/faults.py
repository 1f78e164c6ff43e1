"""Recovery-time benchmark (`make bench-app`, after bench.app and bench.calls): how long each fault costs.

    python -m bench.faults [--rounds 1]

Runs the fault-injection suite (app/tests/test_faults_db.py, test_faults_s3.py and
browser/test_call_faults_browser.py: private PostgreSQL, moto server, relay and web server of its own,
stopped and started during the run; nothing shared is touched) and collects the figures its tests print:

* database stopped (fast / immediate): database accepting connections -> first 200, same process;
* channel layer's PostgreSQL restarted: database back -> a group message delivered;
* a signalling message (an offer) sent between two call sockets while PostgreSQL is down: database back ->
  delivered to the other socket (neither socket closed);
* S3 endpoint back -> first confirmation 200;
* relay killed for 2 s during a call: relay back -> audio on both sides, and the longest audio gap;
* web server restarted during a call: server back -> audio on both sides, and the longest audio gap.

Figures go to stdout and build/bench-faults/results.json (every round's line). The tests assert the
bounds; this reports the values. Not part of `make test`.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "build" / "bench-faults"
SUITE = ["app/tests/test_faults_db.py", "app/tests/test_faults_s3.py", "app/tests/browser/test_call_faults_browser.py"]
FIGURE = re.compile(r"^((?:AVL|REC|MNT)-\d[^:]*): (.*)$")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=1, help="how many times to run the fault suite")
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    rounds: list[dict[str, object]] = []
    for number in range(1, args.rounds + 1):
        print(f"== fault suite, round {number}/{args.rounds} (private PostgreSQL, moto, relay, web server)", flush=True)
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, "-m", "pytest", *SUITE, "-q", "-s", "-p", "no:cacheprovider"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
            timeout=900,
        )
        seconds = time.monotonic() - started
        figures = {m.group(1): m.group(2) for m in (FIGURE.match(line.strip()) for line in result.stdout.splitlines()) if m}
        if result.returncode != 0:
            print(result.stdout[-6000:], result.stderr[-3000:], sep="\n")
            raise SystemExit(f"the fault suite failed (exit {result.returncode})")
        for name, value in figures.items():
            print(f"   {name}: {value}")
        print(f"   suite run time: {seconds:.1f} s", flush=True)
        rounds.append({"round": number, "seconds": round(seconds, 1), "figures": figures})
    (OUT / "results.json").write_text(json.dumps(rounds, indent=2) + "\n")
    print(f"== figures in {OUT / 'results.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
