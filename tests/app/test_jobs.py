"""The real JobQueue (APScheduler) with short intervals: a folder feed is polled, new posts reach subscribers."""
from __future__ import annotations

import asyncio

from storage.chats import list_subscriptions
from storage.outbox import get_meta
from tests.support.harness import BotHarness
from tests.support.posts import write_post


async def test_poll_and_dispatch_jobs_deliver_new_posts_from_a_folder_feed(tmp_path):
    feed = tmp_path / "feed"
    write_post(feed, "调度测试：已有的文章")
    env = {"NEWSBOT_FEEDS": str(feed), "NEWSBOT_POLL_SECONDS": "1", "NEWSBOT_DISPATCH_SECONDS": "1"}
    async with BotHarness.running(tmp_path, env=env, jobs=True) as h:
        u = h.sb.add_user("U", language_code="zh")
        chat = h.sb.private_chat(u)
        for _ in range(50):  # the first poll ingests the existing post
            if await get_meta(h.db, "last_poll_at"):
                break
            await asyncio.sleep(0.1)
        await h.say(chat, u, "/subscribe 新闻")
        assert len(await list_subscriptions(h.db, chat.id)) == 1
        before = len(h.sb.messages(chat))
        write_post(feed, "调度测试：新来的文章")
        got = await h.sb.wait_for(chat, before + 1, timeout=15)
        texts = " ".join(m["text"] for m in got[before:])
        assert "新来的文章" in texts and "已有的文章" not in texts
        assert await get_meta(h.db, "last_dispatch_at")
