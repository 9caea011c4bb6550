"""Fan-out benchmark: N subscribed chats, one new batch of 20 articles, pushed through the local sandbox.

    .venv/bin/python -m bench.fanout [--chats 1000 10000] [--no-limits-run] [--no-free-run]

The sandbox runs in its own process (so CPU and memory figures are the bot's alone).
(a) limits off: messages/s the bot sustains and its CPU time per message;
(b) Telegram-like limits on: wall time against the floor messages/30 s (target <= 1.10x),
    with zero retry_after violations and nothing lost. Peak RSS with 10,000 chats <= 200 MB.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import aiohttp

from bench.common import ROOT, peak_rss_mb, run_child, table

ARTICLES = 20


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _control(session: aiohttp.ClientSession, base: str, action: str, **kwargs) -> object:
    async with session.post(f"{base}/sandbox/{action}", json=kwargs) as resp:
        body = await resp.json()
    if not body.get("ok"):
        raise RuntimeError(f"sandbox {action}: {body}")
    return body["result"]


async def run_once(chats: int, limits: bool, workdir: Path) -> dict:
    from telegram import Bot
    from telegram.request import HTTPXRequest

    from bot.delivery.engine import DeliveryEngine
    from bot.delivery.pacing import Limits, SendLimiter
    from bot.feeds.ingest import ingest_paths
    from storage.chats import register_chat, subscribe
    from storage.db import open_db
    from tests.support.posts import write_post

    port = _free_port()
    sandbox = subprocess.Popen([sys.executable, "-m", "sandbox", "--port", str(port)]  # noqa: ASYNC220 -- starts at once
                               + (["--limits"] if limits else []),
                               cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(100):
                try:
                    async with session.get(f"{base}/sandbox/info") as r:
                        info = (await r.json())["result"]
                    break
                except (aiohttp.ClientError, KeyError):
                    await asyncio.sleep(0.1)
            chat_ids = await _control(session, base, "bulk_private_chats", count=chats)
            db_path = workdir / f"fanout-{chats}-{int(limits)}.sqlite3"
            now = datetime.now(timezone.utc)
            feed = workdir / f"feed-{chats}-{int(limits)}"
            async with open_db(db_path) as db:
                write_post(feed / "seed", "种子文章", ("新闻", "基准", "要闻"))
                await ingest_paths(db, [feed / "seed"])
                for cid in chat_ids:
                    await register_chat(db, chat_id=cid, type="private", title="", is_forum=False,
                                        client_language="zh", timezone="Asia/Shanghai", now=now)
                    await subscribe(db, cid, 0, ("新闻",), now)
                for n in range(ARTICLES):
                    write_post(feed / "batch", f"基准测试新闻第{n}条：海关发布数据", ("新闻", f"源{n % 4}", "要闻"),
                               paragraphs=(f"第{n}条新闻的正文第一段，介绍了事件的经过。", f"第{n}条的第二段给出背景。"))
                await ingest_paths(db, [feed / "batch"])
                bot = Bot(info["token"], base_url=f"{base}/bot",
                          request=HTTPXRequest(connection_pool_size=32, read_timeout=30, connect_timeout=10))
                await bot.initialize()
                limiter = SendLimiter(Limits() if limits else Limits.off())
                engine = DeliveryEngine(bot, db, limiter=limiter, concurrency=16)
                t0, c0 = time.perf_counter(), time.process_time()
                await engine.start()
                report = await engine.dispatch()
                t_plan = time.perf_counter() - t0
                await engine.drain(timeout=3600)
                wall, cpu = time.perf_counter() - t0, time.process_time() - c0
                await engine.close()
                await bot.shutdown()
            summary = await _control(session, base, "summary")
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=10)
    return {"chats": chats, "limits": limits, "messages": summary["messages"], "reached": summary["chats"],
            "planned": report.messages_planned, "wall": wall, "cpu": cpu, "plan_s": t_plan,
            "violations": summary["violations"], "r429": summary["too_many_requests"], "rss_mb": peak_rss_mb(),
            "lost": chats - summary["chats"]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--chats", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--limits-chats", type=int, nargs="+", default=None,
                    help="chat counts for the limits-on run (default: same as --chats)")
    ap.add_argument("--child", action="store_true")
    ap.add_argument("--limits", action="store_true")
    args = ap.parse_args(argv)
    if args.child:
        with tempfile.TemporaryDirectory(prefix="newsbot-bench-fanout-") as tmp:
            print(json.dumps(asyncio.run(run_once(args.chats[0], args.limits, Path(tmp)))))
        return 0
    rows = []
    results = []
    for limits, counts in ((False, args.chats), (True, args.limits_chats or args.chats)):
        for n in counts:
            print(f"fan-out: {n} chats, limits {'on' if limits else 'off'} …", file=sys.stderr, flush=True)
            r = run_child("bench.fanout", "--child", "--chats", str(n), *(["--limits"] if limits else []))
            results.append(r)
            floor = r["messages"] / 30
            rows.append([f"{n} chats, limits {'on' if limits else 'off'}", r["messages"], r["wall"],
                         r["messages"] / r["wall"], 1000 * r["cpu"] / max(1, r["messages"]),
                         f"{r['wall'] / floor:.2f}x" if limits else "—", r["violations"], r["r429"], r["lost"],
                         r["rss_mb"]])
    print(f"\nfan-out benchmark: one batch of {ARTICLES} new articles to N subscribed private chats")
    print(table(["run", "messages", "wall s", "msgs/s", "CPU ms/msg", "vs floor N/30 s", "violations", "429s",
                 "lost", "peak RSS MB"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
