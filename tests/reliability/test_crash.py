"""Exactly once across kill -9: a bot subprocess SIGKILLed at random moments during a fan-out."""
from __future__ import annotations

import asyncio
import random
import sqlite3

import pytest

from bot.delivery.engine import DeliveryEngine
from bot.feeds.ingest import ingest_paths
from sandbox import Sandbox
from storage.db import open_db
from tests.support.crashkit import (
    bot_env,
    crash_seeds,
    delivered,
    kill,
    make_subscribers,
    start_bot,
    wait_until,
)
from tests.support.posts import write_post

CONCURRENCY = 16  # DeliveryEngine default: the bound on messages in flight at a crash
STUCK = "SELECT COUNT(*) FROM sends WHERE state IN ('planned', 'in_flight')"


@pytest.mark.slow
@pytest.mark.parametrize("seed", crash_seeds(2))  # NEWSBOT_CRASH_SEEDS=10 for more
async def test_sigkill_during_fanout_loses_nothing(tmp_path, seed):
    rng = random.Random(seed)
    chats_n, articles_n = 150, 12
    db_path = tmp_path / "bot.sqlite3"
    async with Sandbox.running(port=0) as sb:
        # articles are spread so that each chat gets several messages (digest split across messages)
        chat_ids = await make_subscribers(sb, db_path, chats_n, ("新闻",))
        feed = tmp_path / "feed"
        for n in range(articles_n):
            write_post(feed, f"崩溃测试新闻第{n}条" + "很长的标题" * 40, ("新闻", f"源{n % 3}", "要闻"),
                       paragraphs=tuple(f"第{n}条第{k}段：" + "内容" * 200 + "。" for k in range(3)))
        async with open_db(db_path) as db:
            report = await ingest_paths(db, [feed])
            expected = set(report.new_ids)
        assert len(expected) == articles_n
        env = bot_env(sb, db_path)
        log = tmp_path / "bot.log"
        kills = 0
        for _ in range(4):
            proc = start_bot(env, log)
            await asyncio.sleep(rng.uniform(1.0, 4.0))
            kill(proc)
            kills += 1
        proc = start_bot(env, log)

        def settled() -> bool:
            """Every chat has every story and the bot has recorded its last sends (killing it between
            the two would leave a send in flight that this test did not cause)."""
            if not all(set(c) >= expected for c in delivered(sb, chat_ids)[0].values()):
                return False
            con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10)
            try:
                return con.execute(STUCK).fetchone()[0] == 0
            finally:
                con.close()

        try:
            await wait_until(settled, 120)  # a timeout shows below as missing stories or stuck sends
        finally:
            kill(proc)
        per_chat, messages = delivered(sb, chat_ids)
        missing = {cid: expected - set(c) for cid, c in per_chat.items() if expected - set(c)}
        assert not missing, (missing, log.read_text()[-3000:])
        # duplicates: only messages in flight at a kill can arrive twice
        duplicate_messages = 0
        for cid in chat_ids:
            bodies = [m.get("source") or m.get("text") for m in sb.messages(cid)]
            duplicate_messages += len(bodies) - len(set(bodies))
        assert duplicate_messages <= kills * CONCURRENCY, duplicate_messages
        assert not sb.violations
    con = sqlite3.connect(db_path)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    stuck = con.execute(STUCK).fetchone()[0]
    assert stuck == 0
    con.close()


def test_engine_default_concurrency_is_the_documented_bound():
    assert DeliveryEngine.__init__.__kwdefaults__["concurrency"] == CONCURRENCY
