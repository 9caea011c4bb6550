"""Inline search end to end: `@bot words` answers with the same articles as /search, `@bot` alone with the
newest, paged by next_offset; a chosen result posts the formatted item with its link."""
from __future__ import annotations

import re

import pytest

from bot.feeds.ingest import ingest_paths
from tests.support.harness import BotHarness
from tests.support.paths import REAL
from tests.support.posts import write_post


@pytest.fixture
async def h(tmp_path):
    async with BotHarness.running(tmp_path) as harness:
        await ingest_paths(harness.db, [REAL])
        write_post(tmp_path / "img", "带图片的新闻", ("新闻", "测试源", "要闻"),
                   image="https://example.com/lead.jpg")
        linked = write_post(tmp_path / "img", "有原文链接的新闻", ("新闻", "测试源", "要闻"))
        linked.write_text(linked.read_text("utf-8").replace("comments: false", "link: https://example.com/news/1"),
                          "utf-8")
        await ingest_paths(harness.db, [tmp_path / "img"])
        yield harness


async def ask(h: BotHarness, user, query: str, offset: str = "", chat=None) -> dict:
    q = h.sb.inline_query(user, query, offset=offset, chat=chat, use_cache=False)
    return await h.sb.wait_inline_answer(q["id"])


def ids(answer: dict) -> list[int]:
    return [int(r["id"]) for r in answer["results"]]


async def test_inline_answers_match_search(h):
    ann = h.sb.add_user("Ann", language_code="en")
    chat = h.sb.private_chat(ann)
    for query in ("中国", "apple", "cat:金融", '"新冠"'):
        answer = await ask(h, ann, query)
        (msg,) = await h.say(chat, ann, f"/search {query}")
        shown = [int(x) for x in re.findall(r"/read_(\d+)", msg["text"])]
        assert shown and ids(answer)[:len(shown)] == shown, query
        assert len(answer["results"]) <= 20 and answer["is_personal"] is True and answer["cache_time"] > 0


async def test_empty_query_pages_through_the_newest(h):
    ann = h.sb.add_user("Ann", language_code="en")
    first = await ask(h, ann, "")
    assert len(first["results"]) == 20 and first["next_offset"]
    second = await ask(h, ann, "", offset=first["next_offset"])
    assert second["results"] and not set(ids(first)) & set(ids(second))
    rows = await h.db.fetchall("SELECT id FROM articles ORDER BY published DESC, id DESC")
    assert ids(first) + ids(second) == [r[0] for r in rows][:len(first["results"]) + len(second["results"])]
    assert first["cache_time"] <= 10  # the newest change as articles arrive


async def test_results_show_title_source_date_summary_and_lead_image(h):
    ann = h.sb.add_user("Ann", language_code="en")
    answer = await ask(h, ann, "带图片的新闻")
    result = answer["results"][0]
    assert result["title"] == "带图片的新闻"
    assert "测试源" in result["description"] and "2024-05-01" in result["description"]
    assert result["thumbnail_url"] == "https://example.com/lead.jpg"
    content = result["input_message_content"]
    assert content["parse_mode"] == "HTML" and "start=read_" in content["message_text"]


async def test_a_chosen_result_posts_the_item_with_its_link(h):
    ann = h.sb.add_user("Ann", language_code="en")
    group = h.sb.group("Friends", members=[ann])
    q = h.sb.inline_query(ann, "有原文链接的新闻", chat=group, use_cache=False)
    answer = await h.sb.wait_inline_answer(q["id"])
    chosen = answer["results"][0]
    posted = h.sb.choose_inline_result(q["id"], chosen["id"])
    assert posted["text"].startswith(chosen["title"][:20])
    links = [e.get("url", "") for e in posted.get("entities", []) if e["type"] == "text_link"]
    assert any("start=read_" + chosen["id"] in u for u in links)
    assert "https://example.com/news/1" in links  # the article's own link, and its site's name
    assert "🔗 example.com" in posted["text"]
    assert "/read_" not in posted["text"]


async def test_notices_are_in_the_users_language_and_personal(h):
    zh = h.sb.add_user("Li", language_code="zh-hans")
    en = h.sb.add_user("Ann", language_code="en")
    none_zh = await ask(h, zh, "没有这样的词语组合xyz")
    none_en = await ask(h, en, "没有这样的词语组合xyz")
    assert none_zh["results"][0]["title"] == "没有找到" and none_en["results"][0]["title"] == "Nothing found"
    assert none_zh["is_personal"] and none_en["is_personal"]
    bad = await ask(h, en, "since:xx 中国")
    assert bad["results"][0]["title"] == "Invalid search" and bad["next_offset"] == ""


async def test_inline_results_in_the_readers_script(h, tmp_path):
    write_post(tmp_path / "zh", "经济数据发布会", ("新闻", "测试源", "要闻"), ("国家统计局发布经济数据，后续将继续观察。",))
    await ingest_paths(h.db, [tmp_path / "zh"])
    trad, simp = h.sb.add_user("陳", language_code="zh-tw"), h.sb.add_user("王", language_code="zh-hans")
    t_answer, s_answer = await ask(h, trad, "經濟數據"), await ask(h, simp, "经济数据")
    assert ids(t_answer) == ids(s_answer) and ids(t_answer)  # either spelling finds the same articles
    (t_first,), (s_first,) = t_answer["results"][:1], s_answer["results"][:1]
    assert "經濟" in t_first["title"] and "經濟" in t_first["input_message_content"]["message_text"]  # Taiwan: 資料
    assert "经济数据" in s_first["title"] and t_answer["is_personal"] and s_answer["is_personal"]
