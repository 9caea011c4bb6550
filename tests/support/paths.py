"""Where the tests find the project, ../shared (read-only, never copied) and their own fixtures."""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
REAL = SHARED / "corpus" / "real"
SEEDS = SHARED / "seeds"
SYNTH = SHARED / "corpus" / "synth.py"
FIXTURES = ROOT / "tests" / "fixtures"


def real_posts() -> list[Path]:
    return sorted(REAL.rglob("*.md")) + sorted(SEEDS.glob("*.txt"))
