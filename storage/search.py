"""Full-text search over stored articles: ranked and paged queries, and the search sessions that let
Next/Previous buttons survive a restart. Results are plain data; bot.core.render makes them messages.
The index itself (what goes in, its triggers, rebuilding it) is storage.index.

How a page is found, so that a query matching most of 100k articles stays fast:
- matches are counted in the index alone (category and since: filters are index tokens too), newest
  ids first and only up to COUNT_CAP; past that the total is an estimate from the match density;
- up to COUNT_CAP matches, every one is scored: bm25 (title × TITLE_WEIGHT) × recency;
- more, and only the newest are: a suffix of time (whole hours, days, months or years of the index's
  time tokens, found without reading article rows) holding at least RANK_POOL matches, scored by
  whether the words are in the title × recency. bm25 is not used there: FTS5 computes its IDF by
  reading every match of every phrase in the whole index, tens of milliseconds per common word at
  100k articles (and clamps it to ~0 for words in most articles anyway).
`sort:new` pages through the same windows and is exact: a window holds every match newer than its
start. Measured by bench/search.py.

    page = await search(db, "海关 -疫情 cat:金融", limit=5, offset=0, now=datetime.now(timezone.utc))
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import aiosqlite

from bot.core.errors import QueryError
from bot.core.query import (
    SORT_NEW,
    ParsedQuery,
    Phrase,
    category_path_token,
    cover_tokens,
    parse_query,
    phrase_tokens,
    suffix_cover,
)
from bot.core.snippet import Snippet, make_snippet
from storage.db import Database

TITLE_WEIGHT = 4.0      # bm25 column weights: a match in the title counts four times one in the text
BODY_WEIGHT = 1.0
RECENCY_DAYS = 30.0     # relevance × (FLOOR + 1/(1 + age/RECENCY_DAYS)): today ×1.25, a month ×0.75,
RECENCY_FLOOR = 0.25    # a year ×0.33, three years ×0.28 — recent wins among similar relevance
COUNT_CAP = 1000        # up to this many matches: exact total, bm25 over every one
RANK_POOL = 300         # more: the newest ≥ this many are ranked (60 pages of 5)
WINDOW_TOKENS = 40      # time tokens a window may OR together (no bm25 there: finer is cheap)
SESSION_TTL = timedelta(days=30)
MAX_LIMIT = 50

_CONTENT = "{title body}"
_META = "{meta}"


# ---------------------------------------------------------------- query plans


def _and(parts: list[str]) -> str:
    return " AND ".join(f"({p})" for p in parts)


def _or(parts: list[str]) -> str:
    return " OR ".join(f"({p})" for p in parts)


def _not(positive: list[str], negative: list[str]) -> str:
    expr = _and(positive)
    return f"({expr}) NOT ({_or(negative)})" if negative else expr


@dataclass
class _Plan:
    """SQL for one parsed query, optionally restricted to some time tokens.

    `driver` is the FTS table the rows come from (alias f), `match` its MATCH expression and `where`
    further conditions on f.rowid (one-character words and exclusions that the driver cannot express).
    """

    driver: str
    match: str
    where: list[str] = field(default_factory=list)
    params: list[object] = field(default_factory=list)
    relevance: str = "none"          # "bm25" | "title_chars" | "none"
    title_chars: list[str] = field(default_factory=list)


def _plan(q: ParsedQuery, hours: list[str] | None) -> _Plan:
    """The plan, restricted to articles carrying one of the time tokens `hours` unless None."""
    main = [p for p in q.include if not p.is_char]
    chars = [p for p in q.include if p.is_char]
    meta_pos: list[str] = []
    if q.categories:
        meta_pos.append(" OR ".join(category_path_token(c) for c in q.categories))
    if hours is not None:
        meta_pos.append(" OR ".join(hours))
    meta_neg = [category_path_token(c) for c in q.exclude_categories]
    main_groups = [g for g in q.exclude if not any(p.is_char for p in g)]
    char_groups = [g for g in q.exclude if all(p.is_char for p in g)]
    mixed_groups = [g for g in q.exclude if g not in main_groups and g not in char_groups]
    where: list[str] = []
    params: list[object] = []

    def content(phrases: list[Phrase]) -> str:
        return f"{_CONTENT} : ({_and([p.fts() for p in phrases])})"

    def chars_expr(phrases: list[Phrase]) -> str:
        return _and([p.fts() for p in phrases])

    for g in mixed_groups:
        gm = [p for p in g if not p.is_char]
        gc = [p for p in g if p.is_char]
        where.append("NOT (f.rowid IN (SELECT rowid FROM articles_chars WHERE articles_chars MATCH ?) "
                     "AND f.rowid IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?))")
        params += [chars_expr(gc), content(gm)]

    if main or not chars:  # articles_fts drives: words, or only filters
        positive = ([content(main)] if main else []) + [f"{_META} : ({m})" for m in meta_pos]
        negative = [content(list(g)) for g in main_groups] + [f"{_META} : {t}" for t in meta_neg]
        if chars:
            where.append("f.rowid IN (SELECT rowid FROM articles_chars WHERE articles_chars MATCH ?)")
            params.append(_and([chars_expr(chars), *meta_pos]))
        for g in char_groups:
            where.append("f.rowid NOT IN (SELECT rowid FROM articles_chars WHERE articles_chars MATCH ?)")
            params.append(chars_expr(list(g)))
        return _Plan("articles_fts", _not(positive, negative), where, params, "bm25" if main else "none")

    # Only one-character words: articles_chars drives (no positions, no bm25: a title bonus instead).
    positive = [chars_expr(chars)] + meta_pos
    negative = [chars_expr(list(g)) for g in char_groups] + meta_neg
    for g in main_groups:
        where.append("f.rowid NOT IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?)")
        params.append(content(list(g)))
    return _Plan("articles_chars", _not(positive, negative), where, params, "title_chars",
                 [p.tokens[0] for p in chars])


def _source(plan: _Plan, *, join: bool) -> tuple[str, list[object]]:
    sql = f"FROM {plan.driver} f " + ("JOIN articles a ON a.id = f.rowid " if join else "")
    sql += f"WHERE {plan.driver} MATCH ?" + "".join(" AND " + w for w in plan.where)
    return sql, [plan.match, *plan.params]


async def _count(db: Database, plan: _Plan) -> int:
    sql, params = _source(plan, join=False)
    row = await db.fetchone(f"SELECT count(*) {sql}", params)
    return int(row[0]) if row else 0


# ---------------------------------------------------------------- search


@dataclass(frozen=True, slots=True)
class SearchHit:
    article_id: int
    title: str
    author: str                      # the source's name, e.g. 新浪财经
    categories: tuple[str, ...]
    published: datetime              # aware UTC
    url: str | None
    snippet: Snippet                 # around the first match in the text
    score: float                     # higher is better (0 for sort:new)


@dataclass(frozen=True, slots=True)
class SearchPage:
    query: ParsedQuery
    hits: tuple[SearchHit, ...]
    total: int                       # matches over all pages
    offset: int
    limit: int
    ranked_among: int = 0            # best-first pages of a large result: how many newest matches were scored
    total_exact: bool = True         # False: `total` is an estimate (more than COUNT_CAP matches)

    @property
    def has_more(self) -> bool:
        return self.offset + len(self.hits) < self.total

    @property
    def has_previous(self) -> bool:
        return self.offset > 0

    @property
    def page(self) -> int:
        """0-based page number (what `bot.core.query.page_callback` carries)."""
        return self.offset // self.limit

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.limit))


async def _newest(db: Database, now: datetime) -> int:
    row = await db.fetchone("SELECT max(published) FROM articles")
    newest = int(row[0]) if row and row[0] is not None else 0
    return max(newest, int(now.timestamp()))


@dataclass(frozen=True, slots=True)
class _Count:
    total: int          # exact, or estimated when not `exact`
    exact: bool
    density: float      # matches per article id, among the newest matches


async def _probe(db: Database, q: ParsedQuery, since_ts: int | None, newest: int) -> _Count:
    """Count matches up to COUNT_CAP exactly (newest ids first, so a broad query stops early); past
    that, estimate the total from how densely the newest ids match."""
    plan = _plan(q, cover_tokens(since_ts, newest) if since_ts is not None else None)
    sql, params = _source(plan, join=False)
    row = await db.fetchone(
        f"SELECT count(*), min(r), max(r) FROM (SELECT f.rowid AS r {sql} ORDER BY f.rowid DESC LIMIT ?)",
        [*params, COUNT_CAP + 1],
    )
    n = int(row[0]) if row else 0
    if row is None or n <= COUNT_CAP:
        if since_ts is not None and since_ts % 3600 and n:  # the first hour counted whole: take off its early ones
            sql, params = _source(_plan(q, cover_tokens(since_ts, since_ts)), join=True)
            early = await db.fetchone(f"SELECT count(*) {sql} AND a.published < ?", [*params, since_ts])
            n -= int(early[0]) if early else 0
        return _Count(n, True, 1.0)
    low, high = int(row[1]), int(row[2])
    density = n / max(1, high - low + 1)
    if since_ts is not None:
        row = await db.fetchone("SELECT count(*) FROM articles WHERE published >= ?", (since_ts,))
    else:
        row = await db.fetchone("SELECT seq FROM sqlite_sequence WHERE name = 'articles'")
    population = int(row[0]) if row and row[0] is not None else n
    return _Count(max(n, round(density * population)), False, density)


def _bucket_start(token: str) -> int:
    fmt = {"y": "%Y", "m": "%Y%m", "d": "%Y%m%d", "h": "%Y%m%d%H"}[token[0]]
    return int(datetime.strptime(token[1:], fmt).replace(tzinfo=timezone.utc).timestamp())


def _presence(q: ParsedQuery) -> tuple[str, list[object]]:
    """Relevance without bm25 (whose IDF pass reads every match in the index): 1, plus up to
    TITLE_WEIGHT - 1 for the share of the words that appear in the title (a substring test: a
    ranking signal, not a match)."""
    if not q.include:
        return "1.0", []
    tests = " + ".join("(instr(lower(a.title), ?) > 0)" for _ in q.include)
    return f"(1.0 + {TITLE_WEIGHT - 1.0} * ({tests}) / {float(len(q.include))})", [p.text for p in q.include]


async def search(
    db: Database, query: str | ParsedQuery, *, limit: int = 5, offset: int = 0, now: datetime
) -> SearchPage | QueryError:
    """One page of matches, best first (or newest first with sort:new), with the total count.

    Up to COUNT_CAP matches: the total is exact and best first is bm25 (title weighted TITLE_WEIGHT :
    BODY_WEIGHT) × a recency factor. More: the total is estimated (`total_exact` False) and best first
    ranks the newest RANK_POOL or more matches by whether the words are in the title × recency.
    `sort:new` is exact either way. A query with no words (only cat:/since:) lists newest first.
    Errors the user can fix come back as QueryError.
    """
    parsed = parse_query(query) if isinstance(query, str) else query
    if isinstance(parsed, QueryError):
        return parsed
    limit = max(1, min(int(limit), MAX_LIMIT))
    offset = max(0, int(offset))
    since_ts = int((now - parsed.since).timestamp()) if parsed.since is not None else None
    newest = await _newest(db, now)
    count = await _probe(db, parsed, since_ts, newest)
    total = count.total
    # A page past the (exact or estimated) total is never offered; a forged one costs no more than the probe.
    if total == 0 or offset >= total:
        return SearchPage(parsed, (), total, offset, limit, total_exact=count.exact)

    ranked = _plan(parsed, None).relevance != "none" and parsed.sort != SORT_NEW
    need = max(RANK_POOL, offset + limit) if ranked else offset + limit
    # Exact count: every match. Else windows of the newest ~`want` articles, widened until one holds `need` matches.
    want = None if count.exact else need * 1.5 / count.density
    while True:
        hours, whole = await _window_hours(db, want, newest, since_ts)
        rows = await _page(db, parsed, hours, since_ts, ranked=ranked, bm25=count.exact, now=now, limit=limit,
                           offset=offset)
        pool = int(rows[0][2]) if rows else await _count(db, _plan(parsed, hours))
        if whole or pool >= need:
            break
        assert want is not None  # None (an exact count) asks for every match at once, which is whole
        want *= 4
    if whole and not count.exact:  # the window grew to everything: the pool is the exact total
        total = pool
    exact = count.exact or whole
    hits = await _hits(db, [(int(r[0]), float(r[1])) for r in rows], parsed)
    return SearchPage(parsed, tuple(hits), total, offset, limit, pool if ranked and not exact else 0, exact)


async def _window_hours(db: Database, want: float | None, newest: int, since_ts: int | None) -> tuple[list[str] | None, bool]:
    """Time tokens from the published time of the `want`-th newest article on, and False; or, when that
    reaches past since: or the oldest article (or `want` is None), since:'s own cover (None: all time), True."""
    everything = (suffix_cover(since_ts, newest) if since_ts is not None else None), True
    if want is None:
        return everything
    row = await db.fetchone("SELECT published FROM articles ORDER BY published DESC LIMIT 1 OFFSET ?", (int(want),))
    if row is None:
        return everything
    hours = suffix_cover(int(row[0]), newest, WINDOW_TOKENS)
    if since_ts is not None and _bucket_start(hours[0]) <= since_ts:
        return everything
    return hours, False


async def _page(db: Database, q: ParsedQuery, hours: list[str] | None, since_ts: int | None, *, ranked: bool,
                bm25: bool, now: datetime, limit: int, offset: int) -> list[aiosqlite.Row]:
    """(id, score, matches in these hours) for one page."""
    plan = _plan(q, hours)
    sql, params = _source(plan, join=True)
    if since_ts is not None:
        sql += " AND a.published >= ?"
        params.append(since_ts)
    score_params: list[object]
    recency = f"({RECENCY_FLOOR} + 1.0 / (1.0 + max(0, ? - a.published) / {RECENCY_DAYS * 86400.0}))"
    if not ranked:
        score, score_params, order = "0.0", [], "a.published DESC, a.id DESC"
    elif bm25 and plan.relevance == "bm25":
        score = f"-bm25(articles_fts, {TITLE_WEIGHT}, {BODY_WEIGHT}, 0.0) * {recency}"
        score_params, order = [int(now.timestamp())], "score DESC, a.id DESC"
    else:
        rel, rel_params = _presence(q)
        score, score_params = f"{rel} * {recency}", [*rel_params, int(now.timestamp())]
        order = "score DESC, a.published DESC, a.id DESC"
    # bm25() only works while its FTS5 cursor is on the row: score first, count and page after.
    order = order.replace("a.", "")
    return await db.fetchall(
        f"WITH m AS MATERIALIZED (SELECT a.id AS id, a.published AS published, {score} AS score {sql}) "
        f"SELECT id, score, count(*) OVER () AS pool FROM m ORDER BY {order} LIMIT ? OFFSET ?",
        [*score_params, *params, limit, offset],
    )


async def matching_ids(db: Database, query: str | ParsedQuery, *, now: datetime) -> list[int] | QueryError:
    """Every matching article id, ascending: the set `search` pages through (tests, benchmarks)."""
    parsed = parse_query(query) if isinstance(query, str) else query
    if isinstance(parsed, QueryError):
        return parsed
    since_ts = int((now - parsed.since).timestamp()) if parsed.since is not None else None
    hours = suffix_cover(since_ts, await _newest(db, now)) if since_ts is not None else None
    sql, params = _source(_plan(parsed, hours), join=since_ts is not None)
    if since_ts is not None:
        sql += " AND a.published >= ?"
        params.append(since_ts)
    rows = await db.fetchall(f"SELECT f.rowid {sql} ORDER BY f.rowid", params)
    return [int(r[0]) for r in rows]


async def _hits(db: Database, scored: list[tuple[int, float]], query: ParsedQuery) -> list[SearchHit]:
    # Text is read for the page's rows only: selecting it in the ranked query would carry every match's text through the sort.
    if not scored:
        return []
    marks = ",".join("?" * len(scored))
    rows = await db.fetchall(
        f"SELECT id, title, author, categories, published, url, body FROM articles WHERE id IN ({marks})",
        [i for i, _ in scored],
    )
    by_id = {r["id"]: r for r in rows}
    phrases = phrase_tokens(query)
    out = []
    for article_id, score in scored:
        r = by_id.get(article_id)
        if r is None:
            continue
        out.append(SearchHit(
            article_id=article_id, title=r["title"], author=r["author"],
            categories=tuple(json.loads(r["categories"])),
            published=datetime.fromtimestamp(r["published"], tz=timezone.utc), url=r["url"],
            snippet=make_snippet(r["body"], phrases),
            score=score if math.isfinite(score) else 0.0,
        ))
    return out


# ---------------------------------------------------------------- sessions


@dataclass(frozen=True, slots=True)
class SearchSession:
    id: int
    chat_id: int
    query: str
    created_at: datetime


async def save_session(db: Database, chat_id: int, query: str, *, now: datetime) -> int:
    """Remember a chat's query and return its id for `bot.core.query.page_callback`. The same query in the
    same chat reuses its row; sessions older than SESSION_TTL are dropped on the way."""
    ts = int(now.timestamp())
    async with db.transaction() as conn:
        await conn.execute("DELETE FROM search_sessions WHERE created_at < ?", (int((now - SESSION_TTL).timestamp()),))
        async with conn.execute(
            "INSERT INTO search_sessions (chat_id, query, created_at) VALUES (?, ?, ?) "
            "ON CONFLICT(chat_id, query) DO UPDATE SET created_at = excluded.created_at RETURNING id",
            (chat_id, query, ts),
        ) as cur:
            row = await cur.fetchone()
    assert row is not None  # RETURNING gives the inserted or updated row
    return int(row[0])


async def load_session(db: Database, session_id: int, chat_id: int) -> SearchSession | None:
    """The session if it exists and belongs to `chat_id` (forged or foreign callback data: None)."""
    row = await db.fetchone(
        "SELECT id, chat_id, query, created_at FROM search_sessions WHERE id = ? AND chat_id = ?", (session_id, chat_id)
    )
    if row is None:
        return None
    return SearchSession(row["id"], row["chat_id"], row["query"], datetime.fromtimestamp(row["created_at"], tz=timezone.utc))
