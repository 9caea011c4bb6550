"""Replies, button answers and edits share the pushes' pacing (bot/delivery/replies.py): a burst of users
all get their answers, and nothing is sent inside a 429's retry_after window."""
from __future__ import annotations

import asyncio

import pytest

from bot.feeds.ingest import ingest_paths
from sandbox.limits import FloodLimits, Rate
from tests.support.crashkit import make_subscribers, wait_until
from tests.support.harness import BotHarness
from tests.support.posts import write_post


def assert_no_send_started_inside_a_hold(h) -> None:
    """Only a request already on the wire when a 429 came back may land inside its retry_after window:
    at most one or two per 429 at this pace (without the shared hold, every waiting reply would)."""
    told = sum(r["status"] == 429 for r in h.sb.requests)
    assert len(h.sb.violations) <= 2 * told, (told, h.sb.violations[:5])


async def test_a_burst_of_users_all_get_replies_within_telegram_limits(tmp_path):
    async with BotHarness.running(tmp_path, sandbox_options={"limits": True}) as h:
        users = [h.sb.add_user(f"User{i}", language_code="en") for i in range(75)]
        chats = [h.sb.private_chat(u) for u in users]
        for chat, user in zip(chats, users, strict=True):  # all at once, as when a big channel shares the bot
            h.sb.send_text(chat, user, "/help")
        got = await asyncio.gather(*(h.sb.wait_for(chat, 1, timeout=60) for chat in chats))
        assert all(len(replies) == 1 and "/search" in replies[0]["text"] for replies in got)
        assert_no_send_started_inside_a_hold(h)


async def test_replies_wait_out_a_429_instead_of_being_lost(tmp_path):
    # Tight server limits (5 a second) force 429s that the client-side pacing does not foresee.
    tight = FloodLimits(overall=Rate(5, 1.0))
    async with BotHarness.running(tmp_path, sandbox_options={"limits": tight}) as h:
        users = [h.sb.add_user(f"User{i}", language_code="zh") for i in range(20)]
        chats = [h.sb.private_chat(u) for u in users]
        for chat, user in zip(chats, users, strict=True):
            h.sb.send_text(chat, user, "/help")
        got = await asyncio.gather(*(h.sb.wait_for(chat, 1, timeout=90) for chat in chats))
        assert all(len(replies) == 1 for replies in got)
        assert any(r["status"] == 429 for r in h.sb.requests)  # the server did push back
        assert_no_send_started_inside_a_hold(h)


@pytest.mark.slow
async def test_replies_during_a_big_fanout_all_arrive_ahead_of_it(tmp_path):
    """200 users write /start within a second while a 1,000-chat digest fan-out runs (limits on)."""
    async with BotHarness.running(tmp_path, sandbox_options={"limits": True}) as h:
        fanout_chats = await make_subscribers(h.sb, h.runtime.settings.db_path, 1000, ("新闻",))
        write_post(tmp_path / "feed", "扇出期间的新闻", ("新闻", "源", "要闻"))
        await ingest_paths(h.db, [tmp_path / "feed"], workers=0)
        users = [h.sb.add_user(f"Reader{i}", language_code="zh") for i in range(200)]
        chats = [h.sb.private_chat(u) for u in users]
        await h.runtime.delivery.dispatch()
        await wait_until(lambda: sum(bool(h.sb.messages(c)) for c in fanout_chats) >= 50, 30)  # under way
        loop = asyncio.get_running_loop()
        sent_at = loop.time()
        for chat, user in zip(chats, users, strict=True):
            h.sb.send_text(chat, user, "/start")
            await asyncio.sleep(0.9 / len(users))  # within one second

        async def latency(chat) -> float:
            await h.sb.wait_for(chat, 1, timeout=120)
            return loop.time() - sent_at

        latencies = sorted(await asyncio.gather(*(latency(c) for c in chats)))
        fanout_done = await wait_until(lambda: all(h.sb.messages(c) for c in fanout_chats), 120)
        fanout_seconds = loop.time() - sent_at
        median = latencies[len(latencies) // 2]
        print(f"replies during a 1,000-chat fan-out: median {median:.2f} s, "
              f"p95 {latencies[int(len(latencies) * 0.95)]:.2f} s, fan-out finished after {fanout_seconds:.1f} s")
        assert fanout_done  # nothing lost on either side
        assert all(len(h.sb.messages(c)) == 1 for c in chats)
        assert h.sb.violations == []
        # Replies go ahead of the queued digests: they finish well before the fan-out does.
        assert latencies[-1] < fanout_seconds * 0.6, (latencies[-1], fanout_seconds)
