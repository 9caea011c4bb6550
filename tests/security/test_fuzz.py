"""Bad input, fuzzed: mutated real posts through the parser and cleaner, and property tests of the pure
functions that read what users type (settings, category names, the query language) or shape what the
bot sends (search results, digest messages).

Every mutated post must come out as an Article or a RejectedPost with a reason, in bounded time and
memory; every user-typed string must give a value or an error value, never an exception; every message
must be valid Telegram HTML within the limits (checked with the sandbox's own HTML parser).
"""
from __future__ import annotations

import json
import random
import time
import tracemalloc
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.catalogue import en, zh
from bot.core.categories import PATH_SPLIT, build_tree, resolve
from bot.core.chat_settings import SettingChange, parse_setting
from bot.core.digest import DigestItem, plan_messages
from bot.core.errors import RejectedPost, SettingError
from bot.core.i18n import escape, t
from bot.core.model import Article
from bot.core.parse import MAX_POST_BYTES
from bot.core.query import (
    MAX_QUERY_CHARS,
    MAX_TERMS,
    MAX_TOKENS,
    MatchDoc,
    ParsedQuery,
    QueryError,
    parse_query,
)
from bot.core.render import MAX_CAPTION_CHARS, MAX_ENTITIES, MAX_MESSAGE_CHARS, search_page
from bot.core.summarise import default_summariser
from bot.feeds.ingest import build_article
from sandbox.entities import parse_html
from tests.support.paths import real_posts

UTC = timezone.utc
TIME_BOUND = 5.0                 # seconds per file, parse + clean + summarise
MEMORY_BOUND = 300 * 2**20       # peak Python allocations per file

# ---------------------------------------------------------------- mutated posts


def _billion_laughs(levels: int = 9) -> bytes:
    lines = ["a: &a [" + ",".join(["'lol'"] * 9) + "]"]
    for i in range(1, levels):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    last = chr(ord("a") + levels - 1)
    for key in ("title", "categories", "author", "date", "headimg", "link", "tags"):
        lines.append(f"{key}: *{last}")
    return ("---\n" + "\n".join(lines) + "\n---\n<p>正文还在。</p>\n").encode()


def _front(title: str = "标题") -> str:
    return f"---\ntitle: {title}\ncategories:\n - 新闻\n - 测试\ndate: 2024-05-01 08:00:00\n---\n"


def extreme_posts() -> list[tuple[str, bytes]]:
    """Hand-made worst cases: deep nesting, huge paragraphs, YAML bombs, binary noise."""
    depth = 10_000
    big = MAX_POST_BYTES - 1024
    return [
        ("nested-div-10000", (_front() + "<div>" * depth + "深处的正文。" + "</div>" * depth).encode()),
        ("nested-unclosed-10000", (_front() + "<p><span><b><i>" * (depth // 4) + "没有闭合的标签。").encode()),
        ("nested-mixed-10000", (_front() + "".join(f"<{t}>" for t in ("div", "ul", "li", "blockquote") * 2500)
                                + "混合嵌套。").encode()),
        ("nested-comments", (_front() + "<!--" * depth + "注释里的字" + "-->" * depth).encode()),
        ("angle-brackets-1M", (_front() + "<" * 1_000_000).encode()),
        ("one-paragraph-5MB-cjk", (_front() + "<p>" + "很长的一段话没有句号" * (big // 30) + "</p>").encode()[:big]),
        ("one-paragraph-5MB-latin", (_front() + "word " * (big // 5)).encode()[:big]),
        ("one-line-5MB-no-spaces", (_front() + "x" * big).encode()[:big]),
        ("just-over-5MB", (_front() + "y" * (MAX_POST_BYTES + 10)).encode()),
        ("billion-laughs", _billion_laughs()),
        ("yaml-deep-flow", ("---\ntitle: " + "[" * 20_000 + "\n---\n<p>正文</p>").encode()),
        ("yaml-deep-block", ("---\n" + "".join(" " * i + f"k{i}:\n" for i in range(2000)) + "---\n正文").encode()),
        ("yaml-python-tag", b"---\ntitle: !!python/object/apply:os.system ['echo pwned']\n---\n<p>x</p>"),
        ("yaml-huge-front", ("---\n" + "title: 大\n" + "k: v\n" * 40_000 + "---\n正文").encode()),
        ("yaml-unclosed", ("---\ntitle: 没有结束的头\n" + "x: y\n" * 1000).encode()),
        ("random-bytes", random.Random(1).randbytes(200_000)),
        ("nul-bytes", b"\x00" * 10_000),
        ("utf16-post", (_front("UTF-16 的帖子") + "<p>正文。</p>").encode("utf-16")),
        ("gb18030-post", (_front("国标编码") + "<p>正文。</p>").encode("gb18030")),
        ("lone-surrogates", (_front("坏代理") + "<p>a\udcff b</p>").encode("utf-8", "surrogatepass")),
        ("control-chars", (_front("控制\x01字符\x07") + "<p>\x00\x1b[31m红色\x7f</p>").encode()),
        ("entity-bomb", (_front() + "&#x10FFFF;&#0;&#xD800;&amp;" * 50_000).encode()),
        ("many-paragraphs", (_front() + "<p>短句。</p>" * 200_000).encode()[:MAX_POST_BYTES]),
        ("many-distinct-paragraphs", (_front() + "".join(f"<p>第{i}句。</p>" for i in range(250_000))).encode()
         [:MAX_POST_BYTES]),
        ("many-plain-lines", (_front() + "".join(f"第{i}行\n" for i in range(500_000))).encode()[:MAX_POST_BYTES]),
        ("many-images", (_front() + '<p><img src="https://e.org/i.jpg"></p>' * 100_000).encode()[:MAX_POST_BYTES]),
        ("empty", b""),
        ("whitespace", b" \n\t\r\n" * 1000),
        ("only-front-matter", b"---\ntitle: x\n---\n"),
    ]


MEMORY_CASES = {"nested-div-10000", "one-paragraph-5MB-cjk", "one-paragraph-5MB-latin", "billion-laughs",
                "yaml-huge-front", "many-paragraphs", "many-plain-lines"}


def mutations(data: bytes, rng: random.Random) -> list[tuple[str, bytes]]:
    n = len(data)
    out = []
    for _ in range(3):
        cut = rng.randrange(n + 1)
        out.append((f"truncated@{cut}", data[:cut]))
    for k in (1, 8, 64):
        b = bytearray(data)
        for _ in range(k):
            i = rng.randrange(n)
            b[i] ^= 1 << rng.randrange(8)
        out.append((f"flipped×{k}", bytes(b)))
    i, j = sorted(rng.randrange(n + 1) for _ in range(2))
    out.append(("chunk-doubled", data[:j] + data[i:j] + data[j:]))
    out.append(("chunk-dropped", data[:i] + data[j:]))
    out.append(("noise-inserted", data[:i] + rng.randbytes(rng.randrange(1, 200)) + data[i:]))
    out.append(("front-matter-dashes-lost", data.replace(b"---", b"--", 1)))
    return out


def fuzz_cases() -> list[tuple[str, bytes]]:
    rng = random.Random(2024)
    cases = extreme_posts()
    for path in real_posts():
        data = path.read_bytes()
        cases += [(f"{path.name}:{label}", mutated) for label, mutated in mutations(data, rng)]
    return cases


def check_article(art: Article) -> None:
    assert art.title.strip() and len(art.title) <= 1000
    assert art.categories and len(art.categories) <= 6
    assert art.published.tzinfo is not None
    assert all(p and len(p) <= 20_000 for p in art.paragraphs)


def ingest_one(label: str, data: bytes) -> str:
    """'stored' or 'rejected'; anything but a RejectedPost escaping is the bug this fuzzing looks for."""
    try:
        art = build_article(data, source=label, name="fuzz")
        summary, _ = default_summariser(art)
    except RejectedPost as exc:
        assert exc.reason and isinstance(exc.reason, str), label
        return "rejected"
    except Exception as exc:
        pytest.fail(f"{label}: {exc!r}")
    check_article(art)
    # summary sentences come from the text (an over-long one cut and marked with "…")
    assert len(summary) <= 5 and all(s.removesuffix("…") in art.text for s in summary), label
    return "stored"


@pytest.mark.slow
def test_mutated_real_posts_are_stored_or_rejected_in_bounded_time():
    cases = fuzz_cases()
    assert len(cases) > 300
    outcomes = {"stored": 0, "rejected": 0}
    slowest = (0.0, "")
    for label, data in cases:
        started = time.perf_counter()
        outcomes[ingest_one(label, data)] += 1
        elapsed = time.perf_counter() - started
        slowest = max(slowest, (elapsed, label))
        assert elapsed < TIME_BOUND, (label, elapsed)
    print(f"{len(cases)} fuzzed files: {outcomes}; slowest {slowest[0]:.2f} s ({slowest[1]})")
    assert outcomes["stored"] > 100 and outcomes["rejected"] >= 5


@pytest.mark.slow
def test_mutated_real_posts_are_stored_or_rejected_in_bounded_memory():
    # A separate pass (tracemalloc makes allocation-heavy code several times slower) over the posts
    # that could allocate much: a mutated post of a few KB cannot.
    peaks = []
    tracemalloc.start()
    try:
        for label, data in [(label, data) for label, data in extreme_posts() if label in MEMORY_CASES]:
            tracemalloc.reset_peak()
            base = tracemalloc.get_traced_memory()[0]
            ingest_one(label, data)
            peak = tracemalloc.get_traced_memory()[1] - base
            peaks.append((peak, label))
            assert peak < MEMORY_BOUND, (label, peak / 2**20)
    finally:
        tracemalloc.stop()
    print("largest peaks (MB):", [(round(p / 2**20), label) for p, label in sorted(peaks)[-3:]])


@pytest.mark.parametrize("label", ["nested-div-10000", "billion-laughs", "one-paragraph-5MB-cjk",
                                   "just-over-5MB", "yaml-deep-flow", "yaml-python-tag", "nul-bytes"])
def test_extreme_posts_have_the_expected_outcome(label):
    data = dict(extreme_posts())[label]
    expect = {"nested-div-10000": "stored", "billion-laughs": "stored", "one-paragraph-5MB-cjk": "stored",
              "just-over-5MB": "too large", "yaml-deep-flow": "stored", "yaml-python-tag": "stored",
              "nul-bytes": "binary"}[label]
    try:
        art = build_article(data, source=label)
    except RejectedPost as exc:
        assert expect in str(exc), (label, str(exc))
        return
    assert expect == "stored", (label, art.title)
    if label == "nested-div-10000":
        assert "深处的正文。" in art.text
    if label == "yaml-python-tag":
        assert "pwned" not in art.title or art.title.startswith("!!")  # the tag is never executed


# ---------------------------------------------------------------- what users type

NASTY = [
    "<b>", "</i>", "<a href=\"javascript:alert(1)\">x</a>", "&", "&amp;", "&#0;", "&lt;", "<", ">", "<<>>",
    "*bold* _it_ `code` [l](http://x) ~s~ ||sp|| \\", "'; DROP TABLE articles; --", "\" OR 1=1 --", "%", "_",
    'NEAR(a b)', '"unclosed', '""', "a OR b", "NOT x", "x AND", "col:term", "^start", "*", "-", "--", "-\"\"",
    "cat:", "cat:/", "cat:>>", "since:", "since:0d", "since:99999y", "sort:", "sort:rank", "-since:1d",
    "\x00", "\x1b[31m", "\u202e", "\u200b", "\ufeff", "🏳️‍🌈", "𠀀𪚥", "ｃａｔ：金融", "“”「」『』", "/start", "@newsbot_test_bot",
    "#tag", "/read_1", "https://example.org/?a=1&b=<2>", "\n\n\n", "\t", " ", "蛤" * 300, "a" * 4097,
]
user_text = st.one_of(
    st.text(max_size=80),
    st.sampled_from(NASTY),
    st.lists(st.sampled_from(NASTY) | st.text(max_size=8), min_size=1, max_size=12).map(" ".join),
    st.integers(1, 10_000).map(lambda n: ("字" * n)[:n]),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1000, max_size=3000),
)


def valid_html(text: str) -> None:
    plain, entities = parse_html(text)
    assert len(plain) <= MAX_MESSAGE_CHARS and len(entities) <= MAX_ENTITIES


CATALOGUE_KEYS = set(en.MESSAGES) & set(zh.MESSAGES)


@settings(deadline=None)
@given(st.lists(user_text, max_size=4))
def test_settings_arguments_give_a_change_or_a_catalogue_error(args):
    args = [a for arg in args for a in arg.split()]  # as Telegram's command parsing delivers them
    result = parse_setting(args)
    if isinstance(result, SettingError):
        assert result.reason in CATALOGUE_KEYS
        for lang in ("zh", "en"):
            valid_html(t(lang, result.reason, **result.params))
        return
    assert isinstance(result, SettingChange) and result.values
    v = result.values
    assert set(v) <= {"mode", "digest_times", "quiet_start", "quiet_end", "summary_length", "language", "timezone"}
    assert v.get("mode", "instant") in ("instant", "digest")
    assert v.get("summary_length", 1) in range(1, 6)
    assert v.get("language", "zh") in ("zh", "en")
    if "timezone" in v:
        ZoneInfo(v["timezone"])
    for hhmm in (*v.get("digest_times", ()), v.get("quiet_start"), v.get("quiet_end")):
        if hhmm is not None:
            assert len(hhmm) == 5 and 0 <= int(hhmm[:2]) < 24 and 0 <= int(hhmm[3:]) < 60
    for lang in ("zh", "en"):
        valid_html(t(lang, "settings_saved", what=result.shown))


TREE = build_tree([
    (("金融", "新浪财经", "新浪财经－国內"), 3), (("金融", "新浪财经", "新浪财经－国际"), 2), (("新闻", "要闻"), 4),
    (("社交媒体", "知乎", "知乎日报"), 1), (("新媒体", "9To5", "9To5 分站"), 1), (("新闻", "要闻", "国內"), 1),
    (("<b>", "&amp;"), 1), (("C++", "a/b"), 1),
])


@settings(deadline=None)
@given(user_text)
def test_category_names_resolve_to_a_node_or_candidates(text):
    found = resolve(TREE, text)
    assert found.node is None or found.node in TREE
    assert all(c in TREE for c in found.candidates) and len(found.candidates) <= 5
    assert not (found.node is not None and found.ambiguous)


# A level whose name contains a path separator ("<b>", "a/b") cannot be typed at all: reported, left out.
TYPABLE = [n for n in TREE if not any(PATH_SPLIT.search(p) for p in n.path)]


@settings(deadline=None)
@given(st.sampled_from(TYPABLE), st.sampled_from([str.upper, str.lower, lambda s: s, lambda s: f"  {s}  "]))
def test_every_category_resolves_by_its_full_path(node, style):
    assert resolve(TREE, style("/".join(node.path))).node == node


QUERY_ERRORS = {"empty", "too_long", "too_many_terms", "no_terms", "bad_since", "bad_sort", "bad_category",
                "bad_filter", "since_in_watch"}


@settings(deadline=None)
@given(user_text)
def test_query_language_never_raises_and_stays_bounded(text):
    q = parse_query(text)
    if isinstance(q, QueryError):
        assert q.reason in QUERY_ERRORS
        for lang in ("zh", "en"):
            valid_html(t(lang, f"query_{q.reason}", limit=q.limit))
        return
    assert isinstance(q, ParsedQuery) and len(text) <= MAX_QUERY_CHARS
    assert len(q.include) + len(q.exclude) <= MAX_TOKENS
    assert sum(len(p.tokens) for p in q.include) <= MAX_TOKENS
    assert all(p.tokens for p in q.include)
    assert q.include or q.categories or q.since is not None
    for lang in ("zh", "en"):
        valid_html(t(lang, "search_none", query=q.describe() or text[:100]))
    again = parse_query(q.describe())  # the canonical form shown to users means the same query
    if isinstance(again, QueryError):
        # A term mixing CJK and other characters is shown as several words, which can then count as
        # more than MAX_TERMS terms (reported; the search itself used the query as typed).
        assert again.reason == "too_many_terms", (q.describe(), again)
        return
    assert (again.include, again.exclude, again.categories, again.exclude_categories, again.since, again.sort) == \
        (q.include, q.exclude, q.categories, q.exclude_categories, q.since, q.sort), q.describe()


@settings(deadline=None)
@given(st.lists(st.sampled_from(["海关", "上海", "数据", "-疫情", "cat:金融", "\"供应 链\"", "iphone", "5g", "的"]),
                min_size=MAX_TERMS + 1, max_size=30))
def test_too_many_terms_is_an_error_not_a_slow_query(words):
    q = parse_query(" ".join(words))
    terms = [w for w in words if not w.startswith("cat:")]
    if len(terms) > MAX_TERMS and len(" ".join(words)) <= MAX_QUERY_CHARS:
        assert isinstance(q, QueryError) and q.reason in ("too_many_terms", "too_long")


# ---------------------------------------------------------------- search against a real database

SEARCH_TITLES = [
    "上海海关发布一季度进出口数据", "上海，关于疫情的最新通报", "iPhone13 供应链 supply chain 报告", "5G 基站建设提速",
    "<b>标签</b> & 实体 &amp; 测试", "'; DROP TABLE articles; -- 的标题", "C++ 与 Rust 的比较", "金融市场周报：的的的",
    "NEAR(a b) AND OR NOT 语法", "日本語のニュース記事です", "한국어 뉴스 기사", "emoji 🚀 火箭发射成功",
]


@pytest.fixture(scope="module")
def search_db(tmp_path_factory):
    """A small real database: a dozen articles with tricky text, opened fresh per test on the test's loop."""
    import asyncio

    from bot.feeds.ingest import store_batch
    from storage.db import open_db

    path = tmp_path_factory.mktemp("search") / "search.sqlite3"
    base = datetime(2024, 5, 1, tzinfo=UTC)

    async def build():
        async with open_db(path) as db:
            arts = []
            for n, title in enumerate(SEARCH_TITLES):
                body = (f"{title}。第{n}篇的正文提到了海关、数据和供应链。", "另一段：上海 关于 iphone 13 的 5g 消息。")
                cats = (("金融", "新浪财经"), ("新闻", "要闻"), ("科技", "9To5"))[n % 3]
                front = f"---\ntitle: {json.dumps(title, ensure_ascii=False)}\ncategories: {json.dumps(cats)}\n---\n"
                html = "".join(f"<p>{escape(p)}</p>" for p in body)
                arts.append(build_article((front + html).encode(), source=f"search-{n}", now=base,
                                          mtime=base + timedelta(days=n)))
            await store_batch(db, arts, summariser=lambda a: ([], 1))

    asyncio.run(build())
    return path


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=user_text)
async def test_search_answers_any_query_with_a_page_or_an_error(search_db, text):
    from storage.db import open_db
    from storage.search import SearchPage, matching_ids, search

    now = datetime(2024, 6, 1, tzinfo=UTC)
    async with open_db(search_db) as db:
        page = await search(db, text, limit=5, now=now)
        if isinstance(page, QueryError):
            return
        assert isinstance(page, SearchPage) and page.total >= len(page.hits)
        ids = await matching_ids(db, text, now=now)
        rows = await db.fetchall("SELECT id, title, body, category_key, published FROM articles")
    assert {h.article_id for h in page.hits} <= set(ids)
    valid_html(search_page("en", UTC, page))
    # The index agrees with the reference matcher (bot.core.query.MatchDoc) on every article.
    q = page.query
    since = int((now - q.since).timestamp()) if q.since else None
    expected = sorted(r["id"] for r in rows if MatchDoc(r["title"], r["body"], r["category_key"]).matches(q)
                      and (since is None or r["published"] >= since))
    assert ids == expected, (text, q.describe())


# ---------------------------------------------------------------- digest messages

def bounded(limit: int) -> st.SearchStrategy[str]:
    """Article text as the pipeline bounds it (titles 300 shown, authors 200, category levels 100, summary
    sentences ~320), made of anything: HTML, entities, emoji, control characters."""
    long = st.one_of(st.text(min_size=1, max_size=8), st.sampled_from(NASTY)).map(lambda s: s * limit)
    return st.one_of(st.text(max_size=40), st.sampled_from(NASTY), long).map(lambda s: s[:limit])


@st.composite
def digest_items(draw):
    n = draw(st.integers(1, 25))
    base = datetime(2024, 5, 1, tzinfo=UTC)
    items = []
    for i in range(n):
        items.append(DigestItem(
            outbox_id=1000 + i, article_id=1 + i, thread_id=draw(st.sampled_from([0, 0, 0, 7])),
            title=draw(bounded(300)) or "无题", url=draw(st.none() | st.sampled_from(
                ["https://e.org/a?x=1&y=2", "https://e.org/\"><script>", "http://例子.中国/路径"])),
            source=draw(bounded(200)), published=base + timedelta(minutes=draw(st.integers(-10**6, 10**6))),
            categories=tuple(draw(st.lists(bounded(100).filter(bool), min_size=1, max_size=3))),
            summary=tuple(draw(st.lists(bounded(320), max_size=5))),
            image_url=draw(st.none() | st.just("https://img.e.org/lead.jpg")),
            watch=draw(st.none() | bounded(256).filter(bool)),
        ))
    return items


@settings(deadline=None)
@given(items=digest_items(), lang=st.sampled_from(["zh", "en"]), mode=st.sampled_from(["instant", "digest"]),
       sentences=st.integers(1, 5), per_category=st.integers(1, 10))
def test_digest_messages_are_valid_and_carry_every_item_once(items, lang, mode, sentences, per_category):
    now = datetime(2024, 5, 2, tzinfo=UTC)
    messages = plan_messages(items, lang=lang, tz=ZoneInfo("Asia/Shanghai"), now=now, mode=mode,
                             sentences=sentences, per_category=per_category)
    outbox = [o for m in messages for o in m.outbox_ids]
    assert sorted(outbox) == sorted(i.outbox_id for i in items)  # every item accounted for, once
    shown = [a for m in messages for a in m.article_ids]
    assert len(shown) == len(set(shown))
    for m in messages:
        assert len(m.body) <= MAX_MESSAGE_CHARS
        plain, entities = parse_html(m.body)
        assert len(plain) <= MAX_MESSAGE_CHARS and len(entities) <= MAX_ENTITIES
        if m.photo_url:
            assert len(plain) <= MAX_CAPTION_CHARS
        for a in m.article_ids:
            assert f"/read_{a}" in plain  # an item is never split: its /read link is in its message
