"""Refused photos and lost forum topics, end to end: what a reader sees when Telegram says no.

A photo Telegram can't take (any 400 about the image, a rights error for photos, a timeout) arrives
as a text message, exactly once; a deleted or closed topic loses only its own backlog, never the
group. The plain-text fallback fits Telegram's UTF-16 limit and is never empty.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from bot.core.render import MAX_MESSAGE_CHARS, tg_len
from bot.delivery.engine import refusal
from bot.feeds.ingest import ingest_paths
from storage import outbox
from storage.chats import get_chat, list_subscriptions
from storage.watches import add_watch, list_watches
from tests.delivery.test_delivery import (
    deliver,
    read_ids,
    seed_categories,
    subscribed_user,
)
from tests.support.harness import BotHarness
from tests.support.posts import write_post

UTC = timezone.utc
IMAGE = "https://img.example.org/lead.jpg"

# How Telegram words "I couldn't use that image" (none of them says "photo", "file", "url" or "image").
PHOTO_REFUSALS = [
    "Bad Request: wrong type of the web page content",
    "Bad Request: WEBPAGE_MEDIA_EMPTY",
    "Bad Request: WEBPAGE_CURL_FAILED",
    "Bad Request: failed to get HTTP URL content",
    "Bad Request: IMAGE_PROCESS_FAILED",
    "Bad Request: PHOTO_INVALID_DIMENSIONS",
    "Bad Request: message caption is too long",
    "Bad Request: wrong file identifier/HTTP URL specified",
    "Bad Request: not enough rights to send photos to the chat",
]


@pytest.fixture
async def h(tmp_path):
    async with BotHarness.running(tmp_path) as harness:
        yield harness


def requests_to(h: BotHarness, chat, method: str, thread: int | None = None, since: int = 0) -> list[dict]:
    """Every call of `method` the bot made to `chat` (and topic), answered or refused, from request `since` on."""
    out = []
    for r in h.sb.requests[since:]:
        # r["chat_id"] is set only for calls that passed validation; the parameter is always there.
        if r["method"] != method or str(r["params"].get("chat_id")) != str(chat.id):
            continue
        if thread is not None and str(r["params"].get("message_thread_id")) != str(thread):
            continue
        out.append(r)
    return out


def param(request: dict, name: str):
    value = request["params"].get(name)
    return json.loads(value) if isinstance(value, str) and value[:1] in "{[" else value


async def photo_story(h: BotHarness, folder, title: str, categories=("新闻", "测试源", "要闻")) -> None:
    write_post(folder, title, categories, image=IMAGE)
    await ingest_paths(h.db, [folder])


async def send_states(h: BotHarness, chat_id: int) -> list[str]:
    return [r[0] for r in await h.db.fetchall("SELECT state FROM sends WHERE chat_id = ? ORDER BY id", (chat_id,))]


# ---------------------------------------------------------------- refused photos


@pytest.mark.parametrize("description", PHOTO_REFUSALS)
async def test_refused_photo_arrives_as_text_exactly_once(h, tmp_path, description):
    u, chat = await subscribed_user(h)
    h.sb.fault("custom", chat=chat.id, methods=["sendPhoto"], status=400, description=description)
    before = len(h.sb.messages(chat))
    await photo_story(h, tmp_path / "feed", "图片发不出去的新闻")
    await deliver(h)
    (msg,) = h.sb.messages(chat)[before:]
    assert msg["method"] == "sendMessage" and "图片发不出去的新闻" in msg["text"], msg
    assert msg["parse_mode"] == "HTML" and len(read_ids([msg])) == 1
    assert len(requests_to(h, chat, "sendPhoto")) == 1  # the photo was tried first
    text_call = [r for r in requests_to(h, chat, "sendMessage") if r["status"] == 200][-1]
    assert param(text_call, "link_preview_options") == {"is_disabled": True}  # as for any text send
    assert (await get_chat(h.db, chat.id)).active
    await deliver(h)
    assert len(h.sb.messages(chat)) == before + 1  # and nothing more later


async def test_refused_photo_whose_html_is_refused_too_ends_as_plain_text(h, tmp_path):
    u, chat = await subscribed_user(h)
    h.sb.fault("custom", chat=chat.id, methods=["sendPhoto"], status=400,
               description="Bad Request: WEBPAGE_CURL_FAILED")
    h.sb.fault("custom", chat=chat.id, methods=["sendMessage"], status=400,
               description="Bad Request: can't parse entities: Unsupported start tag \"x\" at byte offset 0")
    before = len(h.sb.messages(chat))
    await photo_story(h, tmp_path / "feed", "两次被拒也要送达")
    await deliver(h)
    (msg,) = h.sb.messages(chat)[before:]
    assert msg["method"] == "sendMessage" and "两次被拒也要送达" in msg["text"]
    assert msg.get("parse_mode") in (None, "")


async def test_photo_rights_in_a_group_fall_back_to_text_and_keep_the_chat(h, tmp_path):
    owner = h.sb.add_user("Owner", language_code="en")
    group = h.sb.group("No photos here", members=[owner], admins=[owner], owner=owner)
    await seed_categories(h)
    await h.say(group, owner, "/subscribe 新闻")
    h.sb.fault("no_photo_rights", chat=group.id, methods=["sendPhoto"], times=None)
    before = len(h.sb.messages(group))
    await photo_story(h, tmp_path / "f1", "群里不许发图的新闻")
    await deliver(h)
    (msg,) = h.sb.messages(group)[before:]
    assert msg["method"] == "sendMessage" and "群里不许发图的新闻" in msg["text"]
    stored = await get_chat(h.db, group.id)
    assert stored.active and not stored.inactive_reason
    assert len(await list_subscriptions(h.db, group.id)) == 1

    await photo_story(h, tmp_path / "f2", "第二条也照样送达")  # the next one too
    await deliver(h)
    assert "第二条也照样送达" in h.sb.messages(group)[-1]["text"]

    # No right to send text at all is still the end of the chat, as before.
    h.sb.fault("custom", chat=group.id, methods=["sendMessage"], status=400, times=None,
               description="Bad Request: not enough rights to send text messages to the chat")
    await photo_story(h, tmp_path / "f3", "连文字都不许发")
    await deliver(h)
    assert not (await get_chat(h.db, group.id)).active


@pytest.mark.parametrize("deliver_late", [False, True])
async def test_photo_timeout_is_retried_once_as_text(tmp_path, deliver_late):
    async with BotHarness.running(tmp_path) as h:
        h.runtime.delivery.send_timeout = 0.5
        u, chat = await subscribed_user(h)
        # A slow image host: Telegram answers past our timeout (and maybe posts the photo after all).
        h.sb.fault("slow", chat=chat.id, methods=["sendPhoto"], delay=1.2, deliver=deliver_late, times=None)
        before = len(h.sb.messages(chat))
        await photo_story(h, tmp_path / "feed", "图床太慢的新闻")
        await deliver(h)
        got = h.sb.messages(chat)[before:]
        assert [m["method"] for m in got] == (["sendPhoto", "sendMessage"] if deliver_late else ["sendMessage"])
        assert "图床太慢的新闻" in got[-1]["text"]
        assert len(requests_to(h, chat, "sendPhoto")) == 1  # the one retry was the text
        assert await send_states(h, chat.id) == ["sent"]


async def test_photo_and_text_both_timing_out_stop_after_two_tries(tmp_path):
    async with BotHarness.running(tmp_path) as h:
        h.runtime.delivery.send_timeout = 0.3
        u, chat = await subscribed_user(h)
        h.sb.fault("slow", chat=chat.id, methods=["sendPhoto", "sendMessage"], delay=1.0, times=None)
        sends_before = len(requests_to(h, chat, "sendMessage"))
        await photo_story(h, tmp_path / "feed", "一直超时的新闻")
        await deliver(h)
        assert len(requests_to(h, chat, "sendPhoto")) == 1
        assert len(requests_to(h, chat, "sendMessage")) == sends_before + 1
        assert await send_states(h, chat.id) == ["failed"]
        assert (await get_chat(h.db, chat.id)).active


# ---------------------------------------------------------------- forum topics


async def forum_with_two_topics(h: BotHarness):
    owner = h.sb.add_user("Owner", language_code="en")
    forum = h.sb.forum("News", topics=("Tech", "Money"), members=[owner], admins=[owner], owner=owner)
    tech, money = h.sb.topic_id(forum, "Tech"), h.sb.topic_id(forum, "Money")
    await seed_categories(h)
    # Different categories: one story goes to one topic of a chat only.
    await h.say(forum, owner, "/subscribe 新闻", thread_id=tech)
    await h.say(forum, owner, "/subscribe 财经", thread_id=money)
    await add_watch(h.db, forum.id, "突发", thread_id=tech, now=datetime.now(UTC))
    return forum, tech, money


async def two_stories(h: BotHarness, folder, label: str, photo: bool = False) -> None:
    write_post(folder, f"{label}：科技话题的新闻", ("新闻", "源", "要闻"), image=IMAGE if photo else None)
    write_post(folder, f"{label}：财经话题的新闻", ("财经", "源", "要闻"))
    await ingest_paths(h.db, [folder])


def in_topic(h: BotHarness, forum, thread: int, since: int = 0) -> list[dict]:
    return [m for m in h.sb.messages(forum)[since:] if m.get("message_thread_id") == thread]


@pytest.mark.parametrize("kind", ["topic_deleted", "topic_closed", "TOPIC_DELETED"])
async def test_lost_topic_leaves_the_other_topics_and_the_chat_alone(h, tmp_path, kind):
    forum, tech, money = await forum_with_two_topics(h)
    if kind == "TOPIC_DELETED":
        h.sb.fault("custom", chat=forum.id, thread=tech, methods=["sendMessage", "sendPhoto"], times=None,
                   description="Bad Request: TOPIC_DELETED")
    else:
        h.sb.fault(kind, chat=forum.id, thread=tech, methods=["sendMessage", "sendPhoto"], times=None)
    gone_for_good = kind != "topic_closed"

    start, asked = len(h.sb.messages(forum)), len(h.sb.requests)
    await two_stories(h, tmp_path / "r1", "第一轮", photo=True)
    await deliver(h)
    assert not in_topic(h, forum, tech, start)
    (msg,) = in_topic(h, forum, money, start)
    assert "第一轮：财经话题的新闻" in msg["text"]
    stored = await get_chat(h.db, forum.id)
    assert stored.active and not stored.inactive_reason
    assert len(requests_to(h, forum, "sendPhoto", tech, asked)) == 1  # not retried as text into a lost topic
    assert not requests_to(h, forum, "sendMessage", tech, asked)
    # The deleted topic's subscriptions and watches go; a closed one keeps them for when it reopens.
    assert len(await list_subscriptions(h.db, forum.id, tech)) == (0 if gone_for_good else 1)
    assert len(await list_watches(h.db, forum.id)) == (0 if gone_for_good else 1)
    assert len(await list_subscriptions(h.db, forum.id, money)) == 1

    start = len(h.sb.messages(forum))
    await two_stories(h, tmp_path / "r2", "第二轮")
    await deliver(h)
    (msg,) = in_topic(h, forum, money, start)
    assert "第二轮：财经话题的新闻" in msg["text"]
    assert not in_topic(h, forum, tech, start)

    if not gone_for_good:  # the topic is reopened: news flows there again
        h.sb.clear_faults()
        start = len(h.sb.messages(forum))
        await two_stories(h, tmp_path / "r3", "第三轮")
        await deliver(h)
        assert "第三轮：科技话题的新闻" in in_topic(h, forum, tech, start)[0]["text"]


async def test_lost_topic_is_asked_once_per_turn_however_many_messages_wait(h, tmp_path):
    forum, tech, money = await forum_with_two_topics(h)
    h.sb.fault("topic_deleted", chat=forum.id, thread=tech, times=None)
    now = datetime.now(UTC)
    await outbox.plan_sends(h.db, forum.id, [
        outbox.PlannedMessage(tech, "<b>科技一</b>", (), ()),
        outbox.PlannedMessage(tech, "<b>科技二</b>", (), ()),
        outbox.PlannedMessage(money, "<b>财经一</b>", (), ()),
        outbox.PlannedMessage(tech, "<b>科技三</b>", (), ()),
    ], now)
    start, asked = len(h.sb.messages(forum)), len(h.sb.requests)
    h.runtime.delivery.wake()
    await h.runtime.delivery.drain(timeout=30)
    assert [m["text"] for m in h.sb.messages(forum)[start:]] == ["财经一"]
    assert len(requests_to(h, forum, "sendMessage", tech, asked)) == 1
    assert await send_states(h, forum.id) == ["failed", "failed", "sent", "failed"]
    assert (await get_chat(h.db, forum.id)).active


# ---------------------------------------------------------------- the plain-text fallback


async def test_plain_text_fallback_fits_telegrams_utf16_limit(h):
    u, chat = await subscribed_user(h)
    body = "<b>" + "📰" * 5000 + "</b>"  # refused as too long; its plain text is 10,000 UTF-16 units
    await outbox.plan_sends(h.db, chat.id, [outbox.PlannedMessage(0, body, (), ())], datetime.now(UTC))
    before = len(h.sb.messages(chat))
    h.runtime.delivery.wake()
    await h.runtime.delivery.drain(timeout=30)
    (msg,) = h.sb.messages(chat)[before:]
    assert msg.get("parse_mode") in (None, "")
    assert tg_len(msg["text"]) == MAX_MESSAGE_CHARS and set(msg["text"]) == {"📰"}


async def test_empty_text_fallback_is_never_sent(h):
    u, chat = await subscribed_user(h)
    now = datetime.now(UTC)
    h.sb.fault("custom", chat=chat.id, methods=["sendPhoto"], status=400,
               description="Bad Request: IMAGE_PROCESS_FAILED")
    await outbox.plan_sends(h.db, chat.id, [
        outbox.PlannedMessage(0, "<b> </b>", (), (), photo_url=IMAGE),   # a photo with a blank caption
        outbox.PlannedMessage(0, "<x> \n </x>", (), ()),                 # HTML refused, nothing left as text
        outbox.PlannedMessage(0, "<b>之后的消息照常</b>", (), ()),
    ], now)
    sent_before = len(requests_to(h, chat, "sendMessage"))
    before = len(h.sb.messages(chat))
    h.runtime.delivery.wake()
    await h.runtime.delivery.drain(timeout=30)
    assert [m["text"] for m in h.sb.messages(chat)[before:]] == ["之后的消息照常"]
    texts = [param(r, "text") for r in requests_to(h, chat, "sendMessage")[sent_before:]]
    assert texts == ["<x> \n </x>", "<b>之后的消息照常</b>"]  # no request with an empty text
    assert await send_states(h, chat.id) == ["failed", "failed", "sent"]


# ---------------------------------------------------------------- what a 400 means


@pytest.mark.parametrize("description, photo, expected", [
    *[(d, True, "photo") for d in PHOTO_REFUSALS],
    ("Bad Request: can't parse entities: Unsupported start tag", True, "photo"),
    ("Bad Request: chat not found", True, "chat"),
    ("Bad Request: not enough rights to send text messages to the chat", True, "chat"),
    ("Bad Request: not enough rights to send text messages to the chat", False, "chat"),
    ("Bad Request: have no rights to send a message", False, "chat"),
    ("Bad Request: message thread not found", True, "thread_gone"),
    ("Bad Request: TOPIC_DELETED", False, "thread_gone"),
    ("Bad Request: TOPIC_CLOSED", True, "thread_closed"),
    ("Bad Request: can't parse entities: Unsupported start tag", False, "html"),
    ("Bad Request: message is too long", False, "html"),
    ("Bad Request: message text is empty", False, "message"),
    ("Bad Request: wrong file identifier/HTTP URL specified", False, "message"),
])
def test_what_a_bad_request_means(description, photo, expected):
    assert refusal(description, photo=photo, as_html=True) == expected


def test_plain_text_is_not_refused_twice():
    assert refusal("Bad Request: message is too long", photo=False, as_html=False) == "message"
