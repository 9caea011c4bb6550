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

    from bot.progress import progress

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
    from bot.ingest import ingest_paths
    from bot.progress import progress
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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--count", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--child", choices=["baseline", "pipeline"])
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
    with tempfile.TemporaryDirectory(prefix="newsbot-bench-ingest-") as tmp:
        folder = make_synth(Path(tmp) / "posts", args.count, args.seed)
        base = run_child("bench.ingest", "--child", "baseline", "--folder", str(folder))
        pipe = run_child("bench.ingest", "--child", "pipeline", "--folder", str(folder), "--db", str(Path(tmp) / "b.sqlite3"),
                         "--workers", str(args.workers))
        single = run_child("bench.ingest", "--child", "pipeline", "--folder", str(folder),
                           "--db", str(Path(tmp) / "c.sqlite3"), "--workers", "0")
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
