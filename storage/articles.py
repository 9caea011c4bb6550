"""Articles and their summaries: store with dedupe, fetch, list by category, count per category."""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import StrEnum

import aiosqlite

from bot.core.dedupe import STORY_WINDOW_SECONDS, text_key, title_key
from bot.core.model import CATEGORY_SEP, Article
from bot.core.query import IndexTerms
from bot.core.script import match_fold
from storage.db import Database, inserted_id, on_db_thread
from storage.index import index_article
from storage.tombstones import resurfaced


class Outcome(StrEnum):
    NEW = "new"
    KNOWN = "known"            # same source, same content: nothing to do
    UPDATED = "updated"        # same source, content changed: row updated in place
    DUPLICATE = "duplicate"    # same content in the same category under another name: not stored
    SAME_STORY = "same_story"  # stored, sharing an earlier article's story key


@dataclass(frozen=True, slots=True)
class Stored:
    outcome: Outcome
    article_id: int
    story_key: str


def category_key(categories: tuple[str, ...] | list[str]) -> str:
    """Folded category path used for prefix matching: 'a\\x1fb\\x1f' matches everything under a›b.
    Folded to one Chinese script (bot.core.script), so 財經 and 财经 are one category."""
    return "".join(match_fold(c) + CATEGORY_SEP for c in categories)


def _ts(dt: datetime) -> int:
    return int(dt.timestamp())


def _dt(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, tz=timezone.utc)


def store_article_sync(
    conn: sqlite3.Connection, article: Article, summary: list[str], summary_version: int,
    terms: IndexTerms | None = None,
) -> Stored:
    """Insert or update one article inside the caller's open transaction (database thread).

    A new article is added to the search index here; `terms`, when given, is its index text made
    ahead (by an ingest worker). An update is re-indexed by the update trigger.
    """
    row = conn.execute("SELECT id, content_hash, story_key FROM articles WHERE uid = ?", (article.uid,)).fetchone()
    ckey = category_key(article.categories)
    if row is not None:
        if row[1] == article.content_hash:
            return Stored(Outcome.KNOWN, row[0], row[2])
        conn.execute(
            "UPDATE articles SET title=?, categories=?, category_key=?, author=?, published=?, image_url=?, "
            "body=?, language=?, content_hash=?, title_key=?, text_key=?, flags=?, url=? WHERE id=?",
            (article.title, json.dumps(article.categories, ensure_ascii=False), ckey,
             article.author, _ts(article.published), article.image_url, article.text, article.language,
             article.content_hash, title_key(article.title), text_key(article.paragraphs),
             ",".join(sorted(article.flags)), article.url, row[0]),
        )
        _put_summary(conn, row[0], summary, summary_version)
        return Stored(Outcome.UPDATED, row[0], row[2])

    # `+category_key`: seek by content hash (a handful of rows). Without it SQLite picked the category
    # index and read every article in the category, the main cost of storing into a large database.
    dup = conn.execute(
        "SELECT id, story_key FROM articles WHERE content_hash = ? AND +category_key = ? LIMIT 1",
        (article.content_hash, ckey),
    ).fetchone()
    if dup is not None:
        return Stored(Outcome.DUPLICATE, dup[0], dup[1])

    tkey, xkey = title_key(article.title), text_key(article.paragraphs)
    story, outcome = article.story_key, Outcome.NEW
    same = None
    if tkey is not None:
        published = _ts(article.published)
        same = conn.execute(
            "SELECT story_key FROM articles WHERE title_key = ? AND published BETWEEN ? AND ? LIMIT 1",
            (tkey, published - STORY_WINDOW_SECONDS, published + STORY_WINDOW_SECONDS),
        ).fetchone()
    if same is None:
        same = conn.execute("SELECT story_key FROM articles WHERE content_hash = ? LIMIT 1",
                            (article.content_hash,)).fetchone()
    if same is None and xkey is not None:
        same = conn.execute("SELECT story_key FROM articles WHERE text_key = ? LIMIT 1", (xkey,)).fetchone()
    if same is not None:
        story, outcome = same[0], Outcome.SAME_STORY
    else:  # a purged article served again: stored (searchable), its story key buried so it is not pushed twice
        resurfaced(conn, article.uid, article.content_hash, xkey, story)

    cur = conn.execute(
        "INSERT INTO articles (uid, feed_id, source, url, title, categories, category_key, author, published, "
        "ingested, image_url, body, language, content_hash, story_key, title_key, text_key, flags) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (article.uid, article.feed_id, article.source, article.url, article.title,
         json.dumps(article.categories, ensure_ascii=False), ckey, article.author,
         _ts(article.published), _ts(article.ingested), article.image_url, article.text, article.language,
         article.content_hash, story, tkey, xkey, ",".join(sorted(article.flags))),
    )
    article_id = inserted_id(cur.lastrowid)
    index_article(conn, article_id, article.title, article.text, ckey, _ts(article.published), terms)
    _put_summary(conn, article_id, summary, summary_version)
    return Stored(outcome, article_id, story)


async def store_article(
    conn: aiosqlite.Connection, article: Article, summary: list[str], summary_version: int
) -> Stored:
    """`store_article_sync` inside the caller's transaction (`Database.transaction()`)."""
    return await on_db_thread(conn, lambda c: store_article_sync(c, article, summary, summary_version))


# (article, summary, summariser version) or (article, summary, summariser version, index terms)
StoreItem = tuple[Article, list[str], int] | tuple[Article, list[str], int, IndexTerms | None]


async def store_articles(db: Database, items: Sequence[StoreItem]) -> list[Stored]:
    """Store a batch in one transaction on the database thread: each item is (article, summary,
    summariser version) or (article, summary, summariser version, index terms)."""
    return await db.run_in_transaction(lambda conn: [store_article_sync(conn, *item) for item in items])


def _put_summary(conn: sqlite3.Connection, article_id: int, sentences: list[str], version: int) -> None:
    conn.execute(
        "INSERT INTO summaries (article_id, version, sentences) VALUES (?,?,?) "
        "ON CONFLICT(article_id) DO UPDATE SET version=excluded.version, sentences=excluded.sentences",
        (article_id, version, json.dumps(sentences, ensure_ascii=False)),
    )


async def save_summary(db: Database, article_id: int, sentences: list[str], version: int) -> None:
    await db.run_in_transaction(lambda conn: _put_summary(conn, article_id, sentences, version))


@dataclass(frozen=True, slots=True)
class StoredArticle:
    """An article row as read back, with its summary (None when missing or from an old version)."""

    id: int
    article: Article
    summary: list[str] | None
    summary_version: int | None


_SELECT = (
    "SELECT a.*, s.version AS summary_version, s.sentences AS summary FROM articles a "
    "LEFT JOIN summaries s ON s.article_id = a.id "
)


def row_to_stored(row: aiosqlite.Row) -> StoredArticle:
    art = Article(
        uid=row["uid"], feed_id=row["feed_id"], source=row["source"], title=row["title"],
        categories=tuple(json.loads(row["categories"])), author=row["author"], published=_dt(row["published"]),
        image_url=row["image_url"], paragraphs=tuple(row["body"].split("\n")) if row["body"] else (),
        language=row["language"], content_hash=row["content_hash"], story_key=row["story_key"],
        ingested=_dt(row["ingested"]), url=row["url"],
        flags=frozenset(f for f in row["flags"].split(",") if f),
    )
    summary = json.loads(row["summary"]) if row["summary"] is not None else None
    return StoredArticle(row["id"], art, summary, row["summary_version"])


async def get_article(db: Database, article_id: int) -> StoredArticle | None:
    row = await db.fetchone(_SELECT + "WHERE a.id = ?", (article_id,))
    return row_to_stored(row) if row else None


async def get_articles(db: Database, ids: list[int]) -> list[StoredArticle]:
    """Articles by id, in the order of `ids` (missing ids skipped)."""
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    rows = await db.fetchall(_SELECT + f"WHERE a.id IN ({marks})", ids)
    by_id = {r["id"]: row_to_stored(r) for r in rows}
    return [by_id[i] for i in ids if i in by_id]


async def latest(db: Database, *, category: tuple[str, ...] = (), limit: int = 5) -> list[StoredArticle]:
    """Newest articles by published time, optionally under a category path (any level).

    Under a category the newest rows are read per distinct category key (a loose index scan over
    articles_by_category_key_published finds the keys, then one indexed seek each) and merged, so the
    cost follows the number of sub-categories, not the number of articles in them.
    """
    if not category:
        rows = await db.fetchall(_SELECT + "ORDER BY a.published DESC, a.id DESC LIMIT ?", (limit,))
        return [row_to_stored(r) for r in rows]
    prefix = category_key(category)
    end = prefix + "\U0010ffff"
    keys = await db.fetchall(
        "WITH RECURSIVE k(key) AS ("
        " SELECT MIN(category_key) FROM articles WHERE category_key >= ? AND category_key < ?"
        " UNION ALL SELECT (SELECT MIN(category_key) FROM articles WHERE category_key > k.key AND category_key < ?)"
        " FROM k WHERE k.key IS NOT NULL) SELECT key FROM k WHERE key IS NOT NULL",
        (prefix, end, end),
    )
    newest: list[tuple[int, int]] = []
    for (key,) in keys:
        newest += [(r[0], r[1]) for r in await db.fetchall(
            "SELECT published, id FROM articles WHERE category_key = ? ORDER BY published DESC, id DESC LIMIT ?",
            (key, limit))]
    ids = [i for _, i in sorted(newest, reverse=True)[:limit]]
    return await get_articles(db, ids)


async def category_counts(db: Database) -> list[tuple[tuple[str, ...], int]]:
    """Every stored category path with its article count, sorted by path."""
    rows = await db.fetchall("SELECT categories, COUNT(*) AS n FROM articles GROUP BY category_key ORDER BY category_key")
    return [(tuple(json.loads(r["categories"])), int(r["n"])) for r in rows]


async def count_articles(db: Database) -> tuple[int, int]:
    """(articles, distinct stories)."""
    row = await db.fetchone("SELECT COUNT(*), COUNT(DISTINCT story_key) FROM articles")
    return (int(row[0]), int(row[1])) if row else (0, 0)


async def stale_summaries(db: Database, version: int, limit: int = 500, after_id: int = 0) -> list[StoredArticle]:
    """Articles whose summary is missing or older than `version`, by id, for `newsbot resummarise`."""
    rows = await db.fetchall(
        _SELECT + "WHERE a.id > ? AND (s.version IS NULL OR s.version <> ?) ORDER BY a.id LIMIT ?",
        (after_id, version, limit),
    )
    return [row_to_stored(r) for r in rows]
