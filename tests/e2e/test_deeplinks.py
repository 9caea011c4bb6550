"""Subscribe by link, through the sandbox: /share prints t.me/<bot>?start=sub_<token>, opening it asks to
confirm and subscribes; read_<id> opens an article; payloads stay within Telegram's limit for any name."""
from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.categories import Node, build_tree, by_token
from bot.core.deeplinks import PAYLOAD_CHARS, ReadLink, SubscribeLink, parse_payload, subscribe_payload
from bot.feeds.ingest import ingest_paths
from storage.chats import list_subscriptions
from tests.support.harness import BotHarness, buttons
from tests.support.posts import write_post

DEEP = ("金融", "新浪财经", "新浪财经－国內－宏观经济政策与市场动态深度观察" * 3)
LINK = re.compile(r"https://t\.me/newsbot_test_bot\?start=([A-Za-z0-9_-]+)")


@pytest.fixture
async def h(tmp_path):
    async with BotHarness.running(tmp_path) as harness:
        write_post(tmp_path / "posts", "央行发布季度报告", DEEP)
        write_post(tmp_path / "posts", "A city switches to batteries", ("Tech", "Example", "Latest"))
        await ingest_paths(harness.db, [tmp_path / "posts"])
        yield harness


async def test_share_then_open_the_link_and_confirm(h):
    ann = h.sb.add_user("Ann", language_code="zh-hans")
    (msg,) = await h.say(h.sb.private_chat(ann), ann, "/share 宏观经济政策与市场动态深度观察")
    assert msg["text"].startswith("❓")  # not a name: suggestions
    (msg,) = await h.say(h.sb.private_chat(ann), ann, "/share 新浪财经")
    (payload,) = LINK.findall(msg["text"])
    assert len(payload) <= 64 and PAYLOAD_CHARS.fullmatch(payload)
    bob = h.sb.add_user("Bob", language_code="en")
    chat = h.sb.private_chat(bob)
    (confirm,) = await h.say(chat, bob, f"/start {payload}")  # what Telegram sends when Bob opens the link
    assert "Subscribe to" in confirm["text"] and "新浪财经" in confirm["text"]
    assert await list_subscriptions(h.db, chat.id) == []  # nothing before the confirmation
    ((label, data),) = buttons(confirm)
    await h.press(chat, bob, confirm["message_id"], data)
    (sub,) = await list_subscriptions(h.db, chat.id)
    assert sub.categories == ("金融", "新浪财经")
    assert "Subscribed" in h.sb.messages(chat)[-1]["text"]  # the confirmation became the receipt


async def test_share_button_under_subscriptions(h):
    ann = h.sb.add_user("Ann", language_code="en")
    chat = h.sb.private_chat(ann)
    await h.say(chat, ann, f"/subscribe {DEEP[-1]}")
    (msg,) = await h.say(chat, ann, "/subscriptions")
    ((label, data),) = buttons(msg)
    assert label.startswith("🔗") and data.startswith("share:")
    before = len(h.sb.messages(chat))
    await h.press(chat, ann, msg["message_id"], data)
    (link,) = (await h.sb.wait_for(chat, before + 1))[before:]
    (payload,) = LINK.findall(link["text"])
    assert payload == subscribe_payload(DEEP)


async def test_read_link_opens_an_article_and_forged_payloads_are_a_plain_start(h):
    ann = h.sb.add_user("Ann", language_code="en")
    chat = h.sb.private_chat(ann)
    (row,) = await h.db.fetchall("SELECT id FROM articles WHERE title = ?", ("央行发布季度报告",))
    (msg,) = await h.say(chat, ann, f"/start read_{row[0]}")
    assert "央行发布季度报告" in msg["text"]
    (msg,) = await h.say(chat, ann, "/start read_999999")
    assert "No article with id 999999" in msg["text"]
    for forged in ("sub_zzzzzzzz", "sub_00000000", "x" * 64, "read_"):
        (msg,) = await h.say(chat, ann, f"/start {forged}")
        assert "News bot" in msg["text"] or "no longer exists" in msg["text"], forged


@given(st.lists(st.text(min_size=1, max_size=80), min_size=1, max_size=6).map(tuple))
def test_any_category_path_gives_a_valid_payload_that_resolves_to_it(path):
    payload = subscribe_payload(path)
    assert len(payload) <= 64 and PAYLOAD_CHARS.fullmatch(payload)
    link = parse_payload(payload)
    assert isinstance(link, SubscribeLink)
    tree = build_tree([(path, 1)])
    assert by_token(tree, link.token) == Node(path, 1)
    assert parse_payload("read_42") == ReadLink(42)
