"""Ingest benchmark: the whole pipeline (parse, clean, summarise, dedupe, store, index) against a bare
baseline (frontmatter.loads + BeautifulSoup(..., "lxml").get_text()) over the same synth files.

    .venv/bin/python -m bench.ingest [--count 20000]

Each system runs in its own child process, so each peak RSS is its own. Targets: pipeline >= 0.5x
the baseline's articles/s, peak RSS <= 150 MB.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from bench.common import ProcessTree, make_synth, peak_rss_mb, run_child, table


def baseline(folder: Path) -> dict:
    import frontmatter
    from bs4 import BeautifulSoup

    from bot.cli.progress import progress

    files = sorted(folder.rglob("*.md"))
    t0, c0 = time.perf_counter(), time.process_time()
    ok = 0
    with progress("baseline", len(files)) as advance:
        for path in files:
            try:
                post = frontmatter.loads(path.read_bytes().decode("utf-8", "replace"))
                BeautifulSoup(post.content, "lxml").get_text()
                ok += 1
            except Exception:  # the baseline has no error handling worth the name; count and move on
                pass
            advance(path.name)
    return {"files": len(files), "ok": ok, "wall": time.perf_counter() - t0, "cpu": time.process_time() - c0,
            "rss_mb": peak_rss_mb()}


def pipeline(folder: Path, db_path: Path, workers: int) -> dict:
    from bot.cli.progress import progress
    from bot.feeds.ingest import ingest_paths
    from storage.db import open_db

    files = sum(1 for _ in folder.rglob("*.md"))

    async def go():
        async with open_db(db_path) as db:
            with progress("pipeline", files) as advance:
                return await ingest_paths(db, [folder], progress=advance, workers=workers)

    t0, c0 = time.perf_counter(), time.process_time()
    with ProcessTree() as tree:
        report = asyncio.run(go())
    return {"files": files, "ok": report.total - len(report.rejected), "new": report.new, "wall": time.perf_counter() - t0,
            "cpu": time.process_time() - c0, "tree_cpu": tree.cpu_s, "rss_mb": peak_rss_mb(), "tree_mb": tree.peak_mb,
            "db_mb": sum(p.stat().st_size for p in db_path.parent.glob(db_path.name + "*")) / 1e6}


STAGE_SAMPLE = 2000


def stages(folder: Path, db_dir: Path, sample: int = STAGE_SAMPLE) -> dict:
    """CPU per article of each stage, each timed on its own over an even sample of the same files (best
    of 3 passes; storing once, into fresh databases). Where the pipeline's CPU goes, against the baseline's."""
    import pickle
    from zoneinfo import ZoneInfo

    import frontmatter
    from bs4 import BeautifulSoup

    from bot.cli.progress import progress
    from bot.core.clean import clean_body
    from bot.core.errors import RejectedPost
    from bot.core.parse import parse_post
    from bot.core.query import index_terms
    from bot.feeds.ingest import (
        build_article,
        default_summariser,
        iter_post_files,
        read_post_bytes,
    )
    from storage.articles import category_key, store_articles
    from storage.db import open_db
    from storage.index import index_article

    tz = ZoneInfo("Asia/Shanghai")
    files = [p for p, _ in iter_post_files([folder])]
    files = files[:: max(1, len(files) // sample)][:sample]
    datas = [read_post_bytes(p) for p in files]
    bodies, articles = [], []
    for data in datas:
        try:
            bodies.append(parse_post(data, default_tz=tz).body)
            articles.append(build_article(data, source=str(len(articles)), name="x", default_tz=tz))
        except RejectedPost:
            pass
    summaries = [default_summariser(a) for a in articles]
    terms = [index_terms(a.title, a.text) for a in articles]
    items = [(a, s, v, t) for a, (s, v), t in zip(articles, summaries, terms, strict=True)]

    def base(data: bytes) -> None:
        try:
            BeautifulSoup(frontmatter.loads(data.decode("utf-8", "replace")).content, "lxml").get_text()
        except Exception:  # as the baseline child: count on, whatever breaks
            pass

    def build(data: bytes) -> None:
        try:
            build_article(data, source="x", name="x", default_tz=tz)
        except RejectedPost:
            pass

    def parse(data: bytes) -> None:
        try:
            parse_post(data, default_tz=tz)
        except RejectedPost:
            pass

    timed = [
        ("baseline: frontmatter + bs4 get_text", base, datas),
        ("parse: decode + front matter (incl. frontmatter.loads)", parse, datas),
        ("bs4 tree alone (inside clean)", lambda body: BeautifulSoup(body, "lxml"), bodies),
        ("clean: bs4 tree + junk walk + paragraphs", clean_body, bodies),
        ("build article: parse + clean + keys", build, datas),
        ("summarise (#3)", default_summariser, articles),
        ("search index text (#6): CJK bigrams, words", lambda a: index_terms(a.title, a.text), articles),
        ("worker -> main transfer (pickle both ways)", lambda item: pickle.loads(pickle.dumps(item)), items),
    ]
    out: dict[str, float] = {}
    with progress("stages", 3 * len(timed) + 2, every=1) as advance:
        for _ in range(3):
            for name, fn, values in timed:
                t0 = time.process_time()
                for v in values:
                    fn(v)
                out[name] = min(out.get(name, float("inf")), 1000 * (time.process_time() - t0) / len(values))
                advance(name)

        async def store(db_path: Path, index_only: bool) -> float:
            async with open_db(db_path) as db:
                t0 = time.process_time()
                for i in range(0, len(items), 200):
                    batch = items[i:i + 200]
                    if index_only:
                        await db.run_in_transaction(lambda conn, batch=batch, i=i: [
                            index_article(conn, i + n + 1, a.title, a.text, category_key(a.categories),
                                          int(a.published.timestamp()), t) for n, (a, _, _, t) in enumerate(batch)])
                    else:
                        await store_articles(db, batch)
                return 1000 * (time.process_time() - t0) / len(items)

        out["store (main process): dedupe checks, rows, search index"] = asyncio.run(
            store(db_dir / "stages-store.sqlite3", False))
        advance("store")
        out["  of which the search index inserts (#6)"] = asyncio.run(store(db_dir / "stages-index.sqlite3", True))
        advance("index")
    return {"sample": len(articles), "stages": out}


def print_stages(result: dict) -> None:
    st = result["stages"]
    base = st["baseline: frontmatter + bs4 get_text"]
    rows = [[name, ms, ms / base] for name, ms in st.items()]
    print(f"\nwhere the CPU goes: each stage timed alone over {result['sample']:,} of the same posts (best of 3)")
    print(table(["stage", "CPU ms/article", "x baseline"], rows))
    whole = (st["build article: parse + clean + keys"] + st["summarise (#3)"]
             + st["search index text (#6): CJK bigrams, words"] + st["worker -> main transfer (pickle both ways)"]
             + st["store (main process): dedupe checks, rows, search index"])
    index = st["search index text (#6): CJK bigrams, words"] + st["  of which the search index inserts (#6)"]
    foundation = whole - st["summarise (#3)"] - index
    print(f"sum of the stages: {whole:.2f} ms, {whole / base:.1f}x the baseline's CPU (on 2 cores about "
          f"{2 * base / whole:.2f}x its speed); without the summariser (#3) and the search index (#6), i.e. parse, "
          f"clean, dedupe, store: {foundation / base:.1f}x (about {2 * base / foundation:.2f}x)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--count", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--child", choices=["baseline", "pipeline", "stages"])
    ap.add_argument("--no-stages", action="store_true", help="skip the per-stage CPU breakdown")
    ap.add_argument("--folder", type=Path)
    ap.add_argument("--db", type=Path)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args(argv)
    if args.child == "baseline":
        print(json.dumps(baseline(args.folder)))
        return 0
    if args.child == "pipeline":
        print(json.dumps(pipeline(args.folder, args.db, args.workers)))
        return 0
    if args.child == "stages":
        print(json.dumps(stages(args.folder, args.db)))
        return 0
    with tempfile.TemporaryDirectory(prefix="newsbot-bench-ingest-") as tmp:
        folder = make_synth(Path(tmp) / "posts", args.count, args.seed)
        base = run_child("bench.ingest", "--child", "baseline", "--folder", str(folder))
        pipe = run_child("bench.ingest", "--child", "pipeline", "--folder", str(folder), "--db", str(Path(tmp) / "b.sqlite3"),
                         "--workers", str(args.workers))
        single = run_child("bench.ingest", "--child", "pipeline", "--folder", str(folder),
                           "--db", str(Path(tmp) / "c.sqlite3"), "--workers", "0")
        breakdown = None if args.no_stages else run_child("bench.ingest", "--child", "stages", "--folder", str(folder),
                                                          "--db", tmp)
    rows = []
    for name, r in (("baseline: frontmatter + bs4 get_text", base),
                    ("newsbot pipeline, 1 process", single),
                    (f"newsbot pipeline, {args.workers} workers", pipe)):
        cpu = r.get("tree_cpu") or r["cpu"]
        rows.append([name, r["files"], r["wall"], r["files"] / r["wall"], 1000 * cpu / r["files"], r["rss_mb"],
                     r.get("tree_mb") or r["rss_mb"]])
    print(f"\ningest benchmark, {args.count} synth posts (seed {args.seed}, 2% defects)")
    print(table(["system", "files", "wall s", "articles/s", "CPU ms/article (all processes)", "peak RSS MB",
                 "peak PSS MB (all processes)"], rows))
    ratio = (pipe["files"] / pipe["wall"]) / (base["files"] / base["wall"])
    single_ratio = (single["files"] / single["wall"]) / (base["files"] / base["wall"])
    print(f"pipeline / baseline speed: {ratio:.2f}x with {args.workers} workers, {single_ratio:.2f}x in one process "
          f"(target >= 0.50x); CPU per article {rows[2][4] / rows[0][4]:.1f}x the baseline's; "
          f"peak RSS {pipe['rss_mb']:.0f} MB (main process; {pipe['tree_mb']:.0f} MB PSS with the workers) and "
          f"{single['rss_mb']:.0f} MB in one process (target <= 150 MB); database {pipe['db_mb']:.0f} MB")
    if breakdown:
        print_stages(breakdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
