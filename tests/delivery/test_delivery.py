"""Delivery end to end: sandbox over HTTP, real SQLite, the real engine and its sender."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

import pytest

from bot.delivery.pacing import SendLimiter
from bot.feeds.ingest import ingest_paths
from storage.chats import get_chat, list_subscriptions
from tests.support.harness import BotHarness, FakeClock
from tests.support.posts import write_post

UTC = timezone.utc


def read_ids(messages) -> list[int]:
    return [int(x) for m in messages for x in re.findall(r"/read_(\d+)", m.get("text") or m.get("caption") or "")]


async def deliver(h: BotHarness) -> None:
    await h.runtime.delivery.dispatch()
    await h.runtime.delivery.drain(timeout=30)


async def seed_categories(h) -> None:
    """Categories exist once an article has been stored in them; subscriptions never backfill these."""
    seed = Path(h.runtime.settings.db_path).parent / "seed"
    if not seed.exists():
        write_post(seed, "分类种子文章：新闻", ("新闻", "种子", "要闻"))
        write_post(seed, "分类种子文章：财经", ("财经", "种子", "要闻"))
        await ingest_paths(h.db, [seed])


@pytest.fixture
async def h(tmp_path):
    async with BotHarness.running(tmp_path) as harness:
        yield harness


async def subscribed_user(h, name="U", lang="zh", category="新闻"):
    await seed_categories(h)
    u = h.sb.add_user(name, language_code=lang)
    chat = h.sb.private_chat(u)
    await h.say(chat, u, f"/subscribe {category}")
    return u, chat


async def test_instant_no_backfill_and_grouped_burst(h, tmp_path):
    feed = tmp_path / "feed"
    write_post(feed, "订阅之前就有的旧新闻标题")
    await ingest_paths(h.db, [feed])
    u, chat = await subscribed_user(h)
    before = len(h.sb.messages(chat))
    for n in range(200):
        write_post(feed, f"突发新闻第{n}条：海关发布最新数据")
    report = await ingest_paths(h.db, [feed])
    assert report.new == 200
    await deliver(h)
    got = h.sb.messages(chat)[before:]
    ids = read_ids(got)
    assert len(ids) == 200 and len(set(ids)) == 200  # everything, once
    assert len(got) <= 12  # a burst becomes a few digest messages
    assert "订阅之前" not in " ".join(m["text"] for m in got)  # no backfill
    for m in got:
        assert m["parse_mode"] == "HTML" and len(m["text"]) <= 4096
    await deliver(h)  # a second dispatch sends nothing again
    assert len(h.sb.messages(chat)) == before + len(got)


async def test_same_story_from_two_sources_is_delivered_once(h, tmp_path):
    u, chat = await subscribed_user(h, category="新闻")
    feed = tmp_path / "feed"
    write_post(feed, "同一个故事：两家媒体都报道了这条新闻", ("新闻", "源甲", "要闻"), paragraphs=("甲的写法。",))
    write_post(feed, "同一个故事：两家媒体都报道了这条新闻", ("新闻", "源乙", "快讯"), paragraphs=("乙的写法，不同。",))
    await ingest_paths(h.db, [feed])
    before = len(h.sb.messages(chat))
    await deliver(h)
    got = h.sb.messages(chat)[before:]
    assert len(read_ids(got)) == 1


async def test_watch_and_subscription_match_deliver_once(h, tmp_path):
    u, chat = await subscribed_user(h, category="新闻")
    from storage.watches import add_watch

    await add_watch(h.db, chat.id, "海关", now=datetime.now(UTC))
    await add_watch(h.db, chat.id, "数据", now=datetime.now(UTC))
    feed = tmp_path / "feed"
    write_post(feed, "海关总署发布一季度进出口数据")
    write_post(feed, "另一个分类里的海关新闻", ("财经", "源", "要闻"))
    await ingest_paths(h.db, [feed])
    before = len(h.sb.messages(chat))
    await deliver(h)
    got = h.sb.messages(chat)[before:]
    assert len(read_ids(got)) == 2  # one by subscription (+2 watches), one by watch only
    assert "🔔" in " ".join(m["text"] for m in got)


async def test_forum_topic_delivery_goes_into_the_topic(h, tmp_path):
    owner = h.sb.add_user("Owner", language_code="en")
    forum = h.sb.forum("News", topics=("Tech",), members=[owner], admins=[owner], owner=owner)
    tech = h.sb.topic_id(forum, "Tech")
    await seed_categories(h)
    await h.say(forum, owner, "/subscribe 新闻", thread_id=tech)
    write_post(tmp_path / "feed", "论坛话题里的推送")
    await ingest_paths(h.db, [tmp_path / "feed"])
    before = len(h.sb.messages(forum))
    await deliver(h)
    (msg,) = h.sb.messages(forum)[before:]
    assert msg["message_thread_id"] == tech


async def test_lead_image_single_item_is_a_photo_and_falls_back_to_text(h, tmp_path):
    u, chat = await subscribed_user(h)
    write_post(tmp_path / "feed", "带图片的新闻", image="https://img.example.org/lead.jpg")
    await ingest_paths(h.db, [tmp_path / "feed"])
    before = len(h.sb.messages(chat))
    await deliver(h)
    (msg,) = h.sb.messages(chat)[before:]
    assert msg["method"] == "sendPhoto" and "带图片的新闻" in msg["caption"]
    write_post(tmp_path / "feed2", "图片被拒绝的新闻", image="https://img.example.org/refused.jpg")
    await ingest_paths(h.db, [tmp_path / "feed2"])
    h.sb.fault("custom", chat=chat.id, methods=["sendPhoto"], status=400,
               description="Bad Request: wrong file identifier/HTTP URL specified")
    await deliver(h)
    msg = h.sb.messages(chat)[-1]
    assert msg["method"] == "sendMessage" and "图片被拒绝的新闻" in msg["text"]


async def test_digest_mode_time_zone_and_quiet_hours_across_midnight(tmp_path):
    clock = FakeClock(datetime(2024, 5, 1, 0, 0, tzinfo=UTC))  # 08:00 in Shanghai
    async with BotHarness.running(tmp_path, clock=clock) as h:
        u = h.sb.add_user("D", language_code="en")
        chat = h.sb.private_chat(u)
        await seed_categories(h)
        await h.say(chat, u, "/subscribe 新闻")
        await h.say(chat, u, "/settings mode digest")
        await h.say(chat, u, "/settings time 09:00,21:00")
        await h.say(chat, u, "/settings tz Europe/Berlin")
        base = len(h.sb.messages(chat))
        clock.set(datetime(2024, 5, 1, 6, 0, tzinfo=UTC))  # 08:00 Berlin
        write_post(tmp_path / "f", "第一条定时摘要新闻", ("新闻", "甲", "要闻"))
        write_post(tmp_path / "f", "第二条定时摘要新闻", ("新闻", "乙", "快讯"))
        await ingest_paths(h.db, [tmp_path / "f"])
        await deliver(h)
        assert len(h.sb.messages(chat)) == base  # not yet 09:00 in Berlin
        clock.set(datetime(2024, 5, 1, 7, 1, tzinfo=UTC))  # 09:01 Berlin
        await deliver(h)
        (digest,) = h.sb.messages(chat)[base:]
        assert "News digest" in digest["text"]
        assert "▌新闻 › 甲 › 要闻" in digest["text"] and "▌新闻 › 乙 › 快讯" in digest["text"]  # category headers
        assert "05-01 10:00" in digest["text"]  # shown in the chat's time zone
        assert len(read_ids([digest])) == 2

        # quiet hours across midnight in instant mode
        await h.say(chat, u, "/settings mode instant")
        await h.say(chat, u, "/settings quiet 23:00-07:00")
        base = len(h.sb.messages(chat))
        clock.set(datetime(2024, 5, 1, 21, 30, tzinfo=UTC))  # 23:30 Berlin
        write_post(tmp_path / "g", "深夜新闻一")
        await ingest_paths(h.db, [tmp_path / "g"])
        await deliver(h)
        clock.set(datetime(2024, 5, 2, 3, 0, tzinfo=UTC))  # 05:00 Berlin, still quiet
        write_post(tmp_path / "g2", "凌晨新闻二")
        await ingest_paths(h.db, [tmp_path / "g2"])
        await deliver(h)
        assert len(h.sb.messages(chat)) == base
        clock.set(datetime(2024, 5, 2, 5, 5, tzinfo=UTC))  # 07:05 Berlin: one digest with both
        await deliver(h)
        (msg,) = h.sb.messages(chat)[base:]
        assert "深夜新闻一" in msg["text"] and "凌晨新闻二" in msg["text"]


async def test_digest_command_sends_pending_now(tmp_path):
    clock = FakeClock(datetime(2024, 5, 1, 0, 0, tzinfo=UTC))
    async with BotHarness.running(tmp_path, clock=clock) as h:
        u = h.sb.add_user("D", language_code="zh")
        chat = h.sb.private_chat(u)
        await seed_categories(h)
        await h.say(chat, u, "/subscribe 新闻")
        await h.say(chat, u, "/settings quiet 00:00-23:59")
        write_post(tmp_path / "f", "等待中的新闻")
        await ingest_paths(h.db, [tmp_path / "f"])
        await deliver(h)
        (msg,) = await h.say(chat, u, "/digest")
        assert "等待中的新闻" in msg["text"]
        (msg,) = await h.say(chat, u, "/digest")
        assert "没有待推送" in msg["text"]


@pytest.mark.parametrize("kind", ["blocked", "chat_not_found"])
async def test_blocked_or_vanished_chat_is_deactivated_and_start_reactivates(h, tmp_path, kind):
    u, chat = await subscribed_user(h)
    h.sb.fault(kind, chat=chat.id, methods=["sendMessage"], times=None)
    write_post(tmp_path / "f", "发给已屏蔽用户的新闻")
    await ingest_paths(h.db, [tmp_path / "f"])
    await deliver(h)
    stored = await get_chat(h.db, chat.id)
    assert not stored.active and stored.inactive_reason
    assert len(await list_subscriptions(h.db, chat.id)) == 1  # settings kept
    h.sb.clear_faults()
    write_post(tmp_path / "f2", "屏蔽期间的新闻")
    await ingest_paths(h.db, [tmp_path / "f2"])
    await deliver(h)
    (msg,) = await h.say(chat, u, "/start")
    assert "恢复" in msg["text"]
    write_post(tmp_path / "f3", "恢复之后的新闻")
    await ingest_paths(h.db, [tmp_path / "f3"])
    before = len(h.sb.messages(chat))
    await deliver(h)
    texts = " ".join(m["text"] for m in h.sb.messages(chat)[before:])
    assert "恢复之后的新闻" in texts and "屏蔽期间" not in texts


async def test_group_migration_moves_chat_and_delivers_there(h, tmp_path):
    owner = h.sb.add_user("Owner", language_code="en")
    group = h.sb.group("Team", members=[owner], admins=[owner], owner=owner)
    await seed_categories(h)
    await h.say(group, owner, "/subscribe 新闻")
    new = h.sb.migrate(group)
    write_post(tmp_path / "f", "迁移之后的群推送")
    await ingest_paths(h.db, [tmp_path / "f"])
    await deliver(h)
    assert await get_chat(h.db, group.id) is None
    moved = await get_chat(h.db, new.id)
    assert moved is not None and moved.active
    assert len(await list_subscriptions(h.db, new.id)) == 1
    assert "迁移之后的群推送" in h.sb.messages(new)[-1]["text"]


async def test_429_5xx_and_timeouts_are_retried_without_loss(tmp_path):
    async with BotHarness.running(tmp_path, limiter=SendLimiter()) as h:  # Telegram's pacing: retry_after checked
        h.runtime.delivery.send_timeout = 0.5
        users = [await subscribed_user(h, name=f"U{i}") for i in range(6)]
        h.sb.fault("flood", chat=users[0][1].id, methods=["sendMessage"], retry_after=1, times=1)
        h.sb.fault("server_error", chat=users[1][1].id, methods=["sendMessage"], times=2)
        h.sb.fault("bad_gateway", chat=users[2][1].id, methods=["sendMessage"], times=1)
        h.sb.fault("slow", chat=users[3][1].id, methods=["sendMessage"], delay=1.0, deliver=True, times=1)
        h.sb.fault("slow", chat=users[4][1].id, methods=["sendMessage"], delay=1.0, deliver=False, times=1)
        before = {c.id: len(h.sb.messages(c)) for _, c in users}
        write_post(tmp_path / "f", "经历各种错误也要送达的新闻")
        await ingest_paths(h.db, [tmp_path / "f"])
        await deliver(h)
        for i, (_, c) in enumerate(users):
            got = h.sb.messages(c)[before[c.id]:]
            assert 1 <= len(got) <= (2 if i == 3 else 1), (i, got)
            assert all("经历各种错误" in m["text"] for m in got)
        assert not h.sb.violations  # retry_after was respected


async def test_unparseable_html_falls_back_to_plain_text(h, tmp_path):
    u, chat = await subscribed_user(h)
    h.sb.fault("custom", chat=chat.id, methods=["sendMessage"], status=400,
               description="Bad Request: can't parse entities: Unsupported start tag \"x\" at byte offset 0")
    write_post(tmp_path / "f", "格式出错也要送达")
    await ingest_paths(h.db, [tmp_path / "f"])
    await deliver(h)
    msg = h.sb.messages(chat)[-1]
    assert "格式出错也要送达" in msg["text"] and msg.get("parse_mode") in (None, "")


async def test_restart_resumes_planned_messages_exactly_once(tmp_path):
    async with BotHarness.running(tmp_path) as h:
        users = [await subscribed_user(h, name=f"U{i}") for i in range(5)]
        chats = [c for _, c in users]
        for n in range(3):
            write_post(tmp_path / "f", f"重启前计划好的新闻{n}")
        await ingest_paths(h.db, [tmp_path / "f"])
        await h.runtime.delivery.close()  # sender stopped: dispatch only plans
        await h.runtime.delivery.dispatch()
        before = {c.id: len(h.sb.messages(c)) for c in chats}
        sb = h.sb
        db_path = h.runtime.settings.db_path
    # a new bot process on the same database and the same sandbox
    from bot.app.config import load_settings
    from bot.app.runtime import BotRuntime
    from storage.db import open_db

    await sb.start()  # the same sandbox (its record of what each chat got) on a new port
    try:
        settings = load_settings({"TELEGRAM_BOT_TOKEN": sb.token, "TELEGRAM_API_URL": sb.base_url,
                                  "NEWSBOT_DB": str(db_path)}, dotenv=None)
        async with open_db(db_path) as db:
            runtime = BotRuntime(settings, db=db, jobs=False)
            await runtime.start(polling_timeout=1)
            try:
                await runtime.delivery.drain(timeout=30)
            finally:
                await runtime.stop()
        for c in chats:
            got = sb.messages(c)[before[c.id]:]
            assert sorted(read_ids(got)) == sorted(set(read_ids(got))) and len(read_ids(got)) == 3
    finally:
        await sb.stop()
