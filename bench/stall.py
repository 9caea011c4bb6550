"""`python -m bench.stall`: the event loop's longest stall while a hostile RSS feed is polled.

A local aiohttp server serves a feed whose items are the adversarial families of issue #14 (` **y`,
`<`, `"`, `[` repeated, long lines without a closer, and 1 MB items); the real poller polls it
(parsing and cleaning in the worker processes, each item within its time budget) while a probe
coroutine sleeps 5 ms at a time and records how late it wakes up. Target: longest stall ≤ 100 ms.

    python -m bench.stall [--size 65536] [--big 1048576] [--rounds 2]
"""
from __future__ import annotations

import argparse
import asyncio
import html
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

# Imported before the loop starts, as the bot does at start-up: a first import inside the loop is a stall too.
from aiohttp import web

from bot.core.settings import settings_from
from bot.feeds.egress import EgressPolicy
from bot.feeds.manage import add_feed
from bot.feeds.poller import poll_feed
from bot.feeds.workers import WorkerPool
from storage.db import open_db
from storage.feeds import get_feed

TARGET_MS = 100.0
PROBE_SECONDS = 0.005

# name → (repeated unit, suffix): every family is a run without the closer a pattern may look for.
FAMILIES: dict[str, tuple[str, str]] = {
    "bold": (" **y", ""),
    "openers": ("<", ""),
    "quotes": ('"', ""),
    "brackets": ("[", ""),
    "long line": ("word ", ""),            # one line, no newline: a heading or a tag scan without an end
    "unclosed tag": ('<a href="x', ""),     # openers that never close
    "entities": ("&#x", ""),                # entity fragments without a ';'
}


def hostile_feed(size: int = 64 * 1024, big: int = 1024 * 1024) -> bytes:
    """An RSS 2.0 document: each family at `size` bytes, and the first three again at `big` bytes."""
    items = []
    sizes = [(name, size) for name in FAMILIES] + [(name, big) for name in list(FAMILIES)[:3]]
    for n, (name, length) in enumerate(sizes):
        unit, suffix = FAMILIES[name]
        text = unit * (length // len(unit)) + suffix
        items.append(
            f"<item><title>hostile {name} {length // 1024} KB</title><guid>hostile-{n}</guid>"
            f"<pubDate>Mon, 20 May 2024 12:{n:02d}:00 GMT</pubDate>"
            f"<description>{html.escape(text, quote=False)}</description></item>")
    return ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Hostile</title>'
            + "".join(items) + "</channel></rss>").encode()


class Probe:
    """Sleeps PROBE_SECONDS again and again; `longest` is the worst overshoot seen (the loop's stall)."""

    def __init__(self) -> None:
        self.longest = 0.0
        self.samples = 0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            started = time.perf_counter()
            await asyncio.sleep(PROBE_SECONDS)
            self.longest = max(self.longest, time.perf_counter() - started - PROBE_SECONDS)
            self.samples += 1

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


async def serve(doc: bytes):
    """A local aiohttp server answering /feed with `doc`; returns the runner and the URL."""
    async def feed(_: web.Request) -> web.Response:
        return web.Response(body=doc, content_type="application/rss+xml")

    app = web.Application()
    app.router.add_get("/feed", feed)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}/feed"


async def run(size: int, big: int, rounds: int) -> float:
    doc = hostile_feed(size, big)
    # The feed is on loopback: allowed explicitly, as an operator feeding from their LAN would.
    egress = EgressPolicy.of(settings_from({"NEWSBOT_ALLOW_PRIVATE_NETWORKS": "1"}))
    runner, url = await serve(doc)
    workers = WorkerPool()
    print(f"hostile feed: {len(doc) / 1e6:.1f} MB, {len(FAMILIES)} families at {size // 1024} KB "
          f"and 3 at {big // 1024} KB", flush=True)
    worst = 0.0
    try:
        with tempfile.TemporaryDirectory() as tmp:
            async with open_db(Path(tmp) / "stall.sqlite3") as db:
                got = await add_feed(db, url, validate=False, egress=egress)
                assert not isinstance(got, Exception), got
                await workers.run(30, sum, [0])  # start the pool (a worker process) before measuring
                for n in range(rounds):
                    feed = await get_feed(db, got.feed.id)
                    assert feed is not None
                    probe = Probe()
                    probe.start()
                    started = time.perf_counter()
                    r = await poll_feed(db, feed, now=datetime.now(timezone.utc), egress=egress, workers=workers)
                    took = time.perf_counter() - started
                    await probe.stop()
                    worst = max(worst, probe.longest)
                    slow = sum("took too long" in why for _, why in r.rejected)
                    print(f"round {n + 1}: poll {took:.1f} s, {r.items} items, {r.new} new, {r.known} known, "
                          f"{len(r.rejected)} rejected ({slow} took too long), error={r.error}; "
                          f"event loop: longest stall {probe.longest * 1000:.1f} ms over {probe.samples} probes",
                          flush=True)
    finally:
        workers.close()
        await runner.cleanup()
    verdict = "OK" if worst * 1000 <= TARGET_MS else "OVER TARGET"
    print(f"longest event-loop stall: {worst * 1000:.1f} ms (target ≤ {TARGET_MS:.0f} ms) {verdict}")
    return worst


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", type=int, default=64 * 1024, help="bytes of each family's item (default 64 KB)")
    ap.add_argument("--big", type=int, default=1024 * 1024, help="bytes of the three big items (default 1 MB)")
    ap.add_argument("--rounds", type=int, default=2, help="polls (the second finds every item known)")
    ap.add_argument("--quick", action="store_true", help="small items (16 KB, 256 KB)")
    args = ap.parse_args()
    if args.quick:
        args.size, args.big = 16 * 1024, 256 * 1024
    worst = asyncio.run(run(args.size, args.big, args.rounds))
    return 0 if worst * 1000 <= TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
