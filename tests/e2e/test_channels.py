"""Channels end to end through the sandbox: the bot added as an administrator who may post, managed from
a private chat by its admins only, posting through the outbox (exactly once, also across kill -9),
stopping when demoted, silent in quiet hours."""
from __future__ import annotations

import asyncio
import random
import re
from collections import Counter
from datetime import datetime, timezone

import pytest

from bot.feeds.ingest import ingest_paths
from sandbox import Sandbox
from storage.chats import get_chat, list_subscriptions
from storage.db import open_db
from tests.support.crashkit import bot_env, kill, start_bot, wait_until
from tests.support.harness import BotHarness, FakeClock
from tests.support.posts import write_post

CATEGORY = ("新闻", "测试源", "要闻")
READ_LINK = re.compile(r"start=read_(\d+)")


def posted_ids(sb, channel) -> Counter:
    """How often each article arrived in the channel (its link to the bot carries the id)."""
    found: Counter = Counter()
    for m in sb.messages(channel):
        found.update(int(x) for x in READ_LINK.findall(m.get("source") or ""))
    return found


async def ingest(h: BotHarness, folder, titles: list[str]) -> set[int]:
    for title in titles:
        write_post(folder, title, CATEGORY)
    report = await ingest_paths(h.db, [folder])
    return set(report.new_ids)


@pytest.fixture
async def h(tmp_path):
    async with BotHarness.running(tmp_path) as harness:
        write_post(tmp_path / "seed", "种子文章", CATEGORY)  # the category exists before anyone subscribes
        await ingest_paths(harness.db, [tmp_path / "seed"])
        yield harness


async def setup_channel(h: BotHarness, **options):
    owner = h.sb.add_user("Owner", language_code="en")
    private = h.sb.private_chat(owner)
    await h.say(private, owner, "/start")
    channel = h.sb.channel("Daily News", username="daily_news", owner=owner, **options)
    notice = await h.sb.wait_for(private, 2)  # /start's reply, then the channel notice
    return owner, private, channel, notice[-1]


async def test_added_as_poster_the_channel_is_active_and_its_owner_is_told(h):
    owner, private, channel, notice = await setup_channel(h)
    assert "Daily News" in notice["text"] and "@daily_news" in notice["text"]
    stored = await get_chat(h.db, channel.id)
    assert stored is not None and stored.is_channel and stored.active and stored.username == "daily_news"
    (msg,) = await h.say(private, owner, "/channels")
    assert "Daily News" in msg["text"] and "@daily_news" in msg["text"]


async def test_subscribe_a_channel_from_a_private_chat_and_its_posts(h, tmp_path):
    owner, private, channel, _ = await setup_channel(h)
    (msg,) = await h.say(private, owner, "/subscribe @daily_news 要闻")
    assert "Daily News" in msg["text"] and "Subscribed" in msg["text"]
    (msg,) = await h.say(private, owner, f"/subscriptions {channel.id}")  # a numeric id works as well
    assert "新闻 › 测试源 › 要闻" in msg["text"]
    assert await list_subscriptions(h.db, private.id) == []  # the private chat itself is not subscribed
    ids = await ingest(h, tmp_path / "feed", ["频道新闻一", "频道新闻二"])
    await h.runtime.delivery.dispatch()
    await h.runtime.delivery.drain()
    assert set(posted_ids(h.sb, channel)) == ids
    for m in h.sb.messages(channel):
        assert "/read_" not in m["text"] and not m.get("reply_markup")  # no private-only commands or buttons
        assert "https://t.me/newsbot_test_bot?start=read_" in m["source"]
    (msg,) = await h.say(private, owner, "/digest @daily_news")
    assert "Nothing is pending" in msg["text"]


async def test_a_non_admin_cannot_manage_the_channel(h):
    _, _, channel, _ = await setup_channel(h)
    mallory = h.sb.add_user("Mallory", language_code="en")
    chat = h.sb.private_chat(mallory)
    h.sb.add_member(channel, mallory)  # a subscriber of the channel, not an admin
    for command in ("/subscribe @daily_news 要闻", "/unsubscribe @daily_news 要闻", "/subscriptions @daily_news",
                    "/settings @daily_news mode digest", "/digest @daily_news", f"/subscribe {channel.id} 要闻"):
        (msg,) = await h.say(chat, mallory, command)
        assert "⛔" in msg["text"], command
    (msg,) = await h.say(chat, mallory, "/channels")
    assert "You manage no channel" in msg["text"]
    assert await list_subscriptions(h.db, channel.id) == []
    stored = await get_chat(h.db, channel.id)
    assert stored is not None and stored.mode == "instant"
    (msg,) = await h.say(chat, mallory, "/subscribe @no_such_channel 要闻")
    assert "don't know the channel" in msg["text"]


async def test_an_admin_who_may_not_post_cannot_manage_it_and_a_demoted_owner_admin_loses_it(h):
    owner, private, channel, _ = await setup_channel(h)
    editor = h.sb.add_user("Editor", language_code="en")
    h.sb.set_admin(channel, editor, rights={"can_post_messages": False})
    (msg,) = await h.say(h.sb.private_chat(editor), editor, "/subscribe @daily_news 要闻")
    assert "⛔" in msg["text"]
    poster = h.sb.add_user("Poster", language_code="en")
    h.sb.set_admin(channel, poster)
    (msg,) = await h.say(h.sb.private_chat(poster), poster, "/subscribe @daily_news 要闻")
    assert "Subscribed" in msg["text"]
    h.sb.set_admin(channel, poster, admin=False)  # re-checked on every command
    (msg,) = await h.say(h.sb.private_chat(poster), poster, "/unsubscribe @daily_news 要闻")
    assert "⛔" in msg["text"]


async def test_demotion_stops_posting_drops_the_backlog_and_tells_the_admins(h, tmp_path):
    owner, private, channel, _ = await setup_channel(h)
    await h.say(private, owner, "/subscribe @daily_news 要闻")
    await ingest(h, tmp_path / "feed", ["撤权之前"])
    await h.runtime.delivery.dispatch()  # planned, not yet sent
    before = len(h.sb.messages(private))
    h.sb.promote_bot(channel, by=owner, can_post_messages=False)
    (notice,) = (await h.sb.wait_for(private, before + 1))[before:]
    assert "can no longer post" in notice["text"] and "Daily News" in notice["text"]
    stored = await get_chat(h.db, channel.id)
    assert stored is not None and not stored.active
    await h.runtime.delivery.drain()
    await ingest(h, tmp_path / "feed2", ["撤权之后"])
    await h.runtime.delivery.dispatch()
    await h.runtime.delivery.drain()
    assert h.sb.messages(channel) == []
    sends = await h.db.fetchall("SELECT state FROM sends WHERE chat_id = ?", (channel.id,))
    assert {r[0] for r in sends} <= {"failed"}
    (msg,) = await h.say(private, owner, "/subscribe @daily_news 要闻")
    assert "can't post" in msg["text"]
    # made a poster again: active, subscriptions kept, new articles posted
    h.sb.promote_bot(channel, by=owner, rights={"can_post_messages": True})  # (the sandbox keeps an old override)
    for _ in range(100):
        if (await get_chat(h.db, channel.id)).active:
            break
        await asyncio.sleep(0.05)
    assert (await get_chat(h.db, channel.id)).active
    ids = await ingest(h, tmp_path / "feed3", ["恢复之后"])
    await h.runtime.delivery.dispatch()
    await h.runtime.delivery.drain()
    assert set(posted_ids(h.sb, channel)) == ids


async def test_removed_from_the_channel_it_stops(h):
    owner, private, channel, _ = await setup_channel(h)
    before = len(h.sb.messages(private))
    h.sb.remove_bot(channel)
    (notice,) = (await h.sb.wait_for(private, before + 1))[before:]
    assert "I was removed" in notice["text"]
    assert not (await get_chat(h.db, channel.id)).active


async def test_quiet_hours_post_silently_unless_the_admin_chooses_to_hold(tmp_path):
    clock = FakeClock(datetime(2024, 5, 1, 16, 0, tzinfo=timezone.utc))  # 00:00 in Shanghai
    async with BotHarness.running(tmp_path, clock=clock) as h:
        write_post(tmp_path / "seed", "种子文章", CATEGORY)
        await ingest_paths(h.db, [tmp_path / "seed"])
        owner, private, channel, _ = await setup_channel(h)
        await h.say(private, owner, "/subscribe @daily_news 要闻")
        (msg,) = await h.say(private, owner, "/settings @daily_news quiet 23:00-07:00")
        assert "Saved" in msg["text"]
        first = await ingest(h, tmp_path / "a", ["夜里一条"])
        await h.runtime.delivery.dispatch()
        await h.runtime.delivery.drain()
        assert set(posted_ids(h.sb, channel)) == first
        sends = [r for r in h.sb.requests if r["method"] == "sendMessage" and r["chat_id"] == channel.id]
        assert sends and all(r["params"].get("disable_notification") in (True, "true") for r in sends)
        (msg,) = await h.say(private, owner, "/settings @daily_news quiet_posts hold")
        assert "Saved" in msg["text"]
        (msg,) = await h.say(private, owner, "/settings @daily_news")
        assert "held until they end" in msg["text"]
        second = await ingest(h, tmp_path / "b", ["夜里又一条"])
        await h.runtime.delivery.dispatch()
        await h.runtime.delivery.drain()
        assert set(posted_ids(h.sb, channel)) == first  # held
        clock.set(datetime(2024, 5, 1, 23, 30, tzinfo=timezone.utc))  # 07:30 in Shanghai
        await h.runtime.delivery.dispatch()
        await h.runtime.delivery.drain()
        assert set(posted_ids(h.sb, channel)) == first | second
        last = [r for r in h.sb.requests if r["method"] == "sendMessage" and r["chat_id"] == channel.id][-1]
        assert last["params"].get("disable_notification") in (None, False, "false")


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
async def test_a_channel_receives_each_article_once_across_kill_9(tmp_path, seed):
    rng = random.Random(seed)
    db_path = tmp_path / "bot.sqlite3"
    async with Sandbox.running(port=0) as sb:
        write_post(tmp_path / "seed", "种子文章", CATEGORY)
        async with open_db(db_path) as db:
            await ingest_paths(db, [tmp_path / "seed"])
        env = bot_env(sb, db_path)
        log = tmp_path / "bot.log"
        proc = start_bot(env, log)
        owner = sb.add_user("Owner", language_code="en")
        private = sb.private_chat(owner)
        sb.send_text(private, owner, "/start")
        await sb.wait_for(private, 1, timeout=30)
        channel = sb.channel("Daily News", username="daily_news", owner=owner)
        await sb.wait_for(private, 2, timeout=30)
        sb.send_text(private, owner, "/subscribe @daily_news 要闻")
        await sb.wait_for(private, 3, timeout=30)
        assert "Subscribed" in sb.messages(private)[-1]["text"]
        expected: set[int] = set()
        kills = 0
        for round_ in range(4):
            feed = tmp_path / f"feed{round_}"
            for n in range(6):
                write_post(feed, f"第{round_}轮第{n}条" + "很长的标题" * 30, CATEGORY,
                           paragraphs=tuple(f"第{round_}轮第{n}条第{k}段：" + "内容" * 150 + "。" for k in range(3)))
            async with open_db(db_path) as db:
                expected |= set((await ingest_paths(db, [feed])).new_ids)
            await asyncio.sleep(rng.uniform(0.5, 3.0))
            kill(proc)
            kills += 1
            proc = start_bot(env, log)
        try:
            ok = await wait_until(lambda: set(posted_ids(sb, channel)) >= expected, 120)
        finally:
            kill(proc)
        got = posted_ids(sb, channel)
        assert ok, (expected - set(got), log.read_text()[-3000:])
        assert set(got) == expected
        # one chat is served one message at a time: at most the message in flight at each kill repeats
        bodies = [m.get("source") for m in sb.messages(channel)]
        assert len(bodies) - len(set(bodies)) <= kills
        assert not sb.violations


async def test_admins_are_told_also_when_a_refused_post_stopped_the_channel_first(h, tmp_path):
    owner, private, channel, _ = await setup_channel(h)
    await h.say(private, owner, "/subscribe @daily_news 要闻")
    await ingest(h, tmp_path / "feed", ["被拒之前"])
    # Telegram refuses the post before the bot hears that it was demoted
    h.sb.fault("custom", chat=channel.id, status=400, description="Bad Request: need administrator rights in "
               "the channel chat")
    await h.runtime.delivery.dispatch()
    await h.runtime.delivery.drain()
    assert not (await get_chat(h.db, channel.id)).active
    before = len(h.sb.messages(private))
    h.sb.promote_bot(channel, by=owner, can_post_messages=False)
    (notice,) = (await h.sb.wait_for(private, before + 1))[before:]
    assert "can no longer post" in notice["text"]
    h.sb.demote_bot(channel, by=owner)  # no longer a poster before this change either: told once
    assert await h.quiet(private, 0.5) == []
