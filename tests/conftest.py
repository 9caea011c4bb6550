"""Shared fixtures: paths to ../shared, a fresh SQLite file per test, synth corpora generated once;
Hypothesis profiles; the longest tests handed out first so both xdist workers finish together.

Hypothesis profiles (NEWSBOT_TEST_PROFILE): `fast` (the default, what `make test` runs) and `thorough`
(ten to twenty times the examples). Property tests take their example count from the profile: pure
functions from the loaded profile, tests that drive the bot through the sandbox from the
`end-to-end` profile (each example is a round trip), e.g. `@settings(settings.get_profile("end-to-end"))`.

    NEWSBOT_TEST_PROFILE=thorough make test
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from tests.support.corpora import SYNTH_ODD, built_once, make_synth

PROFILE = os.environ.get("NEWSBOT_TEST_PROFILE", "fast").strip().lower() or "fast"
if PROFILE not in ("fast", "thorough"):
    raise pytest.UsageError(f"NEWSBOT_TEST_PROFILE: expected fast or thorough, got {PROFILE!r}")
THOROUGH = PROFILE == "thorough"

# No deadline: two xdist workers share two cores, so one slow example is load, not a bug. Time bounds
# that matter are tested on purpose (tests/security) or measured by `make bench`.
settings.register_profile("fast", max_examples=50, deadline=None)
settings.register_profile("thorough", max_examples=1000, deadline=None)
settings.register_profile(
    "end-to-end", max_examples=200 if THOROUGH else 12, deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.load_profile(PROFILE)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`slow` tests first (a stable sort: same order on every xdist worker), so that no worker starts a
    minute-long test while the other has nothing left to do."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "newsbot.sqlite3"


@pytest.fixture
async def db(db_path: Path):
    from storage.db import open_db

    async with open_db(db_path) as database:
        yield database


@pytest.fixture(scope="session")
def synth_odd(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Synth posts with 20% defects, generated once per run (tests/support/corpora.py: SYNTH_ODD). Read-only."""

    def build(root: Path) -> None:
        make_synth(root / "posts", SYNTH_ODD)

    return built_once(tmp_path_factory, "synth-odd", build) / "posts"
