"""Admin commands through the sandbox: as admin they work, as anyone else nothing changes."""
from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bench.stall import hostile_feed
from bot.feeds.manage import list_feeds
from tests.support.harness import BotHarness
from tests.support.posts import write_post

ADMIN = 4242


@pytest.fixture
async def h(tmp_path):
    # Folders may be added from a chat only below NEWSBOT_FEED_ROOTS.
    async with BotHarness.running(tmp_path, admins=(ADMIN,), env={"NEWSBOT_FEED_ROOTS": str(tmp_path)}) as harness:
        yield harness


async def test_feed_lifecycle_as_admin(h, tmp_path):
    admin = h.sb.add_user("Root", user_id=ADMIN, language_code="en")
    chat = h.sb.private_chat(admin)
    folder = tmp_path / "posts"
    write_post(folder, "管理员添加的文件夹里的文章")
    (msg,) = await h.say(chat, admin, f"/addfeed {folder} 本地/测试")
    assert "added" in msg["text"] and "1 items" in msg["text"] and str(folder.resolve()) in msg["text"]
    (feed,) = await list_feeds(h.db)
    assert feed.category == ("本地", "测试")
    (msg,) = await h.say(chat, admin, f"/addfeed {folder}")
    assert "already exists" in msg["text"]
    (msg,) = await h.say(chat, admin, "/feeds")
    assert f"#{feed.id}" in msg["text"] and "folder" in msg["text"]
    (msg,) = await h.say(chat, admin, f"/fetchnow {feed.id}")
    assert "1 new" in msg["text"]
    (msg,) = await h.say(chat, admin, f"/pausefeed {feed.id}")
    assert "paused" in msg["text"] and (await list_feeds(h.db))[0].paused
    (msg,) = await h.say(chat, admin, f"/resumefeed {feed.id}")
    assert not (await list_feeds(h.db))[0].paused
    (msg,) = await h.say(chat, admin, "/stats")
    assert "articles 1" in msg["text"] and "feeds 1" in msg["text"]
    assert h.sb.token not in msg["text"] and h.sb.token.split(":")[1] not in msg["text"]
    (msg,) = await h.say(chat, admin, "/export")
    assert msg["method"] == "sendDocument"
    (msg,) = await h.say(chat, admin, f"/removefeed {feed.id}")
    assert "removed" in msg["text"] and await list_feeds(h.db) == []


@pytest.mark.parametrize("arg,expect", [
    ("file:///etc/passwd", "Only http"), ("ftp://example.org/feed", "Only http"), ("{tmp}/no/such/folder", "No such folder"),
    ("/no/such/folder", "only below NEWSBOT_FEED_ROOTS"),
    ("", "Usage"), ("javascript:alert(1)", "Only http"),
])
async def test_addfeed_validates(h, tmp_path, arg, expect):
    admin = h.sb.add_user("Root", user_id=ADMIN, language_code="en")
    (msg,) = await h.say(h.sb.private_chat(admin), admin, f"/addfeed {arg.format(tmp=tmp_path)}".strip())
    assert expect in msg["text"]
    assert await list_feeds(h.db) == []


@pytest.mark.parametrize("command", ["/addfeed {folder}", "/removefeed 1", "/feeds", "/pausefeed 1", "/resumefeed 1",
                                     "/fetchnow", "/stats", "/export", "/import"])
async def test_non_admins_change_nothing(h, tmp_path, command):
    folder = tmp_path / "p"
    write_post(folder, "不应被添加的文章")
    from bot.feeds.manage import add_feed

    await add_feed(h.db, str(tmp_path / "existing-feed-folder"), validate=False)
    before = await list_feeds(h.db)
    mallory = h.sb.add_user("Mallory", language_code="en")
    owner = h.sb.add_user("Owner", language_code="en")
    group = h.sb.group("G", members=[mallory, owner], admins=[mallory, owner], owner=owner)
    for chat in (h.sb.private_chat(mallory), group):  # even a group admin is not a bot admin
        (msg,) = await h.say(chat, mallory, command.format(folder=folder))
        assert "admins only" in msg["text"]
    after = await list_feeds(h.db)
    assert [(f.id, f.paused, f.location) for f in after] == [(f.id, f.paused, f.location) for f in before]


async def test_opml_import_as_a_document_and_export_round_trip(h, tmp_path):
    admin = h.sb.add_user("Root", user_id=ADMIN, language_code="en")
    chat = h.sb.private_chat(admin)
    opml = (
        '<?xml version="1.0"?><opml version="2.0"><head><title>t</title></head><body>'
        '<outline text="Example" type="rss" xmlUrl="https://example.org/feed.xml"/>'
        '<outline text="Bad" type="rss" xmlUrl="file:///etc/passwd"/>'
        '</body></opml>'
    )
    before = len(h.sb.messages(chat))
    h.sb.send_document(chat, admin, "feeds.opml", opml, caption="/import")
    (msg,) = await h.sb.wait_for(chat, before + 1, timeout=10)
    msg = h.sb.messages(chat)[-1]
    assert "1 added" in msg["text"] and "1 invalid" in msg["text"]
    assert [f.location for f in await list_feeds(h.db)] == ["https://example.org/feed.xml"]
    (exported,) = await h.say(chat, admin, "/export")
    before = len(h.sb.messages(chat))
    h.sb.send_text(chat, admin, "/import", reply_to=exported["message_id"])
    await h.sb.wait_for(chat, before + 1, timeout=10)
    assert "1 skipped" in h.sb.messages(chat)[-1]["text"]
    hostile = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><opml><body/></opml>'
    before = len(h.sb.messages(chat))
    h.sb.send_document(chat, admin, "evil.opml", hostile, caption="/import")
    await h.sb.wait_for(chat, before + 1, timeout=10)
    assert "Invalid OPML" in h.sb.messages(chat)[-1]["text"]
    assert len(await list_feeds(h.db)) == 1


async def test_many_feeds_are_listed_and_fetched_in_several_valid_messages_escaped_once(h, tmp_path):
    from bot.feeds.manage import add_feed

    admin = h.sb.add_user("Root", user_id=ADMIN, language_code="en")
    chat = h.sb.private_chat(admin)
    for n in range(60):  # e.g. after an OPML import: more lines than one message holds
        await add_feed(h.db, str(tmp_path / f"gone & <feed> {n:02d} {'长名' * 20}"), validate=False)
    for command in ("/feeds", "/fetchnow"):
        before = len(h.sb.messages(chat))
        h.sb.send_text(chat, admin, command)
        await h.sb.wait_for(chat, before + 2, timeout=20)
        await h.quiet(chat, 1.0)
        msgs = h.sb.messages(chat)[before:]
        assert len(msgs) >= 2, command  # the sandbox, like Telegram, refuses a text over 4096 UTF-16 units
        text = "\n".join(m["text"] for m in msgs)
        assert all(f"gone & <feed> {n:02d}" in text for n in range(60)), command  # every feed, none cut off
        assert "&amp;" not in text and "&lt;" not in text, command  # escaped once: the user sees "&" and "<"


# ---------------------------------------------------------------- hostile feeds, caps, credentials
@asynccontextmanager
async def serving(docs: dict[str, bytes]):
    """A local feed server on loopback (the bot reaches it because the test sets NEWSBOT_ALLOW_PRIVATE_NETWORKS)."""
    async def answer(request: web.Request) -> web.Response:
        return web.Response(body=docs[request.match_info["name"]], content_type="application/rss+xml")

    app = web.Application()
    app.router.add_get("/{name}", answer)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield lambda name: str(server.make_url(f"/{name}"))
    finally:
        await server.close()


async def test_help_is_answered_while_a_hostile_feed_is_polled(tmp_path):
    """Items of every adversarial family (1 MB ones too) are parsed and cleaned in the worker processes:
    another user's /help is answered while /fetchnow polls them."""
    env = {"NEWSBOT_ALLOW_PRIVATE_NETWORKS": "1"}
    async with serving({"hostile": hostile_feed(64 * 1024, 1024 * 1024)}) as url, \
            BotHarness.running(tmp_path, admins=(ADMIN,), env=env) as h:
        admin = h.sb.add_user("Root", user_id=ADMIN, language_code="en")
        chat = h.sb.private_chat(admin)
        (msg,) = await h.say(chat, admin, f"/addfeed {url('hostile')}", timeout=60)
        assert "added" in msg["text"], msg["text"]
        ann = h.sb.add_user("Ann", language_code="en")
        ann_chat = h.sb.private_chat(ann)
        before = len(h.sb.messages(chat))
        h.sb.send_text(chat, admin, "/fetchnow")
        await asyncio.sleep(0.3)  # the poll is under way
        (help_reply,) = await h.say(ann_chat, ann, "/help", timeout=5)
        assert help_reply["text"]
        await h.sb.wait_for(chat, before + 1, timeout=120)
        assert "Fetched" in h.sb.messages(chat)[-1]["text"] or "#1" in h.sb.messages(chat)[-1]["text"]


async def test_caps_are_shown_and_credentials_never_are(tmp_path):
    from tests.feeds.test_rss import many_items

    env = {"NEWSBOT_ALLOW_PRIVATE_NETWORKS": "127.0.0.1/32", "NEWSBOT_MAX_ITEMS_PER_FETCH": "5",
           "NEWSBOT_MAX_NEW_PER_FEED_DAY": "3"}
    async with serving({"many": many_items(20)}) as url, \
            BotHarness.running(tmp_path, admins=(ADMIN,), env=env) as h:
        admin = h.sb.add_user("Root", user_id=ADMIN, language_code="en")
        chat = h.sb.private_chat(admin)
        (msg,) = await h.say(chat, admin, f"/addfeed {url('many')}", timeout=30)
        assert "added" in msg["text"]
        # A row from before credentials were refused (or a hand-edited database).
        await h.db.write("INSERT INTO feeds (name, kind, location, created_at, paused) VALUES "
                         "('private', 'rss', 'https://ann:s3cret@feeds.example.com/x.xml', 0, 1)")
        (msg,) = await h.say(chat, admin, "/fetchnow 1", timeout=60)
        assert "3 new" in msg["text"] and "capped: 15 older items not looked at, 2 new items left" in msg["text"]
        replies = await h.say(chat, admin, "/feeds")
        text = "\n".join(m["text"] for m in replies)
        assert "capped in the last day: 15 older items not looked at, 2 new items left for later" in text
        assert "https://feeds.example.com/x.xml" in text and "s3cret" not in text and "ann:" not in text
        (exported,) = await h.say(chat, admin, "/export")
        data = next(f["data"] for f in h.sb.world.files.values()
                    if f["file_id"] == exported["document"]["file_id"])
        assert b"feeds.example.com/x.xml" in data and b"s3cret" not in data
        (msg,) = await h.say(chat, admin, "/fetchnow 2", timeout=30)
        assert "s3cret" not in msg["text"]
