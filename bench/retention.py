"""Retention over a large database while the bot answers: `python -m bench.retention [--count N] [--quick]`.

Builds a database of N synthetic articles (default 100,000; half older than the 180-day retention),
starts the real bot (BotRuntime) against the local sandbox, and measures the reply latency of /latest
and /search — a user's command in, the bot's reply out — first with the bot idle, then while the daily
retention purge (storage.retention.purge, as the maintenance job runs it) deletes the old half and
returns the space. Target: replies stay under 100 ms while it runs.
"""
from __future__ import annotations

import argparse
import asyncio
import hashlib
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from bot.app.config import load_settings
from bot.app.runtime import BotRuntime
from bot.core.model import Article
from bot.delivery.pacing import Limits, SendLimiter
from sandbox import Sandbox
from storage.articles import store_articles
from storage.db import open_db
from storage.retention import purge
from storage.stats import database_bytes

NOW = datetime.now(timezone.utc).replace(microsecond=0)
RETENTION_DAYS = 180
WORDS = ("港口", "机场", "海关", "数据", "市场", "银行", "科技", "能源", "铁路", "出口", "消费", "政策", "利率",
         "企业", "城市", "教育", "医疗", "气候", "农业", "航运", "芯片", "汽车", "旅游", "保险", "债券")
CATEGORIES = (("金融", "新浪财经", "快讯"), ("科技", "新浪科技", "要闻"), ("社会", "新华社", "国内"),
              ("体育", "腾讯体育", "综合"))


def synth_article(i: int, rng: random.Random) -> Article:
    old = i % 2 == 0
    days = rng.uniform(RETENTION_DAYS + 1, 900) if old else rng.uniform(0, RETENTION_DAYS - 1)
    published = NOW - timedelta(days=days)
    title = f"{rng.choice(WORDS)}{rng.choice(WORDS)}：第{i}号报道关于{rng.choice(WORDS)}的最新进展"
    paragraphs = tuple(
        "".join(f"{rng.choice(WORDS)}{rng.choice(WORDS)}方面今天公布了新的情况，" for _ in range(rng.randint(6, 12)))
        + f"编号{i}-{p}。" for p in range(rng.randint(3, 6)))
    uid = f"bench-{i}"
    return Article(
        uid=uid, feed_id=None, source=f"/bench/{uid}.md", title=title, categories=CATEGORIES[i % len(CATEGORIES)],
        author="bench", published=published, image_url=None, paragraphs=paragraphs, language="zh",
        content_hash=hashlib.blake2b((title + "".join(paragraphs)).encode(), digest_size=10).hexdigest(),
        story_key="s:" + uid, ingested=published,
    )


async def build(path: Path, count: int) -> float:
    rng = random.Random(18)
    started = time.perf_counter()
    async with open_db(path) as db:
        batch: list = []
        for i in range(count):
            a = synth_article(i, rng)
            batch.append((a, [a.paragraphs[0]], 1))
            if len(batch) == 500:
                await store_articles(db, batch)
                batch = []
                print(f"\r  built {i + 1:,} articles", end="", file=sys.stderr, flush=True)
        if batch:
            await store_articles(db, batch)
        await db.fetchall("PRAGMA wal_checkpoint(TRUNCATE)")
    print(file=sys.stderr)
    return time.perf_counter() - started


USERS = 60
COMMANDS = ("/latest", "/search 港口 数据", "/latest 金融", "/search 机场")


async def probe(sb: Sandbox, users: list, stop: asyncio.Event | None, samples: int | None) -> list[float]:
    """Send commands one after another, each waiting for its reply; latencies in seconds. Users take turns,
    so no one exceeds the per-sender limit (20 commands / 10 s)."""
    out: list[float] = []
    n = 0
    while (stop is None or not stop.is_set()) and (samples is None or n < samples):
        user, chat = users[n % len(users)]
        before = len(sb.messages(chat))
        t0 = time.perf_counter()
        sb.send_text(chat, user, COMMANDS[n % len(COMMANDS)])
        await sb.wait_for(chat, before + 1, timeout=30)
        out.append(time.perf_counter() - t0)
        n += 1
        await asyncio.sleep(0.02)
    return out


def row(name: str, xs: list[float]) -> str:
    xs = sorted(xs)
    p95 = xs[min(len(xs) - 1, int(len(xs) * 0.95))]
    return (f"| {name} | {len(xs)} | {statistics.median(xs) * 1000:.1f} | {p95 * 1000:.1f} | {xs[-1] * 1000:.1f} | "
            f"{sum(x < 0.1 for x in xs) / len(xs):.1%} |")


async def main_async(count: int, folder: Path) -> int:
    path = folder / "retention.sqlite3"
    print(f"building {count:,} articles (half older than {RETENTION_DAYS} days) …", file=sys.stderr, flush=True)
    built = await build(path, count)
    size_before = database_bytes(path)
    async with Sandbox.running(port=0) as sb:
        settings = load_settings({"TELEGRAM_BOT_TOKEN": sb.token, "TELEGRAM_API_URL": sb.base_url,
                                  "NEWSBOT_DB": str(path)}, dotenv=None)
        async with open_db(path) as db:
            runtime = BotRuntime(settings, db=db, jobs=False, limiter=SendLimiter(Limits.off()))
            await runtime.start(polling_timeout=1)
            try:
                users = [(u, sb.private_chat(u)) for u in (sb.add_user(f"Bench{i}", language_code="zh")
                                                            for i in range(USERS))]
                await probe(sb, users, None, USERS)                        # warm-up: every chat registered
                idle = await probe(sb, users, None, 200)
                stop = asyncio.Event()
                prober = asyncio.create_task(probe(sb, users, stop, None))
                t0 = time.perf_counter()
                report = await purge(db, older_than=NOW - timedelta(days=RETENTION_DAYS), now=NOW)
                took = time.perf_counter() - t0
                stop.set()
                during = await prober
            finally:
                await runtime.stop()
    size_after = database_bytes(path)
    print(f"\nRetention over {count:,} articles ({report.articles:,} purged), database built in {built:.0f} s")
    print(f"purge: {took:.1f} s ({report.articles / took:,.0f} articles/s), {report.batches} batches, "
          f"longest {report.longest_batch * 1000:.1f} ms, batch sizes {min(report.batch_sizes)}–{max(report.batch_sizes)}")
    print(f"database: {size_before / 1e6:,.0f} MB → {size_after / 1e6:,.0f} MB "
          f"(freed {report.bytes_freed / 1e6:,.0f} MB; {report.tombstones:,} fingerprints kept)")
    print("\n| bot reply latency | replies | p50 ms | p95 ms | max ms | under 100 ms |")
    print("|---|---|---|---|---|---|")
    print(row("idle", idle))
    print(row("while retention runs", during))
    p95 = sorted(during)[min(len(during) - 1, int(len(during) * 0.95))]
    print(f"\ntarget p95 < 100 ms while it runs: {'met' if p95 < 0.1 else 'NOT met'}")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--count", type=int, default=100_000)
    ap.add_argument("--quick", action="store_true", help="10,000 articles")
    ap.add_argument("--keep", type=Path, help="build the database in this folder (kept) instead of a temporary one")
    args = ap.parse_args()
    count = 10_000 if args.quick else args.count
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        return asyncio.run(main_async(count, args.keep))
    with tempfile.TemporaryDirectory(prefix="newsbot-bench-retention-") as tmp:
        return asyncio.run(main_async(count, Path(tmp)))


if __name__ == "__main__":
    sys.exit(main())
