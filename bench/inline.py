"""Benchmark the inline answer (`@bot words`): the time from the query to the serialized answerInlineQuery
payload (search or newest page, articles and summaries read, 20 results rendered), p50/p95 by kind.

    .venv/bin/python -m bench.inline [--count 100000] [--seed 1] [--workdir DIR] [--runs 3]

Target (issue #16): p95 under 100 ms at 100,000 articles. Posts come from ../shared/corpus/synth.py and
are ingested with their summaries (as the bot stores them); a --workdir is reused when it holds a database.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace

from bench.common import make_synth
from bench.search import CHINESE, ENGLISH, MULTI, NOW
from bot.cli.progress import progress
from bot.core.settings import Settings
from bot.feeds.ingest import ingest_paths, iter_post_files
from handlers.inline import inline_answer
from storage.db import open_db

TARGET_P95_MS = 100.0


async def build(workdir: Path, count: int, seed: int) -> Path:
    db_path = workdir / "inline.sqlite3"
    if db_path.exists():
        return db_path
    corpus = make_synth(workdir / "corpus", count, seed, oddities=0.0)  # set-up, before any timing
    files = sum(1 for _ in iter_post_files([corpus]))
    async with open_db(db_path) as db:
        with progress("ingest", files, every=5000) as advance:
            await ingest_paths(db, [corpus], progress=advance)
    return db_path


def p(samples: list[float], q: float) -> float:
    s = sorted(samples)
    return s[min(len(s) - 1, int(q * len(s)))] * 1000 if s else float("nan")


async def run(args: argparse.Namespace) -> int:
    workdir = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="bench-inline-"))
    workdir.mkdir(parents=True, exist_ok=True)
    db_path = await build(workdir, args.count, args.seed)
    async with open_db(db_path) as db:
        row = await db.fetchone("SELECT count(*) FROM articles")
        articles = int(row[0]) if row else 0
        svc = SimpleNamespace(db=db, settings=Settings(), clock=lambda: NOW)

        async def answer(text: str, offset: str = "") -> tuple[int, str]:
            results, more, _, _ = await inline_answer(svc, "newsbot_bench_bot", text, offset, "zh")  # type: ignore[arg-type]
            json.dumps([r.to_dict() for r in results], ensure_ascii=False)  # what PTB sends
            return len(results), more

        kinds: dict[str, list[str]] = {"chinese": CHINESE, "english": ENGLISH, "multi": MULTI, "newest": [""]}
        samples: dict[str, list[float]] = {k: [] for k in kinds}
        samples["page 2"] = []
        for kind, queries in kinds.items():
            for q in queries:
                _, more = await answer(q)  # warm the page cache
                for _ in range(args.runs):
                    t = time.perf_counter()
                    _, more = await answer(q)
                    samples[kind].append(time.perf_counter() - t)
                if more:
                    for _ in range(args.runs):
                        t = time.perf_counter()
                        await answer(q, more)
                        samples["page 2"].append(time.perf_counter() - t)
    every = [s for v in samples.values() for s in v]
    print(f"\ninline answers at {articles:,} articles ({datetime.now(timezone.utc):%Y-%m-%d}), {args.runs} runs each:")
    print(f"{'kind':<10} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for kind, v in [*samples.items(), ("all", every)]:
        print(f"{kind:<10} {len(v):>5} {p(v, 0.5):>8.1f} {p(v, 0.95):>8.1f} {p(v, 1.0):>8.1f}")
    p95 = p(every, 0.95)
    print(f"p95 {p95:.1f} ms — target < {TARGET_P95_MS:.0f} ms: {'met' if p95 < TARGET_P95_MS else 'NOT met'}")
    return 0 if p95 < TARGET_P95_MS else 1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--count", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workdir", help="keep the corpus and database here; reused when present")
    ap.add_argument("--runs", type=int, default=3)
    raise SystemExit(asyncio.run(run(ap.parse_args())))


if __name__ == "__main__":
    main()
