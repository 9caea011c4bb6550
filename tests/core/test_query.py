"""bot.core.query (tokens, query language, in-Python matching, callback data) and bot.core.snippet."""
from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.query import (
    BARRIER,
    MAX_QUERY_CHARS,
    MAX_TERMS,
    SORT_NEW,
    MatchDoc,
    ParsedQuery,
    Phrase,
    QueryError,
    QueryMatcher,
    category_tokens,
    cover_tokens,
    fts_chars,
    fts_phrase_tokens,
    fts_text,
    page_callback,
    parse_page_callback,
    parse_query,
    parse_watch_query,
    split_term,
    time_tokens,
    token_spans,
    token_text,
    tokens,
)
from bot.core.render import highlight_html, snippet_html
from bot.core.script import match_fold as fold  # the index's folding: NFKC, casefold, one Chinese script
from bot.core.snippet import find_matches, make_snippet

# Text generators that hit the interesting characters: CJK, kana, full-width forms, FTS5 syntax, quotes.
ALPHABET = st.sampled_from(list(
    "海关疫情芯片中国的手机アイうえ한국ＡＢＣ１２abcXYZ019 \t\n　，。、・「」“”\"'*^:()-_+/›>{}[]\\;%"
    "\ue000\u0301é😀\x00\x1f"
)) | st.characters()
TEXT = st.text(ALPHABET, max_size=80)


# ---------------------------------------------------------------- tokens


@pytest.mark.parametrize("text, expected", [
    ("海关", "海 关"),
    ("上海，关于", f"上 海 {BARRIER} 关 于"),                 # punctuation between CJK keeps them apart
    ("上海 关于", f"上 海 {BARRIER} 关 于"),
    ("5G手机", "5g 手 机"),                                  # digits/Latin mixed into Chinese
    ("用iPhone13买", "用 iphone13 买"),
    ("ＡＢＣ１２３", "abc123"),                                # NFKC: full-width letters and digits
    ("Hello, World!", "hello world"),
    ("snake_case C++", "snake case c"),
    ("「君の名は」です", f"君 の 名 は {BARRIER} で す"),
    ("a・ 关", "a 关"),
    (f"x{BARRIER}y", "x y"),                                 # the text's own private-use characters are dropped
    ("", ""),
    ("😀 *** ", ""),
])
def test_token_text(text: str, expected: str) -> None:
    assert token_text(text) == expected


@given(TEXT)
@settings(deadline=None)
def test_token_spans_agree_with_index_text(text: str) -> None:
    folded = fold(text)
    spans = token_spans(folded)
    assert [t for t, _, _ in spans] == tokens(text)
    for tok, s, e in spans:
        if tok != BARRIER:
            assert folded[s:e] == tok


@given(TEXT)
@settings(deadline=None)
def test_index_tokens_are_single_unicode61_tokens(text: str) -> None:
    """Each Python token is exactly one FTS5 token, so phrase positions agree between the two."""
    toks = tokens(text)
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5(x, tokenize='unicode61 remove_diacritics 0')")
    conn.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')")
    conn.execute("INSERT INTO t (rowid, x) VALUES (1, ?)", (" ".join(toks),))
    assert conn.execute("SELECT count(*) FROM v").fetchone()[0] == len(toks)


# ---------------------------------------------------------------- parsing


def ok(text: str) -> ParsedQuery:
    parsed = parse_query(text)
    assert isinstance(parsed, ParsedQuery), parsed
    return parsed


def test_words_are_anded_and_phrases_kept() -> None:
    q = ok('海关 疫情 "supply chain"')
    assert [p.tokens for p in q.include] == [("海", "关"), ("疫", "情"), ("supply", "chain")]
    assert [p.fts() for p in q.include] == ['"海关"', '"疫情"', '"supply chain"']


def test_exclusions_and_filters() -> None:
    q = ok('芯片 -美国 -"trade war" cat:金融/新浪财经 -cat:微博 since:7d sort:new')
    assert [[p.text for p in g] for g in q.exclude] == [["美国"], ["trade war"]]
    assert q.categories == ("金融\x1f新浪财经",)
    assert q.exclude_categories == ("微博",)
    assert q.since == timedelta(days=7)
    assert q.sort == SORT_NEW
    assert q.describe() == '芯片 -美国 -"trade war" cat:金融/新浪财经 -cat:微博 since:7d sort:new'


@pytest.mark.parametrize("value, delta", [
    ("12h", timedelta(hours=12)), ("7d", timedelta(days=7)), ("2w", timedelta(weeks=2)),
    ("3m", timedelta(days=90)), ("1y", timedelta(days=365)), ("７Ｄ", timedelta(days=7)),
])
def test_since_units(value: str, delta: timedelta) -> None:
    assert ok(f"x since:{value}").since == delta


def test_full_width_and_chinese_punctuation_in_syntax() -> None:
    assert ok("cat：金融 ＡＢＣ").categories == ("金融",)
    assert ok("“海关 疫情”").include[0].tokens == ("海", "关", BARRIER, "疫", "情")
    assert ok("－美国 中国").exclude[0][0].text == "美国"
    assert ok('cat:"hacker news" x').categories == ("hacker news",)


def test_filter_only_queries_and_quoted_filters_are_text() -> None:
    assert ok("cat:金融").include == ()
    q = ok('"cat:金融"')
    assert q.categories == () and q.include[0].tokens == ("cat", "金", "融")


@pytest.mark.parametrize("text, reason", [
    ("", "empty"), ("   \n\t　", "empty"), ("😀 🎉", "no_terms"), ("***", "no_terms"), ("-美国", "no_terms"),
    ("x" * (MAX_QUERY_CHARS + 1), "too_long"), (" ".join(f"w{i}" for i in range(MAX_TERMS + 1)), "too_many_terms"),
    ("的" * 65, "too_long"), ("x since:7", "bad_since"), ("x since:0d", "bad_since"), ("x since:abc", "bad_since"),
    ("x sort:sideways", "bad_sort"), ("x cat:", "bad_category"), ("x cat:///", "bad_category"),
    ("x -since:7d", "bad_filter"), ("x -sort:new", "bad_filter"),
])
def test_errors_are_values(text: str, reason: str) -> None:
    err = parse_query(text)
    assert isinstance(err, QueryError) and err.reason == reason


@pytest.mark.parametrize("text, words", [
    ('NEAR(a b) OR c AND d', [("near", "a"), ("b",), ("or",), ("c",), ("and",), ("d",)]),
    ("title:foo body : bar", [("title", "foo"), ("body",), ("bar",)]),
    ("'; DROP TABLE articles; --", [("drop",), ("table",), ("articles",)]),
    ('a"b c', [("a", "b", "c")]),
    ('"unclosed phrase', [("unclosed", "phrase")]),
    ("x* ^y {z}", [("x",), ("y",), ("z",)]),
])
def test_fts5_syntax_is_literal_text(text: str, words: list[tuple[str, ...]]) -> None:
    assert [p.tokens for p in ok(text).include] == words


def test_ignored_terms_are_reported() -> None:
    q = ok("海关 😀 ***")
    assert q.ignored == ("😀", "***") and len(q.include) == 1


def test_lone_cjk_characters_inside_a_word_stand_alone() -> None:
    assert [p.tokens for p in ok("机5g").include] == [("5g",), ("机",)]
    assert [p.tokens for p in ok("5g手机").include] == [("5g", "手", "机")]
    assert [p.tokens for p in ok('"海，关于"').include] == [("关", "于"), ("海",)]
    assert [[p.tokens for p in g] for g in ok("x -a机b").exclude] == [[("a",), ("b",), ("机",)]]
    assert split_term(["机"]) == [Phrase(("机",))]


@given(st.text(ALPHABET, max_size=600))
@settings(deadline=None)
def test_any_text_parses_to_a_value_and_valid_fts5(text: str) -> None:
    from storage.search import _plan, _source

    parsed = parse_query(text)
    assert isinstance(parsed, (ParsedQuery, QueryError))
    if isinstance(parsed, ParsedQuery):
        conn = search_db()
        sql, params = _source(_plan(parsed, cover_tokens(0, 7200)), join=False)
        conn.execute(f"SELECT count(*) {sql}", params).fetchone()


def search_db() -> sqlite3.Connection:
    """An empty database with the real schema (all migrations) and the search functions."""
    from storage.db import _statements, migrations
    from storage.index import register_functions_sync

    conn = sqlite3.connect(":memory:")
    register_functions_sync(conn)
    for mig in migrations():
        for statement in _statements(mig.sql):
            conn.execute(statement)
    return conn


def test_watch_queries_refuse_since() -> None:
    assert parse_watch_query("海关 since:7d") == QueryError("since_in_watch")
    assert isinstance(parse_watch_query("海关 sort:new"), ParsedQuery)


# ---------------------------------------------------------------- matching in Python


def test_match_doc_semantics() -> None:
    doc = MatchDoc("上海海关查获芯片", "Apple's new iPhone13 ships. 上海，关于疫情", "金融\x1f新浪财经\x1f")
    assert doc.matches(ok("海关"))
    assert doc.matches(ok("海关 芯片 iphone13 cat:新浪财经"))
    assert not doc.matches(ok("海关疫情"))                   # not a substring
    assert not doc.matches(ok("iphone"))                     # whole words only
    assert not doc.matches(ok("海关 -疫情"))
    assert not doc.matches(ok("海关 cat:科技"))
    assert not doc.matches(ok("海关 -cat:金融"))
    assert doc.matches(ok('"apple s new"'))
    assert not doc.matches(ok('"上海关于"'))                  # the comma between stays a barrier
    assert doc.matches(ok("上海，关于"))


def test_query_matcher_finds_exactly_what_full_evaluation_finds() -> None:
    queries = ["海关", "海关 芯片", "芯片 -疫情", "iphone13", "cat:金融", '"上海 关于"', "apple", "ships -apple", "不存在"]
    matcher = QueryMatcher.build([(q, ok(q)) for q in queries])
    docs = [
        MatchDoc("上海海关查获芯片", "Apple's new iPhone13 ships. 上海，关于疫情", "金融\x1f"),
        MatchDoc("芯片", "ships", "科技\x1f"),
        MatchDoc("", "", "金融\x1f新浪财经\x1f"),
    ]
    for doc in docs:
        assert sorted(matcher.match(doc)) == sorted(q for q in queries if doc.matches(ok(q)))


# ---------------------------------------------------------------- snippets


def test_snippet_window_bold_and_escaping() -> None:
    text = "开头" * 60 + "关于<海关>&芯片的报道，" + "结尾" * 60
    snip = make_snippet(text, [("海", "关"), ("芯", "片")], width=40)
    assert snip.cut_before and snip.cut_after
    html = snippet_html(snip)
    assert "&lt;<b>海关</b>&gt;&amp;<b>芯片</b>" in html
    assert html.startswith("…") and html.endswith("…")
    assert len(snip.text) <= 40


def test_snippet_maps_folded_matches_back_to_original_characters() -> None:
    assert highlight_html("ＡＰＰＬＥ推出5Ｇ手机", [("apple",), ("5g", "手", "机")]) == "<b>ＡＰＰＬＥ</b>推出<b>5Ｇ手机</b>"
    assert find_matches("Apples and apple.", [("apple",)]) == [(11, 16)]


def test_snippet_without_match_is_the_start() -> None:
    snip = make_snippet("第一段\n第二段" + "字" * 200, [("海", "关")], width=20)
    assert snip.text.startswith("第一段 第二段") and not snip.marks and not snip.cut_before


# ---------------------------------------------------------------- callback data


def test_page_callback_round_trip_and_forgery() -> None:
    data = page_callback(123456789012, 42)
    assert len(data.encode()) <= 64
    assert parse_page_callback(data) == (123456789012, 42)
    for junk in ["", "search:", "search:1", "search:x:1", "search:1:-1", "other:1:2", "search:1:2:3", None]:
        assert parse_page_callback(junk) is None  # type: ignore[arg-type]


# ---------------------------------------------------------------- the stored form


@pytest.mark.parametrize("text, expected", [
    ("海关", "海关"),
    ("上海海关", "上海 海海 海关"),
    ("上海，关于", "上海 关于"),
    ("上海，海关", f"上海 {BARRIER} 海关"),   # equal facing characters: a barrier keeps "上海关" from matching
    ("的，5G手机", "的 5g 手机"),
    ("ＡＢＣ１２３ 海", "abc123 海"),
    ("", ""),
])
def test_fts_text(text: str, expected: str) -> None:
    assert fts_text(text) == expected


@given(TEXT)
@settings(deadline=None)
def test_fts_text_is_the_phrase_translation_of_the_token_stream(text: str) -> None:
    assert fts_text(text).split() == fts_phrase_tokens(tokens(text))


def test_fts_chars_and_meta_tokens() -> None:
    assert fts_chars("中国，中国", "ＡＢ日本") == "中 国 日 本"
    assert len(category_tokens("金融\x1f新浪财经\x1f快讯\x1f")) == 6  # every contiguous sub-path
    assert time_tokens(1704067200 + 3600 * 5) == ["y2024", "m202401", "d20240101", "h2024010105"]


def _hours(tokens_: list[str]) -> set[str]:
    """Expand cover tokens to the hours they stand for."""
    from datetime import datetime, timedelta, timezone

    out: set[str] = set()
    for tok in tokens_:
        kind, digits = tok[0], tok[1:]
        fmt = {"y": "%Y", "m": "%Y%m", "d": "%Y%m%d", "h": "%Y%m%d%H"}[kind]
        t = datetime.strptime(digits, fmt).replace(tzinfo=timezone.utc)
        while t.strftime(fmt) == digits:
            out.add(t.strftime("%Y%m%d%H"))
            t += timedelta(hours=1)
    return out


@given(st.integers(1_500_000_000, 1_800_000_000), st.integers(0, 3 * 365 * 86400))
@settings(deadline=None)
def test_cover_tokens_are_exactly_the_hours(start: int, length: int) -> None:
    from datetime import datetime, timedelta, timezone

    toks = cover_tokens(start, start + length)
    assert len(toks) <= 2 * (23 + 30 + 11) + length // (365 * 86400) + 2
    t = datetime.fromtimestamp(start - start % 3600, tz=timezone.utc)
    end = datetime.fromtimestamp(start + length, tz=timezone.utc)
    expected = set()
    while t <= end:
        expected.add(t.strftime("%Y%m%d%H"))
        t += timedelta(hours=1)
    assert _hours(toks) == expected


# ---------------------------------------------------------------- the index agrees with MatchDoc

DOC_TEXT = st.text(st.sampled_from(list("海关上中国的人，。 ab5gX") ), max_size=30)
QUERY_TERM = st.text(st.sampled_from(list("海关上中国的人， ab5gX-\"")), min_size=1, max_size=8)


@given(st.lists(st.tuples(DOC_TEXT, DOC_TEXT), min_size=1, max_size=8), st.lists(QUERY_TERM, min_size=1, max_size=3))
@settings(deadline=None)
def test_index_and_python_matching_agree(docs: list[tuple[str, str]], terms: list[str]) -> None:
    """Random small texts and queries: the FTS5 plan finds exactly what MatchDoc (the token-stream
    definition) finds — bigrams, barriers, one-character queries and exclusions included."""
    from storage.search import _plan, _source

    parsed = parse_query(" ".join(terms))
    if not isinstance(parsed, ParsedQuery):
        return
    from storage.index import index_article

    conn = search_db()
    for i, (title, body) in enumerate(docs, start=1):
        conn.execute(
            "INSERT INTO articles (id, uid, source, title, categories, category_key, published, ingested, body, "
            "language, content_hash, story_key) VALUES (?, ?, 's', ?, '[]', 'x\x1f', 0, 0, ?, 'zh', 'h', 'k')",
            (i, f"u{i}", title, body),
        )
        index_article(conn, i, title, body, "x\x1f", 0)
    sql, params = _source(_plan(parsed, None), join=False)
    got = {r[0] for r in conn.execute(f"SELECT f.rowid {sql}", params)}
    want = {i for i, (t, b) in enumerate(docs, start=1) if MatchDoc(t, b, "x\x1f").matches(parsed)}
    assert got == want, (parsed.describe(), docs)


@given(TEXT, st.text(ALPHABET, min_size=1, max_size=8))
@settings(deadline=None)
def test_snippet_regex_agrees_with_tokens(text: str, term: str) -> None:
    """bot.core.snippet finds a phrase exactly where the token stream has it (what the index matches)."""
    from bot.core.query import phrase_pattern

    toks = tuple(tokens(term))
    if not toks:
        return
    folded = fold(text)
    spans = token_spans(folded)
    stream = [t for t, _, _ in spans]
    want = [(spans[i][1], spans[i + len(toks) - 1][2]) for i in range(len(stream) - len(toks) + 1)
            if tuple(stream[i:i + len(toks)]) == toks]
    got = [m.span() for m in phrase_pattern(toks).finditer(folded)]
    assert {s for s, _ in got} <= {s for s, _ in want} and (bool(got) == bool(want))


def test_snippet_maps_length_changing_folds() -> None:
    assert highlight_html("Die Straße, ﬁnal & Ｘ", [("strasse",), ("final",)]) == "Die <b>Straße</b>, <b>ﬁnal</b> &amp; Ｘ"
