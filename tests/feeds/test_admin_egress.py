"""What an admin sees through the sandbox when a feed would reach inside (egress policy, folder roots, OPML)."""
from __future__ import annotations

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.feeds.manage import list_feeds
from tests.support.harness import BotHarness
from tests.support.paths import FIXTURES
from tests.support.posts import write_post

ADMIN = 4242


@pytest.fixture
async def feed_server():
    app = web.Application()
    hits: list[str] = []

    async def rss(request: web.Request) -> web.Response:
        hits.append(request.path)
        return web.Response(body=(FIXTURES / "feeds" / "rss2.xml").read_bytes(), content_type="application/rss+xml")

    app.router.add_get("/rss", rss)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    server.hits = hits
    try:
        yield server
    finally:
        await server.close()


async def admin_chat(h, lang: str = "en"):
    admin = h.sb.add_user("Root", user_id=ADMIN, language_code=lang)
    return admin, h.sb.private_chat(admin)


async def test_addfeed_of_a_loopback_url_is_refused_with_a_clear_reason(tmp_path, feed_server):
    async with BotHarness.running(tmp_path, admins=(ADMIN,)) as h:
        admin, chat = await admin_chat(h)
        for url in (str(feed_server.make_url("/rss")), "http://2852039166/latest/meta-data/",
                    "http://[::ffff:127.0.0.1]/", "http://localhost:6379/"):
            (msg,) = await h.say(chat, admin, f"/addfeed {url}")
            assert "Refused" in msg["text"] and "NEWSBOT_ALLOW_PRIVATE_NETWORKS" in msg["text"], (url, msg["text"])
        (msg,) = await h.say(chat, admin, "/addfeed http://user:pw@10.0.0.1/feed")
        assert "user name or password" in msg["text"]
        assert await list_feeds(h.db) == [] and feed_server.hits == []
    async with BotHarness.running(tmp_path / "zh", admins=(ADMIN + 1,)) as h:
        zh_admin = h.sb.add_user("管理员", user_id=ADMIN + 1, language_code="zh-hans")
        (msg,) = await h.say(h.sb.private_chat(zh_admin), zh_admin, "/addfeed http://0x7f.1/")
        assert "已拒绝" in msg["text"] and "127.0.0.1" in msg["text"]


async def test_the_operator_allowance_lets_a_loopback_feed_in(tmp_path, feed_server):
    env = {"NEWSBOT_ALLOW_PRIVATE_NETWORKS": "127.0.0.1/32"}
    async with BotHarness.running(tmp_path, admins=(ADMIN,), env=env) as h:
        admin, chat = await admin_chat(h)
        (msg,) = await h.say(chat, admin, f"/addfeed {feed_server.make_url('/rss')}")
        assert "added" in msg["text"] and "3 items" in msg["text"]
        (feed,) = await list_feeds(h.db)
        (msg,) = await h.say(chat, admin, f"/fetchnow {feed.id}")
        assert "3 new" in msg["text"]


async def test_folders_from_a_chat_need_a_root_and_opml_never_adds_one(tmp_path):
    folder = tmp_path / "posts"
    write_post(folder, "聊天里不能随便添加服务器上的文件夹")
    async with BotHarness.running(tmp_path, admins=(ADMIN,)) as h:  # no NEWSBOT_FEED_ROOTS
        admin, chat = await admin_chat(h)
        (msg,) = await h.say(chat, admin, f"/addfeed {folder}")
        assert "NEWSBOT_FEED_ROOTS" in msg["text"]
        (msg,) = await h.say(chat, admin, "/addfeed /etc")
        assert "NEWSBOT_FEED_ROOTS" in msg["text"]
        opml = ('<?xml version="1.0"?><opml version="2.0"><body>'
                f'<outline text="Mine" type="folder" path="{folder}"/>'
                '<outline text="Etc" type="folder" path="/etc"/>'
                '<outline text="Meta" type="rss" xmlUrl="http://169.254.169.254/latest/meta-data/"/>'
                '<outline text="Octal" type="rss" xmlUrl="http://017700000001:6379/"/>'
                '<outline text="Fine" type="rss" xmlUrl="https://news.example.org/feed.xml"/>'
                '</body></opml>')
        before = len(h.sb.messages(chat))
        h.sb.send_document(chat, admin, "feeds.opml", opml, caption="/import")
        await h.sb.wait_for(chat, before + 1, timeout=10)
        text = h.sb.messages(chat)[-1]["text"]
        assert "1 added" in text and "4 invalid" in text, text
        assert [f.location for f in await list_feeds(h.db)] == ["https://news.example.org/feed.xml"]
