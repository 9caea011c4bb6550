"""Admin commands through the sandbox: as admin they work, as anyone else nothing changes."""
from __future__ import annotations

import pytest

from bot.feeds.manage import list_feeds
from tests.support.harness import BotHarness
from tests.support.posts import write_post

ADMIN = 4242


@pytest.fixture
async def h(tmp_path):
    # Folders may be added from a chat only below NEWSBOT_FOLDER_ROOTS.
    async with BotHarness.running(tmp_path, admins=(ADMIN,), env={"NEWSBOT_FOLDER_ROOTS": str(tmp_path)}) as harness:
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
    ("/no/such/folder", "only below NEWSBOT_FOLDER_ROOTS"),
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
