"""/latest, /read, /search (with paging across a restart), /watch through the sandbox."""
from __future__ import annotations

import asyncio
import re
from datetime import datetime, timezone

import pytest

from bot.feeds.ingest import ingest_paths
from sandbox.entities import parse_html, utf16_len
from storage.articles import get_article
from tests.support.harness import BotHarness, buttons
from tests.support.paths import REAL
from tests.support.posts import write_post


@pytest.fixture
async def h(tmp_path):
    async with BotHarness.running(tmp_path) as harness:
        await ingest_paths(harness.db, [REAL])
        yield harness


@pytest.fixture
async def bare(tmp_path):
    """The bot with only the articles a test writes (no corpus: faster, and the test's own are the latest)."""
    async with BotHarness.running(tmp_path) as harness:
        yield harness


def valid(msg):
    """The text a user sees, checked against Telegram's limits as Telegram counts them (UTF-16 units)."""
    plain, entities = parse_html(msg.get("source") or msg["text"])
    assert utf16_len(plain) <= 4096 and len(entities) <= 100
    return plain


def linked_post(folder, title, url, **kwargs):
    """A post whose front matter links to its source page."""
    path = write_post(folder, title, **kwargs)
    path.write_text(path.read_text(encoding="utf-8").replace("comments: false", f"link: '{url}'\ncomments: false", 1),
                    encoding="utf-8")
    return path


def refused(h) -> list[dict]:
    """Bot API calls the sandbox refused (a message Telegram would not have shown)."""
    return [r for r in h.sb.requests if r["status"] not in (200, None) and r["method"] != "getUpdates"]


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


async def ingest_chip_news(h, folder) -> None:
    """Seven articles matching 芯片: two pages of search results."""
    for n in range(7):
        write_post(folder, f"芯片产业新闻第{n}条", paragraphs=(f"关于芯片的第{n}篇报道。",))
    await ingest_paths(h.db, [folder])


async def test_search_bold_matches_and_paging_survives_restart(tmp_path):
    async with BotHarness.running(tmp_path) as h:
        await ingest_chip_news(h, tmp_path / "s")
        u = h.sb.add_user("U", language_code="zh")
        chat = h.sb.private_chat(u)
        (msg,) = await h.say(chat, u, "/search 芯片")
        assert "共 7 条结果" in msg["text"] and "<b>芯片</b>" in msg["source"]
        nxt = [d for _, d in buttons(msg) if d.startswith("search:")]
        assert len(nxt) == 1
        sb, db_path = h.sb, h.runtime.settings.db_path
        await h.runtime.stop()
        # a new bot on the same database: the old message's Next button still works
        from bot.app.config import load_settings
        from bot.app.runtime import BotRuntime

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


LONG_TITLE = ('芯片 & <i> "x" 😀 ' * 100)[:1000]  # & < > " grow when escaped, each emoji is 2 UTF-16 units


async def edited_to(h, chat, marker: str, timeout: float = 10.0) -> dict:
    """The chat's last message once an edit has put `marker` in it."""
    for _ in range(int(timeout / 0.05)):
        last = h.sb.messages(chat)[-1]
        if marker in last["text"]:
            return last
        await asyncio.sleep(0.05)
    raise AssertionError(f"no edit showing {marker!r}: {h.sb.messages(chat)[-1]['text'][-200:]!r}")


async def test_search_page_of_long_escaped_titles_fits_and_pages(bare, tmp_path):
    h = bare
    for n in range(7):
        write_post(tmp_path / "s", f"{n}号{LONG_TITLE}", paragraphs=(f"第{n}篇" + "😀芯片&<>新闻。" * 300,))
    assert len((await ingest_paths(h.db, [tmp_path / "s"])).new_ids) == 7
    u = h.sb.add_user("U", language_code="zh")
    chat = h.sb.private_chat(u)
    (msg,) = await h.say(chat, u, "/search 芯片")
    plain = valid(msg)
    assert "共 7 条结果" in plain and "第 1/2 页" in plain and "wrong" not in plain
    assert len(re.findall(r"/read_\d+", plain)) == 5  # a whole page: titles were shortened, no hit dropped
    assert '芯片 & <i> "x" 😀' in plain and "…" in plain
    assert "<b>芯片</b>" in msg["source"]
    (nxt,) = [d for _, d in buttons(msg) if d.startswith("search:")]
    await h.press(chat, u, msg["message_id"], nxt)
    edited = await edited_to(h, chat, "第 2/2 页")  # edits are paced per chat: the answer may come first
    plain = valid(edited)
    assert "6. " in plain and "7. " in plain and "第 2/2 页" in plain
    (prev,) = [d for _, d in buttons(edited) if d.startswith("search:")]
    await h.press(chat, u, msg["message_id"], prev)
    plain = valid(await edited_to(h, chat, "第 1/2 页"))
    assert "1. " in plain and "第 1/2 页" in plain
    assert refused(h) == []


async def test_double_next_tap_answers_each_callback_once_without_an_error(bare, tmp_path):
    h = bare
    await ingest_chip_news(h, tmp_path / "s")
    u = h.sb.add_user("U", language_code="en")
    chat = h.sb.private_chat(u)
    (msg,) = await h.say(chat, u, "/search 芯片")
    (nxt,) = [d for _, d in buttons(msg) if d.startswith("search:")]
    calls = len(h.sb.requests)
    h.sb.press(chat, u, msg["message_id"], nxt)
    h.sb.press(chat, u, msg["message_id"], nxt)
    assert await h.quiet(chat, 1.0) == []  # no "something went wrong" reply
    calls = h.sb.requests[calls:]
    answers = [r for r in calls if r["method"] == "answerCallbackQuery"]
    assert [r["status"] for r in answers] == [200, 200]  # one answer per tap, no refused second one
    assert len({r["params"]["callback_query_id"] for r in answers}) == 2
    assert not any(a["show_alert"] for a in h.sb.callback_answers)
    edits = [(r["status"], r["description"] or "") for r in calls if r["method"] == "editMessageText"]
    assert sorted(s for s, _ in edits) == [200, 400] and "not modified" in max(edits)[1]
    assert "page 2/2" in h.sb.messages(chat)[-1]["text"]


async def test_latest_with_a_huge_url_leaves_the_link_out(bare, tmp_path):
    h = bare
    long_url = "https://example.com/story?" + "a=1&" * 500  # 2,026 characters: still a link
    posts = (("巨大链接" + " &" * 498, "https://example.com/x", 3), ("长链接" + " &" * 498, long_url, 2),
             ("普通链接", "https://example.com/news?a=1&b=2", 1))
    for title, url, day in posts:
        linked_post(tmp_path / "l", title, url, date=datetime(2024, 5, day, tzinfo=timezone.utc))
    report = await ingest_paths(h.db, [tmp_path / "l"])
    # ingest no longer keeps such a URL, but rows stored before it do
    huge = "https://example.com/" + "a&b=" * 3000
    await h.db.write("UPDATE articles SET url = ? WHERE title LIKE '巨大链接%'", (huge,))
    u = h.sb.add_user("U", language_code="en")
    chat = h.sb.private_chat(u)
    (msg,) = await h.say(chat, u, "/latest 3")
    plain = valid(msg)
    assert "巨大链接 & &" in plain and "长链接 & &" in plain and "普通链接" in plain
    assert sorted(int(i) for i in re.findall(r"/read_(\d+)", plain)) == sorted(report.new_ids)
    links = [e["url"] for e in msg.get("entities", []) if e["type"] == "text_link"]
    assert links == [long_url, "https://example.com/news?a=1&b=2"]  # the huge one is left out, not cut
    assert refused(h) == []


@pytest.mark.timeout(120)  # a synchronous endless loop blocks the event loop, and with it asyncio.wait_for
async def test_read_with_a_long_header_and_emoji_body_is_bounded(bare, tmp_path):
    h = bare
    url = "https://example.com/story?" + "x=1&" * 300
    paragraphs = ("😀&" * 5000,  # no sentence end: cut hard, by UTF-16 units
                  *(f"第{n}段" + "😀新闻&<>。" * 330 for n in range(5)))
    linked_post(tmp_path / "r", "A&B " * 250, url, paragraphs=paragraphs)
    (aid,) = (await ingest_paths(h.db, [tmp_path / "r"])).new_ids
    u = h.sb.add_user("U", language_code="en")
    chat = h.sb.private_chat(u)
    got = await asyncio.wait_for(h.say(chat, u, f"/read_{aid}", expect=5, timeout=60), timeout=90)
    assert await h.quiet(chat, 0.5) == []  # at most five messages
    plains = [valid(m) for m in got]
    assert plains[0].startswith("A&B A&B") and "(1/5)" in plains[0] and plains[4].startswith("(5/5)")
    assert plains[4].endswith("… full text")
    assert [e["url"] for e in got[4]["entities"] if e["type"] == "text_link"] == [url]
    # nothing lost or mangled at the cuts: the bodies run on as the article's text
    bodies = [p.split("\n\n", 1)[1] for p in plains]
    bodies[4] = bodies[4].removesuffix("\n\n… full text")
    shown = "".join(b.replace("\n\n", "") for b in bodies)
    text = "".join((await get_article(h.db, aid)).article.paragraphs)
    assert len(shown) > 10_000 and text.startswith(shown)
    assert refused(h) == []
