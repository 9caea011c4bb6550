"""Shared fixtures: paths to ../shared, a fresh SQLite file per test, synth corpora generated once."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.paths import SYNTH


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "newsbot.sqlite3"


@pytest.fixture
async def db(db_path: Path):
    from storage.db import open_db

    async with open_db(db_path) as database:
        yield database


def make_synth(out: Path, count: int, seed: int = 1, oddities: float = 0.0) -> Path:
    subprocess.run(
        [sys.executable, str(SYNTH), "--out", str(out), "--count", str(count), "--seed", str(seed),
         "--oddities", str(oddities)],
        check=True, capture_output=True,
    )
    return out


@pytest.fixture(scope="session")
def synth_odd(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3,000 synth posts with 20% defects (shared by the ingest tests)."""
    return make_synth(tmp_path_factory.mktemp("synth-odd"), 3000, seed=7, oddities=0.2)
