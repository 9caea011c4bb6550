"""Shared by the benchmarks: the synth corpus, child processes that report their own peak RSS, tables."""
from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SYNTH = SHARED / "corpus" / "synth.py"


def make_synth(out: Path, count: int, seed: int = 1, oddities: float = 0.02) -> Path:
    if not (out.exists() and any(out.rglob("*.md"))):
        print(f"generating {count} synth posts in {out} …", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, str(SYNTH), "--out", str(out), "--count", str(count), "--seed", str(seed),
                        "--oddities", str(oddities)], check=True, stdout=subprocess.DEVNULL)
    return out


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_child(module: str, *args: str) -> dict:
    """Run `python -m module args…` and parse the JSON line it prints last (its own figures)."""
    out = subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        raise SystemExit(f"{module} {' '.join(args)} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def table(headers: list[str], rows: list[list[object]]) -> str:
    cells = [[str(h) for h in headers]] + [[f"{c:,.2f}" if isinstance(c, float) else f"{c:,}" if isinstance(c, int)
                                             else str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))) for r in cells]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)
