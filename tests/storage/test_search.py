"""storage.search: recall against a brute-force scan of a synth corpus, ranking, filters, pagination
across a restart, and hostile queries. The index's upkeep is tests/storage/test_index.py."""
from __future__ import annotations

import asyncio
import collections
import random
import re
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import storage.search
from bot.core.errors import QueryError
from bot.core.query import page_callback, parse_page_callback
from bot.core.script import match_fold as fold  # the index's folding: NFKC, casefold, one Chinese script
from storage.db import open_db
from storage.search import (
    SearchPage,
    load_session,
    matching_ids,
    save_session,
    search,
)
from storage.watches import match_new_articles
from tests.storage.corpus import NOW, article, copy_db, store

CJK_CHAR = "\u4e00-\u9fff"
# Word characters for the whole-word reference: letters/digits that are not CJK (CJK is always a boundary).
NOT_WORD = rf"(?:[\W_]|[{CJK_CHAR}\u3040-\u30ff\u3400-\u4dbf])"


# ---------------------------------------------------------------- brute force


def scan_substring(rows, term: str) -> set[int]:
    """instr() over the stored, folded title and text (the brief's reference for CJK queries)."""
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, title TEXT, body TEXT)")
    conn.executemany("INSERT INTO t VALUES (?,?,?)", [(r[0], r[1], r[2]) for r in rows])
    q = fold(term)
    return {i for (i,) in conn.execute("SELECT id FROM t WHERE instr(title, ?) > 0 OR instr(body, ?) > 0", (q, q))}


def word_pattern(term: str) -> re.Pattern[str]:
    """Whole words (case-folded); CJK characters inside a term must be adjacent, words may be separated."""
    parts = re.findall(rf"[{CJK_CHAR}]+|[^\W_{CJK_CHAR}]+", fold(term))
    body = ""
    for i, part in enumerate(parts):
        if i:
            both_cjk = re.fullmatch(f"[{CJK_CHAR}]+", parts[i - 1]) and re.fullmatch(f"[{CJK_CHAR}]+", part)
            body += r"[\W_]+" if both_cjk else r"[\W_]*"
        body += re.escape(part)
    return re.compile(rf"(?:^|(?<={NOT_WORD})){body}(?=$|{NOT_WORD})" if not re.fullmatch(
        f"[{CJK_CHAR}]+", parts[0]) or len(parts) > 1 else re.escape(fold(term)))


def scan_words(rows, term: str) -> set[int]:
    pat = word_pattern(term)
    return {r[0] for r in rows if pat.search(r[1]) or pat.search(r[2])}


def pick_terms(rows) -> dict[str, list[str]]:
    """Frequent, middling and rare CJK 1–4-grams and English words, chosen from the data (deterministic)."""
    rng = random.Random(3)
    sample = rng.sample(rows, 300)
    picked: dict[str, list[str]] = {}
    for n in (1, 2, 3, 4):
        df: collections.Counter[str] = collections.Counter()
        for r in sample:
            text = r[1] + "\n" + r[2]
            df.update({m.group(1) for m in re.finditer(rf"(?=([{CJK_CHAR}]{{{n}}}))", text)})
        ranked = [t for t, _ in sorted(df.items(), key=lambda kv: (-kv[1], kv[0]))]
        picked[f"cjk{n}"] = [ranked[0], ranked[1], ranked[len(ranked) // 2], ranked[-1], ranked[-7]]
    df = collections.Counter()
    for r in sample:
        df.update(set(re.findall(r"(?<![a-z0-9])[a-z]{3,}(?![a-z0-9])", r[1] + " " + r[2])))
    ranked = [t for t, _ in sorted(df.items(), key=lambda kv: (-kv[1], kv[0]))]
    picked["english"] = [ranked[0], ranked[3], ranked[len(ranked) // 3], ranked[len(ranked) // 2], ranked[-1]]
    mixed = collections.Counter()
    for r in sample:
        mixed.update(re.findall(rf"(?<![a-z0-9])([a-z0-9]+[{CJK_CHAR}]{{2}})", r[2]))
    picked["mixed"] = [t for t, _ in mixed.most_common(3)]
    return picked


FIXED_CJK = ["海关", "疫情", "芯片", "手机", "中国", "新冠", "病毒", "的", "荔枝", "無", "发"]
FIXED_EN = ["apple", "the", "iphone", "linux", "5g", "covid"]


# ---------------------------------------------------------------- recall


async def test_chinese_recall_matches_substring_scan(corpus_db: Path, folded_corpus) -> None:
    picked = pick_terms(folded_corpus)
    terms = FIXED_CJK + [t for n in (1, 2, 3, 4) for t in picked[f"cjk{n}"]]
    assert {len(t) for t in terms} == {1, 2, 3, 4}
    async with open_db(corpus_db) as db:
        for term in terms:
            got = await matching_ids(db, term, now=NOW)
            assert set(got) == scan_substring(folded_corpus, term), term
    assert scan_substring(folded_corpus, "中国") and scan_substring(folded_corpus, picked["cjk4"][-1])


async def test_english_matches_whole_words(corpus_db: Path, folded_corpus) -> None:
    picked = pick_terms(folded_corpus)
    async with open_db(corpus_db) as db:
        substring_differs = 0
        for term in FIXED_EN + ["app", "use"] + picked["english"] + [t.upper() for t in picked["english"][:2]]:
            got = set(await matching_ids(db, term, now=NOW))
            assert got == scan_words(folded_corpus, term), term
            substring_differs += got != scan_substring(folded_corpus, term)
        assert substring_differs >= 2  # the corpus does tell whole words from substrings ("app" in "apple")


async def test_latin_mixed_into_chinese(corpus_db: Path, folded_corpus) -> None:
    picked = pick_terms(folded_corpus)["mixed"]
    assert picked
    async with open_db(corpus_db) as db:
        for term in picked:
            assert set(await matching_ids(db, term, now=NOW)) == scan_words(folded_corpus, term), term


async def test_multi_term_queries_combine_like_sets(corpus_db: Path, folded_corpus) -> None:
    async with open_db(corpus_db) as db:
        china = scan_substring(folded_corpus, "中国")
        company = scan_substring(folded_corpus, "公司")
        usa = scan_substring(folded_corpus, "美国")
        assert set(await matching_ids(db, "中国 公司", now=NOW)) == china & company
        assert set(await matching_ids(db, "中国 -美国", now=NOW)) == china - usa
        finance = {r[0] for r in folded_corpus if ("\x1f" + r[3]).find("\x1f金融\x1f") >= 0}
        assert finance
        assert set(await matching_ids(db, "中国 cat:金融", now=NOW)) == china & finance
        assert set(await matching_ids(db, "中国 -cat:金融", now=NOW)) == china - finance
        assert set(await matching_ids(db, "cat:金融 -中国", now=NOW)) == finance - china


# ---------------------------------------------------------------- small hand-made corpus


async def test_title_weighs_more_and_recency_breaks_ties(db) -> None:
    ids = await store(
        db,
        article("body-old", "无关标题", "今天海关公布数据。其他内容很多很多。", days_ago=900),
        article("title-old", "海关公布数据", "其他内容很多很多，数据不错。", days_ago=900),
        article("body-new", "另一个无关标题", "今天海关公布数据。其他内容很多很多。", days_ago=0.5),
    )
    page = await search(db, "海关", now=NOW)
    assert isinstance(page, SearchPage) and page.total == 3
    order = [h.article_id for h in page.hits]
    assert order.index(ids[2]) < order.index(ids[0])      # same text: today's beats a years-old one
    assert order.index(ids[1]) < order.index(ids[0])      # same age: title match beats text match
    newest = await search(db, "海关 sort:new", now=NOW)
    assert [h.article_id for h in newest.hits] == [ids[2], ids[1], ids[0]]  # equal times: later id first


async def test_hit_fields_and_snippet(db) -> None:
    [aid] = await store(db, article("a", "美国<芯片>法案", "开头。" * 40 + "关于芯片 & 海关的消息<b>。" + "结尾。" * 40,
                                    cats=("科技", "IT之家", "最新"), author="IT之家"))
    page = await search(db, "芯片 海关", now=NOW)
    assert isinstance(page, SearchPage)
    [hit] = page.hits
    assert (hit.article_id, hit.author, hit.categories) == (aid, "IT之家", ("科技", "IT之家", "最新"))
    assert hit.published.tzinfo is not None and hit.published == NOW - timedelta(days=1)
    assert hit.title == "美国<芯片>法案"   # plain data: rendering escapes and emphasises (bot.core.render)
    snip = hit.snippet
    assert "关于芯片 & 海关的消息<b>。" in snip.text and len(snip.text) <= 120
    assert [snip.text[s:e] for s, e in snip.marks] == ["芯片", "海关"]
    assert snip.cut_before and snip.cut_after


async def test_filters_category_since_and_exclusion(db) -> None:
    ids = await store(
        db,
        article("f", "芯片一", "内容", cats=("金融", "新浪财经", "快讯"), days_ago=2),
        article("t", "芯片二", "内容 美国", cats=("科技", "IT之家", "最新"), days_ago=20),
        article("e", "Chip three", "芯片", cats=("Tech", "The Verge", "Latest"), days_ago=400),
    )

    async def hits(q: str) -> list[int]:
        page = await search(db, q, limit=10, now=NOW)
        assert isinstance(page, SearchPage), page
        return sorted(h.article_id for h in page.hits)

    assert await hits("芯片") == sorted(ids)
    assert await hits("芯片 cat:新浪财经") == [ids[0]]            # any level
    assert await hits("芯片 cat:金融/新浪财经") == [ids[0]]
    assert await hits("芯片 cat:科技 cat:tech") == sorted(ids[1:])  # several cat: are alternatives
    assert await hits("芯片 cat:财经") == []                        # whole components only
    assert await hits("芯片 -cat:金融") == sorted(ids[1:])
    assert await hits("芯片 since:7d") == [ids[0]]
    assert await hits("芯片 since:3w") == sorted(ids[:2])
    assert await hits("芯片 -美国") == [ids[0], ids[2]]
    assert await hits("cat:tech") == [ids[2]]
    assert await hits("since:12h") == []
    assert isinstance(await search(db, "", now=NOW), QueryError)


async def test_pagination_survives_restart(db_path: Path) -> None:
    async with open_db(db_path) as db:
        await store(db, *[article(f"p{i}", f"海关第{i}号", f"海关消息{i}", days_ago=i) for i in range(12)])
        first = await search(db, "海关", limit=5, offset=0, now=NOW)
        second = await search(db, "海关", limit=5, offset=5, now=NOW)
        third = await search(db, "海关", limit=5, offset=10, now=NOW)
        session = await save_session(db, chat_id=42, query="海关", now=NOW)
        assert await save_session(db, chat_id=42, query="海关", now=NOW) == session  # same query, same row
        data = page_callback(session, 1)
    assert isinstance(first, SearchPage) and isinstance(second, SearchPage) and isinstance(third, SearchPage)
    assert (first.total, first.pages, first.has_previous, first.has_more) == (12, 3, False, True)
    assert (third.has_more, third.has_previous, len(third.hits)) == (False, True, 2)
    seen = [h.article_id for p in (first, second, third) for h in p.hits]
    assert len(seen) == len(set(seen)) == 12

    async with open_db(db_path) as db:  # a restart: only the callback data survived
        session_id, page_no = parse_page_callback(data)
        assert await load_session(db, session_id, chat_id=-100999) is None   # another chat: forged
        restored = await load_session(db, session_id, chat_id=42)
        assert restored is not None and restored.query == "海关"
        again = await search(db, restored.query, limit=5, offset=page_no * 5, now=NOW)
    assert isinstance(again, SearchPage)
    assert [h.article_id for h in again.hits] == [h.article_id for h in second.hits]


async def test_sessions_expire(db) -> None:
    old = await save_session(db, 1, "旧", now=NOW - timedelta(days=40))
    await save_session(db, 1, "新", now=NOW)
    assert await load_session(db, old, 1) is None


# ---------------------------------------------------------------- hostile input

HOSTILE = [
    '"', '""', '"a', 'a"b', "NEAR(a b)", "a OR b", "a AND NOT b", "* ^ : ( )", "'; DROP TABLE articles; --",
    "title:海关", "body:x", "{title body}: x", "😀", "\x00", "-", "--", '-"', "cat:", 'cat:"', "since:", "sort:",
    "\ue000", "海\ue000关", "a" * 500, "中" * 500, "的 " * 250, "x:y:z", "-cat:金融 -中国", "\\", "%", "_", "NEAR",
    "AND", "OR", "NOT", "^海关", "海关*", "(海关)", "海关 OR 疫情", "\u200b", "\ufeff海关",
]


@pytest.mark.parametrize("text", HOSTILE)
async def test_hostile_queries_are_values(corpus_db: Path, text: str) -> None:
    async with open_db(corpus_db) as db:
        result = await search(db, text, now=NOW)
    assert isinstance(result, (SearchPage, QueryError))


@given(st.text(max_size=300) | st.text(st.sampled_from(list('海关中国"*^:()- cat:since:sort:NEAR OR AND 😀\ue000')),
                                       max_size=120))
@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_text_never_raises_nor_errors_in_sql(corpus_db: Path, text: str) -> None:
    async def run() -> object:
        async with open_db(corpus_db) as db:
            return await search(db, text, limit=3, offset=3, now=NOW)

    result = asyncio.run(run())
    assert isinstance(result, (SearchPage, QueryError))


# ---------------------------------------------------------------- watches agree with search


async def test_watch_matching_agrees_with_search(corpus_db: Path, tmp_path: Path, folded_corpus) -> None:
    queries = ["中国", "海关", "中国 公司", "中国 -美国", '"root hash"', "apple", "cat:金融 病例", "荔枝 -cat:金融",
               "5g", "无症状 感染者", "的"]
    path = copy_db(corpus_db, tmp_path / "watch.sqlite3")
    async with open_db(path) as db:
        await db.write("INSERT INTO chats (id, type, timezone, created_at, updated_at) VALUES (1, 'private', 'UTC', 0, 0)")
        watch_ids = {}
        for q in queries:
            watch_ids[await db.write("INSERT INTO watches (chat_id, query, created_at) VALUES (1, ?, 0)", (q,))] = q
        ids = [r[0] for r in folded_corpus]
        matches = await match_new_articles(db, ids)
        by_watch: dict[int, set[int]] = collections.defaultdict(set)
        for m in matches:
            by_watch[m.watch_id].add(m.article_id)
        for wid, q in watch_ids.items():
            assert by_watch[wid] == set(await matching_ids(db, q, now=NOW)), q


# ---------------------------------------------------------------- large results: time windows


async def published_of(db, ids) -> dict[int, int]:
    rows = await db.fetchall(f"SELECT id, published FROM articles WHERE id IN ({','.join(map(str, ids))})")
    return {r[0]: r[1] for r in rows}


async def test_windows_page_newest_first_exactly(corpus_db: Path, monkeypatch) -> None:
    monkeypatch.setattr(storage.search, "COUNT_CAP", 20)
    monkeypatch.setattr(storage.search, "RANK_POOL", 40)
    async with open_db(corpus_db) as db:
        for q in ["中国 sort:new", "荔枝 -中国 sort:new", "cat:金融", "的 sort:new", "中 企业 sort:new", "apple sort:new"]:
            ids = await matching_ids(db, q.replace(" sort:new", ""), now=NOW)
            pub = await published_of(db, ids)
            expected = sorted(ids, key=lambda i: (pub[i], i), reverse=True)
            got: list[int] = []
            for offset in (0, 5, 10, 95):
                page = await search(db, q, limit=5, offset=offset, now=NOW)
                assert isinstance(page, SearchPage), q
                assert page.total == len(ids) if page.total_exact else page.total > 20, q
                assert [h.article_id for h in page.hits] == expected[offset:offset + 5], (q, offset)
                got += [h.article_id for h in page.hits]
            assert len(ids) > 20, q  # the window path was taken


async def test_windows_rank_among_the_newest(corpus_db: Path, monkeypatch) -> None:
    monkeypatch.setattr(storage.search, "COUNT_CAP", 20)
    monkeypatch.setattr(storage.search, "RANK_POOL", 40)
    async with open_db(corpus_db) as db:
        for q in ["中国", "无症状 感染者", "的", "apple"]:
            ids = set(await matching_ids(db, q, now=NOW))
            pages = [await search(db, q, limit=5, offset=o, now=NOW) for o in (0, 5, 10)]
            hits = [h for p in pages for h in p.hits]
            assert all(isinstance(p, SearchPage) and not p.total_exact and p.total > 20 for p in pages), q
            assert len({h.article_id for h in hits}) == 15 and {h.article_id for h in hits} <= ids
            assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
            assert 40 <= pages[0].ranked_among < len(ids)
            pub = await published_of(db, ids)
            newest = sorted(pub.values(), reverse=True)
            # every hit comes from the newest window, which holds at least RANK_POOL matches
            assert min(h.published.timestamp() for h in hits) >= newest[-1]
            window_start = min(h.published.timestamp() for h in hits)
            assert sum(1 for t in newest if t >= window_start - 3600) >= 5


async def test_since_matches_published_filter(corpus_db: Path, folded_corpus, monkeypatch) -> None:
    async with open_db(corpus_db) as db:
        rows = await db.fetchall("SELECT id, published FROM articles")
        newest = max(r[1] for r in rows)
        now = datetime.fromtimestamp(newest + 1234, tz=timezone.utc)  # not on an hour
        china = scan_substring(folded_corpus, "中国")
        for since, seconds in (("36h", 36 * 3600), ("30d", 30 * 86400), ("1y", 365 * 86400)):
            recent = {r[0] for r in rows if r[1] >= now.timestamp() - seconds}
            assert set(await matching_ids(db, f"中国 since:{since}", now=now)) == china & recent
            page = await search(db, f"中国 since:{since}", now=now)
            assert isinstance(page, SearchPage) and page.total == len(china & recent), since
            assert set(await matching_ids(db, f"cat:金融 since:{since}", now=now)) <= recent
        monkeypatch.setattr(storage.search, "COUNT_CAP", 10)
        monkeypatch.setattr(storage.search, "RANK_POOL", 10)
        page = await search(db, "中国 since:1y sort:new", now=now)
        pub = await published_of(db, china)
        assert [h.article_id for h in page.hits] == sorted(
            (i for i in china if pub[i] >= now.timestamp() - 365 * 86400), key=lambda i: (pub[i], i), reverse=True)[:5]


async def test_a_forged_page_costs_no_more_than_a_real_one(corpus_db: Path, monkeypatch) -> None:
    """Callback data can name any page (up to 999,999): one past the total must not widen the windows to
    the whole index. Work is counted in SQLite virtual-machine steps, which do not depend on the machine."""
    monkeypatch.setattr(storage.search, "COUNT_CAP", 20)
    monkeypatch.setattr(storage.search, "RANK_POOL", 40)
    async with open_db(corpus_db) as db:
        steps = [0]

        def count() -> int:
            steps[0] += 1
            return 0  # 0: carry on

        await db.conn.set_progress_handler(count, 100)
        for q in ["中国", "的 sort:new"]:
            steps[0] = 0
            real = await search(db, q, limit=5, offset=0, now=NOW)
            real_cost = steps[0]
            steps[0] = 0
            forged = await search(db, q, limit=5, offset=999_999 * 5, now=NOW)
            assert isinstance(real, SearchPage) and isinstance(forged, SearchPage) and real.hits, q
            assert forged.hits == () and steps[0] <= real_cost, (q, steps[0], real_cost)
        await db.conn.set_progress_handler(None, 100)
