"""`python -m bench` (make bench): every benchmark in turn — ingest, summarise, search, inline, scripts, fan-out, stall,
retention, hostile input.

Each prints its own table with its baseline measured in the same run. `--quick` uses small sizes.
"""
from __future__ import annotations

import argparse
import platform
import subprocess
import sys
from datetime import datetime

from bench.common import ROOT


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (minutes, not tens of minutes)")
    args = ap.parse_args()
    runs = [
        ("ingest", ["--count", "2000" if args.quick else "20000"]),
        ("summarise", ["--count", "500" if args.quick else "2000"]),
        ("search", ["--count", "5000" if args.quick else "100000"]),
        ("inline", ["--count", "5000" if args.quick else "100000"]),
        ("script", []),
        ("fanout", ["--chats", "300", "1000"] if args.quick else ["--chats", "1000", "10000"]),
        ("stall", ["--quick"] if args.quick else []),
        ("retention", ["--quick"] if args.quick else []),
        ("hostile", ["--quick"] if args.quick else []),
    ]
    print(f"newsbot benchmarks — {datetime.now():%Y-%m-%d %H:%M}, {platform.machine()}, "
          f"{platform.python_implementation()} {platform.python_version()}", flush=True)
    failed = 0
    for name, extra in runs:
        print(f"\n=== bench.{name} {' '.join(extra)}", flush=True)
        failed += subprocess.run([sys.executable, "-m", f"bench.{name}", *extra], cwd=ROOT).returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
