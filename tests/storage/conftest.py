"""The synth corpus the search and index tests share: 2,000 posts ingested once per session."""
from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from bot.core.script import match_fold as fold  # the index's folding: NFKC, casefold, one Chinese script
from bot.feeds.ingest import ingest_paths
from storage.db import open_db
from tests.storage.corpus import no_summary
from tests.support.corpora import built_once
from tests.support.paths import SYNTH


def _run_in_thread(coro_fn) -> None:
    """Run async set-up outside pytest's event loop (session fixtures are synchronous)."""
    errors: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(coro_fn())
        except BaseException as exc:  # pragma: no cover - surfaced below
            errors.append(exc)

    t = threading.Thread(target=target)
    t.start()
    t.join()
    if errors:
        raise errors[0]


@pytest.fixture(scope="session")
def corpus_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2,000 synth posts (seed 3) ingested into a SQLite file, once per run. Tests that write use a copy."""
    def build(root: Path) -> None:
        subprocess.run([sys.executable, str(SYNTH), "--out", str(root / "posts"), "--count", "2000", "--seed", "3"],
                       check=True, capture_output=True)

        async def load() -> None:
            async with open_db(root / "corpus.sqlite3") as db:
                await ingest_paths(db, [root / "posts"], summariser=no_summary)

        _run_in_thread(load)

    return built_once(tmp_path_factory, "search-corpus", build) / "corpus.sqlite3"


@pytest.fixture(scope="session")
def folded_corpus(corpus_db: Path) -> list[tuple[int, str, str, str]]:
    """(id, folded title, folded text, category_key) of every article: the brute-force side."""
    conn = sqlite3.connect(corpus_db)
    conn.create_function("fold", 1, fold, deterministic=True)
    rows = conn.execute("SELECT id, fold(title), fold(body), category_key FROM articles ORDER BY id").fetchall()
    conn.close()
    return rows
