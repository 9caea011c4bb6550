"""bot/core/render.py: the Telegram text of digest items, /latest, /read and /search pages, valid and within
Telegram's limits (pure: literal data in, HTML out, checked by the sandbox's strict parser)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.categories import build_tree, resolve
from bot.core.digest import DigestItem
from bot.core.model import Article
from bot.core.query import ParsedQuery, parse_query, tokens
from bot.core.render import (
    MAX_MESSAGE_CHARS,
    READ_MAX_MESSAGES,
    category_not_found,
    digest_item,
    fits,
    highlight_html,
    latest_messages,
    pack_lines,
    read_messages,
    search_page,
    snippet_html,
    tg_cut,
    tg_len,
)
from bot.core.snippet import Snippet, make_snippet
from sandbox.entities import parse_html, utf16_len
from storage.search import SearchHit, SearchPage

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
SH = ZoneInfo("Asia/Shanghai")


def item(title: str = "标题", url: str | None = None, summary: tuple[str, ...] = ("第一句。",)) -> DigestItem:
    return DigestItem(outbox_id=1, article_id=1001, thread_id=0, title=title, url=url, source="源",
                      published=NOW - timedelta(minutes=1), categories=("新闻", "要闻"), summary=summary)


def article(paragraphs: tuple[str, ...], *, title: str = "海关通报", url: str | None = "https://e.org/a") -> Article:
    return Article(uid="u", feed_id=None, source="/p.md", title=title, categories=("金融", "快讯"), author="新浪财经",
                   published=NOW, image_url=None, paragraphs=paragraphs, language="zh", content_hash="h",
                   story_key="k", ingested=NOW, url=url)


def valid(html: str) -> str:
    """The text Telegram would show; raises on a cut tag or entity, fails past the limits."""
    plain, entities = parse_html(html)
    assert utf16_len(plain) <= MAX_MESSAGE_CHARS and len(entities) <= 100
    return plain


# ---------------------------------------------------------------- Telegram's arithmetic


def test_tg_len_and_tg_cut_count_utf16_units() -> None:
    assert tg_len("abc") == 3 and tg_len("海关") == 2 and tg_len("😀a") == 3
    assert tg_cut("😀😀😀", 3) == "😀" and tg_cut("😀😀😀", 4) == "😀😀" and tg_cut("a😀", 2) == "a"
    assert tg_cut("海关通报", 10) == "海关通报" and tg_cut("", 5) == "" and tg_cut("abc", 0) == ""


def test_lines_pack_into_few_messages_and_an_overlong_line_is_sent_as_cut_plain_text() -> None:
    lines = [f"<b>第{n}行</b> " + "字" * 100 for n in range(100)]
    messages = pack_lines(lines)
    assert len(messages) == 3 and "\n".join(messages) == "\n".join(lines)
    (huge,) = pack_lines(["<b>" + "&amp;" * 3000 + "</b>"])
    assert "<b>" not in huge and valid(huge) == "&" * (MAX_MESSAGE_CHARS // 2 - 1) + "…"
    assert pack_lines(["", " "]) == []   # Telegram refuses an empty message


# ---------------------------------------------------------------- digest items


def test_escapes_everything_from_articles() -> None:
    it = item(title="<b>AT&T</b> <script>", url='https://x.org/?a=1&b="2"', summary=("1 < 2 & 3 > 2。",))
    html = digest_item(it, "zh", SH, NOW, 2)
    plain, entities = parse_html(html)
    assert "<b>AT&T</b> <script>" in plain and "1 < 2 & 3 > 2。" in plain
    assert any(e["type"] == "text_link" and e["url"] == 'https://x.org/?a=1&b="2"' for e in entities)
    assert "/read_1001" in plain


def test_an_overlong_url_is_no_link_rather_than_a_broken_one() -> None:
    html = digest_item(item(url="https://example.org/?" + "a=1&b=2&" * 2000), "en", SH, NOW, 2)
    assert "<a href" not in html and "/read_1001" in html
    valid(html)


# ---------------------------------------------------------------- highlighting


@given(st.text(max_size=300), st.text(min_size=1, max_size=6))
@settings(deadline=None)
def test_snippet_html_is_always_safe(text: str, term: str) -> None:
    html = snippet_html(make_snippet(text, [tuple(tokens(term))] if tokens(term) else []))
    stripped = html.replace("<b>", "").replace("</b>", "")
    assert "<" not in stripped and ">" not in stripped
    assert html.count("<b>") == html.count("</b>")


def test_highlight_escapes_and_emphasises_every_match() -> None:
    assert highlight_html("美国<芯片>法案 & 芯片", [("芯", "片")]) == "美国&lt;<b>芯片</b>&gt;法案 &amp; <b>芯片</b>"
    assert snippet_html(Snippet("a<b", ((0, 1),), cut_before=True, cut_after=True)) == "…<b>a</b>&lt;b…"


# ---------------------------------------------------------------- /latest and /read


def test_latest_lists_title_source_time_summary_and_read_command() -> None:
    a = article(("正文。",))
    (text,) = latest_messages("en", SH, "金融 › 快讯", [(7, a, ["第一句。", "第二句。"])])
    plain = valid(text)
    assert plain.startswith("Latest · 金融 › 快讯:")
    assert "海关通报\n新浪财经 · 2024-05-01 20:00\n第一句。 第二句。\n/read_7" in plain


def test_latest_splits_many_long_items_between_messages_never_inside_one() -> None:
    items = [(n, article(("x",), title=f"标题{n}" * 50), ["长" * 1400]) for n in range(12)]
    messages = latest_messages("zh", SH, "", items)
    assert len(messages) > 1
    for text in messages:
        assert fits(text)
    assert [n for text in messages for n in range(12) if f"/read_{n}\n" in text + "\n"] == list(range(12))


def test_read_numbers_its_parts_and_ends_a_long_article_with_a_link() -> None:
    a = article(tuple("第一句话说了很多。" * 60 for _ in range(40)))
    messages = read_messages("en", SH, a)
    assert len(messages) == READ_MAX_MESSAGES
    for n, text in enumerate(messages, start=1):
        plain = valid(text)
        assert f"({n}/{READ_MAX_MESSAGES})" in plain
    assert messages[0].startswith('<b><a href="https://e.org/a">海关通报</a></b>\n<i>金融 › 快讯 · 新浪财经 · 2024-05-01 20:00</i>')
    assert messages[-1].endswith('… <a href="https://e.org/a">full text</a>')


def test_read_of_an_article_without_text_says_so() -> None:
    (text,) = read_messages("en", SH, article(()))
    assert valid(text).endswith("(This article has no text.)")


# ---------------------------------------------------------------- /search


def page(query: ParsedQuery, hits: list[SearchHit], total: int, offset: int = 0) -> SearchPage:
    return SearchPage(query, tuple(hits), total, offset, 5)


def hit(n: int, title: str, snippet: Snippet) -> SearchHit:
    return SearchHit(article_id=n, title=title, author="IT之家", categories=("科技", "最新"), published=NOW,
                     url=None, snippet=snippet, score=1.0)


def test_search_page_numbers_hits_with_matches_in_bold_and_the_page() -> None:
    query = parse_query("芯片 海关")
    assert isinstance(query, ParsedQuery)
    snip = Snippet("关于芯片 & 海关的消息<b>。", ((2, 4), (7, 9)), cut_before=True, cut_after=True)
    text = search_page("en", SH, page(query, [hit(42, "美国<芯片>法案", snip)], total=7, offset=5))
    assert "\n6. 美国&lt;<b>芯片</b>&gt;法案\n<i>IT之家 · 2024-05-01 20:00</i>\n" in text
    assert "…关于<b>芯片</b> &amp; <b>海关</b>的消息&lt;b&gt;。…\n/read_42" in text
    assert valid(text).endswith("page 2/2")


def test_a_page_past_the_entity_limit_drops_the_bold_then_hits() -> None:
    query = parse_query("x")
    assert isinstance(query, ParsedQuery)
    tags = " ".join(f"#t{i} x" for i in range(40))
    text = search_page("en", SH, page(query, [hit(n, tags, make_snippet(tags, [("x",)])) for n in range(5)], total=5))
    valid(text)
    assert "<b>" not in text and "/read_0" in text and fits(text)


def test_unknown_category_suggests_close_names() -> None:
    tree = build_tree([(("金融", "新浪财经"), 3), (("科技",), 2)])
    text = category_not_found("en", "新浪", resolve(tree, "新浪"))
    assert valid(text).startswith("❓ No category called “新浪”.")
