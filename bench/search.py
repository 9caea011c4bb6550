"""Benchmark full-text search against a LIKE scan: index build time and size, latency, recall; and /latest.

    .venv/bin/python -m bench.search [--count 100000] [--seed 1] [--workdir DIR]

Posts are made by ../shared/corpus/synth.py in a temporary folder (or DIR, reused when it already
holds a database) and ingested with bot.feeds.ingest (summaries skipped: they are not what is measured).
Recall is checked against a brute-force scan written here, independently of bot.core.query: substring of
the folded title/text for Chinese terms, a word-boundary regex for English ones.
"""
from __future__ import annotations

import argparse
import asyncio
import re
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from bench.common import make_synth
from bot.cli.progress import progress
from bot.core.query import ParsedQuery, parse_query
from bot.core.script import match_fold as fold  # the index's folding: NFKC, casefold, one Chinese script
from bot.feeds.ingest import ingest_paths, iter_post_files
from storage.articles import latest
from storage.db import Database, open_db
from storage.index import rebuild_index
from storage.search import matching_ids, search

NOW = datetime(2024, 1, 1, tzinfo=timezone.utc)  # synth dates fall in 2021–2023

CHINESE = [
    # 1 character: very common to rare
    "中", "国", "的", "车", "药", "油", "猫", "税", "剩",
    # 2 characters
    "中国", "公司", "美国", "新冠", "苹果", "手机", "荔枝", "代码", "病例", "日本", "海关", "疫情", "芯片", "强调",
    # 3 characters
    "无症状", "赵德馨", "指令集", "风情街", "感染者", "到上海", "营业收",
    # 4 characters
    "规模以上", "基础设施", "营业收入", "确诊病例", "应用程序", "利润总额", "集中隔离", "一再强调", "罗斯吞并",
]
ENGLISH = ["apple", "security", "linux", "data", "google", "safari", "model", "privacy", "server", "music"]
MULTI = [
    "中国 企业", "apple safari", "疫情 上海", "代码 linux", "无症状 感染者 上海", "苹果 手机", "病例 -上海",
    '"root hash"', "cat:金融 中国", "日本 sort:new",
]
LATEST = [(), ("金融",), ("Tech",), ("社交媒体", "V2EX"), ("金融", "新浪财经", "新浪财经－国內")]


# ---------------------------------------------------------------- reference scan (independent of bot.core.query)

_CJK_RUN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]+")
_NOT_WORD = r"(?:[^\w]|_|[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff])"


def _ref_pattern(term: str) -> re.Pattern[str] | str:
    """A CJK term is a substring; an English term a run of whole words with any separators between."""
    t = fold(term)
    if _CJK_RUN.fullmatch(t):
        return t
    words = re.findall(r"[^\W_]+", t)
    return re.compile(rf"(?:^|(?<={_NOT_WORD}))" + r"[\W_]+".join(map(re.escape, words)) + rf"(?=$|{_NOT_WORD})")


def _has(pattern: re.Pattern[str] | str, texts: tuple[str, str]) -> bool:
    if isinstance(pattern, str):
        return any(pattern in t for t in texts)
    return any(pattern.search(t) for t in texts)


def reference_ids(parsed: ParsedQuery, rows: list[tuple[int, tuple[str, str], str]]) -> set[int]:
    inc = [_ref_pattern(p.text) for p in parsed.include]
    exc = [[_ref_pattern(p.text) for p in group] for group in parsed.exclude]
    needles = ["\x1f" + c + "\x1f" for c in parsed.categories]
    out = set()
    for article_id, texts, cat_key in rows:
        if needles and not any(n in "\x1f" + cat_key for n in needles):
            continue
        if all(_has(p, texts) for p in inc) and not any(all(_has(p, texts) for p in g) for g in exc):
            out.add(article_id)
    return out


def like_sql(parsed: ParsedQuery) -> tuple[str, list[object]]:
    where, params = [], []
    for p in parsed.include:
        where.append("(title LIKE ? OR body LIKE ?)")
        params += [f"%{p.text}%"] * 2
    for group in parsed.exclude:
        for p in group:
            where.append("NOT (title LIKE ? OR body LIKE ?)")
            params += [f"%{p.text}%"] * 2
    for c in parsed.categories:
        where.append("instr(char(31) || category_key, ?) > 0")
        params.append("\x1f" + c + "\x1f")
    return "FROM articles WHERE " + " AND ".join(where or ["1"]), params


# ---------------------------------------------------------------- measuring


@dataclass
class Timing:
    samples: list[float] = field(default_factory=list)

    def p(self, q: float) -> float:
        s = sorted(self.samples)
        return s[min(len(s) - 1, int(q * len(s)))] * 1000 if s else float("nan")


async def timed(fn: Callable[[], Awaitable[object]], timing: Timing, runs: int) -> None:
    await fn()  # warm the page cache
    for _ in range(runs):
        t = time.perf_counter()
        await fn()
        timing.samples.append(time.perf_counter() - t)


async def build(workdir: Path, count: int, seed: int) -> tuple[Path, float]:
    db_path = workdir / "bench.sqlite3"
    if db_path.exists():
        return db_path, float("nan")
    corpus = make_synth(workdir / "corpus", count, seed, oddities=0.0)  # set-up, before any timing
    files = sum(1 for _ in iter_post_files([corpus]))
    t = time.perf_counter()
    async with open_db(db_path) as db:
        with progress("ingest", files, every=5000) as advance:
            await ingest_paths(db, [corpus], progress=advance, summariser=lambda a: ([], 0))
    return db_path, time.perf_counter() - t


async def sizes(db: Database) -> dict[str, int]:
    row = await db.fetchone("SELECT sum(length(CAST(title AS BLOB)) + length(CAST(body AS BLOB))), count(*) FROM articles")
    text, n = int(row[0] or 0), int(row[1])
    row = await db.fetchone(
        "SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'articles\\_fts%' ESCAPE '\\' OR name LIKE 'articles\\_chars%' ESCAPE '\\'"
    )
    index = int(row[0] or 0)
    row = await db.fetchone("SELECT sum(pgsize) FROM dbstat WHERE name = 'articles'")
    return {"articles": n, "text": text, "index": index, "table": int(row[0] or 0)}


async def run(args: argparse.Namespace) -> int:
    workdir = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="bench-search-"))
    workdir.mkdir(parents=True, exist_ok=True)
    db_path, ingest_s = await build(workdir, args.count, args.seed)
    async with open_db(db_path) as db:
        if args.mmap:  # what storage.db.connect could set; off there by default
            await db.conn.execute(f"PRAGMA mmap_size = {args.mmap * 1024 * 1024}")
        rebuild_s = float("nan")
        if not args.no_rebuild:
            t = time.perf_counter()
            await rebuild_index(db)
            rebuild_s = time.perf_counter() - t
        await db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        sz = await sizes(db)
        rows = [(r[0], (fold(r[1]), fold(r[2])), r[3])
                for r in await db.fetchall("SELECT id, title, body, category_key FROM articles")]

        groups = {f"Chinese {n} char{'s' if n > 1 else ''}": [q for q in CHINESE if len(q) == n] for n in (1, 2, 3, 4)}
        groups |= {"English words": ENGLISH, "multi-word": MULTI}
        results: list[tuple[str, Timing, Timing, int, int, int]] = []
        newest_first = Timing()
        misses: list[str] = []
        for label, queries in groups.items():
            ours, base = Timing(), Timing()
            expected = found = spurious = 0
            for q in queries:
                parsed = parse_query(q)
                assert isinstance(parsed, ParsedQuery), (q, parsed)
                await timed(lambda parsed=parsed: search(db, parsed, limit=5, now=NOW), ours, args.runs)
                by_date = parse_query(q if "sort:" in q else q + " sort:new")
                await timed(lambda by_date=by_date: search(db, by_date, limit=5, now=NOW), newest_first, args.runs)
                sql, params = like_sql(parsed)

                async def baseline(sql=sql, params=params):  # LIKE cannot rank: total, then the newest five
                    await db.fetchone(f"SELECT count(*) {sql}", params)
                    await db.fetchall(f"SELECT id {sql} ORDER BY published DESC LIMIT 5", params)

                await timed(baseline, base, args.runs)
                got = set(await matching_ids(db, parsed, now=NOW))
                want = reference_ids(parsed, rows)
                expected += len(want)
                found += len(want & got)
                spurious += len(got - want)
                if want != got:
                    misses.append(f"{q}: missing {len(want - got)}, spurious {len(got - want)}")
            results.append((label, ours, base, expected, found, spurious))

        lat: list[tuple[str, Timing]] = []
        for cat in LATEST:
            tm = Timing()
            await timed(lambda cat=cat: latest(db, category=cat, limit=5), tm, args.runs * 20)
            lat.append(("/latest " + (" › ".join(cat) or "(all)"), tm))

    print()
    print(f"{sz['articles']} articles; stored text {sz['text'] / 1e6:.1f} MB (articles table {sz['table'] / 1e6:.1f} MB)")
    if ingest_s == ingest_s:
        print(f"ingest with index triggers: {ingest_s:.1f} s ({sz['articles'] / ingest_s:.0f} articles/s)")
    print(f"connection: mmap_size {args.mmap} MB; " + ("" if args.mmap else "(try --mmap 2048)"))
    print(f"index rebuild: {rebuild_s:.1f} s; index size {sz['index'] / 1e6:.1f} MB = {sz['index'] / max(1, sz['text']):.2f}× text (target ≤ 1.5)")
    print()
    head = f"{'query set':<24}{'n':>4}{'p50 ms':>9}{'p95 ms':>9}{'LIKE p50':>10}{'LIKE p95':>10}{'p95 ×':>8}{'recall':>8}{'spurious':>10}"
    print(head)
    print("-" * len(head))
    all_ours, all_base = Timing(), Timing()
    for label, ours, base, expected, found, spurious in results:
        all_ours.samples += ours.samples
        all_base.samples += base.samples
        recall = found / expected if expected else 1.0
        print(f"{label:<24}{len(ours.samples) // args.runs:>4}{ours.p(.5):>9.1f}{ours.p(.95):>9.1f}{base.p(.5):>10.1f}"
              f"{base.p(.95):>10.1f}{base.p(.95) / ours.p(.95):>7.1f}×{recall:>8.3f}{spurious:>10}")
    print(f"{'all (target p95 ≤ 50)':<24}{len(all_ours.samples) // args.runs:>4}{all_ours.p(.5):>9.1f}{all_ours.p(.95):>9.1f}"
          f"{all_base.p(.5):>10.1f}{all_base.p(.95):>10.1f}{all_base.p(.95) / all_ours.p(.95):>7.1f}×")
    print(f"{'same, sort:new':<24}{len(newest_first.samples) // args.runs:>4}{newest_first.p(.5):>9.1f}{newest_first.p(.95):>9.1f}")
    for label, tm in lat:
        print(f"{label[:24]:<24}{'':>4}{tm.p(.5):>9.2f}{tm.p(.95):>9.2f}{'':>10}{'':>10}{'':>8}  (target p95 ≤ 5)")
    for m in misses:
        print("recall mismatch:", m)
    return 1 if misses else 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--runs", type=int, default=3, help="timed runs per query (after one warm-up)")
    ap.add_argument("--workdir", help="keep the corpus and database here; reused when present")
    ap.add_argument("--no-rebuild", action="store_true", help="skip timing a full index rebuild")
    ap.add_argument("--mmap", type=int, default=0, metavar="MB", help="PRAGMA mmap_size for the run (default off)")
    sys.exit(asyncio.run(run(ap.parse_args())))


if __name__ == "__main__":
    main()
