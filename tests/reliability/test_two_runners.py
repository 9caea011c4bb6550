"""Two processes on one database (an overlapping deploy, a double start): one bot sends, nothing twice."""
from __future__ import annotations

import asyncio
import subprocess
import sys

from bot.feeds.ingest import ingest_paths
from sandbox import Sandbox
from storage.db import open_db
from tests.support.crashkit import bot_env, delivered, kill, make_subscribers, start_bot, wait_until
from tests.support.paths import ROOT
from tests.support.posts import write_post


async def test_a_second_bot_on_the_same_database_is_refused_with_one_line(tmp_path):
    db_path = tmp_path / "bot.sqlite3"
    async with Sandbox.running(port=0) as sb:
        env = bot_env(sb, db_path)
        first = start_bot(env, tmp_path / "first.log")
        try:
            assert await wait_until(lambda: (tmp_path / "bot.sqlite3.lock").exists(), 30)
            await asyncio.sleep(1.0)  # the first bot is up and holds the lock
            second = await asyncio.to_thread(
                subprocess.run, [sys.executable, "-m", "bot", "run"], cwd=ROOT, env=env,
                stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
            assert second.returncode == 1
            assert second.stderr.strip().splitlines()[-1:] == [
                f"newsbot: another newsbot (pid {first.pid}) is running on this database; "
                "stop it first or use another NEWSBOT_DB"]
            assert first.poll() is None  # the running bot is untouched
        finally:
            kill(first)


async def test_overlapping_starts_deliver_every_story_exactly_once(tmp_path):
    db_path = tmp_path / "bot.sqlite3"
    async with Sandbox.running(port=0) as sb:
        chat_ids = await make_subscribers(sb, db_path, 40, ("新闻",))
        feed = tmp_path / "feed"
        for n in range(6):
            write_post(feed, f"双开测试第{n}条", ("新闻", "源", "要闻"), paragraphs=(f"第{n}条内容。",))
        async with open_db(db_path) as db:
            expected = set((await ingest_paths(db, [feed])).new_ids)
        env = bot_env(sb, db_path)
        # Two bots started together: one runs, the other exits at once.
        bots = [start_bot(env, tmp_path / f"bot{i}.log") for i in range(2)]
        try:
            ok = await wait_until(lambda: all(set(c) >= expected for c in delivered(sb, chat_ids)[0].values()), 90)
            await asyncio.sleep(2.0)  # time for any second copy to arrive
        finally:
            for proc in bots:
                kill(proc)
        per_chat, _ = delivered(sb, chat_ids)
        assert ok
        assert all(count == 1 for c in per_chat.values() for count in c.values()), per_chat


def test_simultaneous_first_starts_migrate_once(tmp_path):
    db_path = tmp_path / "fresh.sqlite3"
    code = ("import asyncio, sys\nfrom storage.db import open_db\n"
            "async def main():\n    async with open_db(sys.argv[1]):\n        pass\nasyncio.run(main())\n")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(db_path)], cwd=ROOT, stderr=subprocess.PIPE, text=True)
             for _ in range(4)]
    results = [(p.wait(timeout=60), p.stderr.read() if p.stderr else "") for p in procs]
    assert results == [(0, "")] * 4
