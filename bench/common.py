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


class ProcessTree:
    """Peak memory and total CPU time of this process and all its descendants (worker processes
    included), sampled in a thread. Memory is PSS, so pages the workers share (libraries, the
    forkserver's imports) count once. CPU counts finished workers through the process that reaped
    them (their forkserver), read once more on exit."""

    def __init__(self, interval: float = 0.25) -> None:
        import threading

        self.interval = interval
        self.peak_mb = 0.0
        self.cpu_s = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> tuple[float, float]:
        import psutil

        me = psutil.Process()
        memory = cpu = 0.0
        for proc in [me, *me.children(recursive=True)]:
            try:
                memory += proc.memory_full_info().pss
                t = proc.cpu_times()
                cpu += t.user + t.system + t.children_user + t.children_system
            except (psutil.Error, AttributeError):  # gone, or no PSS on this platform
                continue
        return memory / 1e6, cpu

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak_mb = max(self.peak_mb, self._sample()[0])

    def __enter__(self) -> ProcessTree:
        self._cpu0 = self._sample()[1]
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        memory, cpu = self._sample()
        self.peak_mb = max(self.peak_mb, memory)
        self.cpu_s = cpu - self._cpu0


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
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))) for r in cells]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)
