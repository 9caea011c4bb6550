"""/latest, /read, /search (with paging across a restart), /watch through the sandbox."""
from __future__ import annotations

import re

import pytest

from bot.ingest import ingest_paths
from bot.sandbox.entities import parse_html
from tests.conftest import REAL
from tests.harness import BotHarness, buttons
from tests.posts import write_post


@pytest.fixture
async def h(tmp_path):
    async with BotHarness.running(tmp_path) as harness:
        await ingest_paths(harness.db, [REAL])
        yield harness


def valid(msg):
    plain, entities = parse_html(msg.get("source") or msg["text"])
    assert len(plain) <= 4096 and len(entities) <= 100
    return plain


async def test_latest_default_count_category_and_bad_values(h):
    u = h.sb.add_user("U", language_code="zh")
    chat = h.sb.private_chat(u)
    (msg,) = await h.say(chat, u, "/latest")
    assert len(re.findall(r"/read_\d+", msg["text"])) == 5
    (msg,) = await h.say(chat, u, "/latest 知乎 2")
    ids = re.findall(r"/read_\d+", msg["text"])
    assert len(ids) == 2 and "知乎" in msg["text"]
    (msg,) = await h.say(chat, u, "/latest 99")
    assert "1 到 20" in msg["text"]
    (msg,) = await h.say(chat, u, "/latest 不存在的分类")
    assert "没有找到分类" in msg["text"]
    valid(msg)


async def test_read_full_text_and_split_for_long_articles(h, tmp_path):
    u = h.sb.add_user("U", language_code="en")
    chat = h.sb.private_chat(u)
    write_post(tmp_path / "long", "很长的文章 <b>&</b>", paragraphs=tuple(f"第{n}段" + "长文本。" * 300 for n in range(12)))
    report = await ingest_paths(h.db, [tmp_path / "long"])
    (aid,) = report.new_ids
    got = await h.say(chat, u, f"/read_{aid}", expect=4)
    text = "".join(valid(m) for m in got)
    for n in range(12):
        assert f"第{n}段" in text
    assert "很长的文章 <b>&</b>" in valid(got[0])
    (msg,) = await h.say(chat, u, "/read 999999")
    assert "No article" in msg["text"]
    (msg,) = await h.say(chat, u, "/read abc")
    assert "Usage" in msg["text"]


@pytest.mark.parametrize("query", ['"', "* ^ : ( ) NEAR AND OR", "'; DROP TABLE articles; --", "😀" * 20,
                                   "x" * 500, "cat:", "since:abc", "-"])
async def test_search_hostile_queries_get_valid_replies(h, query):
    u = h.sb.add_user("U", language_code="en")
    (msg,) = await h.say(h.sb.private_chat(u), u, f"/search {query}")
    valid(msg)
    assert "wrong" not in msg["text"]


async def test_search_bold_matches_and_paging_survives_restart(tmp_path):
    async with BotHarness.running(tmp_path) as h:
        for n in range(7):
            write_post(tmp_path / "s", f"芯片产业新闻第{n}条", paragraphs=(f"关于芯片的第{n}篇报道。",))
        await ingest_paths(h.db, [tmp_path / "s"])
        u = h.sb.add_user("U", language_code="zh")
        chat = h.sb.private_chat(u)
        (msg,) = await h.say(chat, u, "/search 芯片")
        assert "共 7 条结果" in msg["text"] and "<b>芯片</b>" in msg["source"]
        nxt = [d for _, d in buttons(msg) if d.startswith("search:")]
        assert len(nxt) == 1
        sb, db_path = h.sb, h.runtime.settings.db_path
        await h.runtime.stop()
        # a new bot on the same database: the old message's Next button still works
        from bot.app import BotRuntime
        from bot.config import load_settings

        settings = load_settings({"TELEGRAM_BOT_TOKEN": sb.token, "TELEGRAM_API_URL": sb.base_url,
                                  "NEWSBOT_DB": str(db_path)}, dotenv=None)
        runtime = BotRuntime(settings, jobs=False)
        await runtime.start(polling_timeout=1)
        try:
            h.runtime = runtime
            await h.press(chat, u, msg["message_id"], nxt[0])
            edited = h.sb.messages(chat)[-1]
            assert "6." in edited["text"] and "第 2/2 页" in edited["text"]
            forged = nxt[0].split(":")
            await h.press(chat, u, msg["message_id"], f"search:{int(forged[1]) + 99}:0", forge=True)
            assert h.sb.callback_answers[-1].get("show_alert") in (True, "true")
        finally:
            await runtime.stop()
            h.runtime = type("Stopped", (), {"stop": staticmethod(lambda: _noop())})()


async def _noop():
    return None


async def test_watch_commands(h):
    u = h.sb.add_user("U", language_code="en")
    chat = h.sb.private_chat(u)
    (msg,) = await h.say(chat, u, "/watch 海关 -疫情")
    assert "#1" in msg["text"]
    (msg,) = await h.say(chat, u, "/watch 海关 -疫情")
    assert "already exists" in msg["text"]
    (msg,) = await h.say(chat, u, "/watches")
    assert "海关 -疫情" in msg["text"]
    (msg,) = await h.say(chat, u, "/watch since:7d")
    assert "Invalid" in msg["text"]
    (msg,) = await h.say(chat, u, "/unwatch 5")
    assert "no alert number 5" in msg["text"]
    (msg,) = await h.say(chat, u, "/unwatch 1")
    assert "removed" in msg["text"]
    (msg,) = await h.say(chat, u, "/watches")
    assert "No keyword alerts" in msg["text"]


@pytest.mark.parametrize("text,expect", [("/unwatch ²", "Usage"), ("/unwatch ①", "Usage"),
                                         ("/latest " + "0" * 5000, "too long"), ("/latest 123456", "1 to 20")])
async def test_odd_digits_get_usage_not_an_error(h, text, expect):
    u = h.sb.add_user("U", language_code="en")
    (msg,) = await h.say(h.sb.private_chat(u), u, text)
    assert expect in msg["text"] and "wrong" not in msg["text"]
