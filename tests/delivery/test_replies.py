"""Replies, button answers and edits share the pushes' pacing (bot/delivery/replies.py): a burst of users
all get their answers, and nothing is sent inside a 429's retry_after window."""
from __future__ import annotations

import asyncio

from sandbox.limits import FloodLimits, Rate
from tests.support.harness import BotHarness


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
