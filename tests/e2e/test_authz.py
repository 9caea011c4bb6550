"""Who may do what, through the sandbox: admin commands only in private chats, /digest in groups only for
their admins, per-sender limits that anonymous admins of different groups do not share."""
from __future__ import annotations

import asyncio

import pytest

from handlers.common import UserRateLimit
from tests.support.harness import BotHarness

ADMIN = 999


@pytest.fixture
async def h(tmp_path):
    async with BotHarness.running(tmp_path, admins=(ADMIN,)) as harness:
        yield harness


@pytest.mark.parametrize("command", ["/feeds", "/stats", "/export", "/addfeed https://example.org/rss",
                                     "/fetchnow", "/removefeed 1"])
async def test_admin_commands_in_a_group_point_to_a_private_chat_and_reveal_nothing(h, command):
    admin = h.sb.add_user("Admin", language_code="en", user_id=ADMIN)
    group = h.sb.group("Team", members=[admin], admins=[admin], owner=admin)
    (msg,) = await h.say(group, admin, command)
    assert msg["text"] == "⛔ Use admin commands in a private chat with the bot."
    (private,) = await h.say(h.sb.private_chat(admin), admin, "/stats")  # the same admin, in private: allowed
    assert "⛔" not in private["text"]


async def test_digest_in_a_group_is_for_its_admins(h):
    owner = h.sb.add_user("Owner", language_code="en")
    member = h.sb.add_user("Member", language_code="en")
    group = h.sb.group("Team", members=[owner, member], admins=[owner], owner=owner)
    (msg,) = await h.say(group, member, "/digest")
    assert "admins" in msg["text"]
    (msg,) = await h.say(group, owner, "/digest")
    assert "admins" not in msg["text"]


async def test_anonymous_admins_of_two_groups_do_not_share_a_rate_limit(h):
    one, two = h.sb.add_user("One", language_code="en"), h.sb.add_user("Two", language_code="en")
    noisy = h.sb.group("Noisy", members=[one], admins=[one], owner=one)
    calm = h.sb.group("Calm", members=[two], admins=[two], owner=two)
    for _ in range(30):  # both arrive as GroupAnonymousBot; only the noisy group exceeds its budget
        h.sb.send_text(noisy, one, "/help", anonymous=True)
    await h.sb.wait_for(noisy, 1, timeout=30)
    before = len(h.sb.messages(calm))
    h.sb.send_text(calm, two, "/help", anonymous=True)
    (msg,) = (await h.sb.wait_for(calm, before + 1, timeout=30))[before:]
    assert "Too many" not in msg["text"] and "/subscribe" in msg["text"]
    for _ in range(600):  # group replies are paced at 20/min: the warning may queue behind them
        if any("Too many" in m["text"] for m in h.sb.messages(noisy)):
            break
        await asyncio.sleep(0.1)
    assert any("Too many" in m["text"] for m in h.sb.messages(noisy))


def test_rate_limit_memory_is_bounded_and_still_limits_the_noisy():
    now = [0.0]
    limit = UserRateLimit(burst=3, window=10.0, clock=lambda: now[0], max_senders=100)
    for sender in range(10_000):
        assert limit.allow(sender) == (True, False)
    assert len(limit.senders) == 100
    results = [limit.allow(42) for _ in range(5)]
    assert results[:3] == [(True, False)] * 3 and results[3] == (False, True) and results[4] == (False, False)
    now[0] = 11.0
    assert limit.allow(42) == (True, False)  # the window passed
