"""Standing alerts: a chat's saved search queries, and which of them newly ingested articles match.

Matching runs per article, not per watch: every watch is parsed once into a `bot.core.query.QueryMatcher`
(an inverted index from one required token or token pair to the watches needing it), and each new
article's title and text are tokenised once and checked only against the watches their tokens reach.
The semantics are search's (words, "phrases", -exclusions, cat:); since: is refused, sort: ignored.
"""
from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone

import aiosqlite

from bot.core.errors import QueryError, WatchError
from bot.core.query import (
    MatchDoc,
    ParsedQuery,
    QueryMatcher,
    parse_watch_query,
)
from storage.db import Database, inserted_id

MAX_WATCHES_PER_CHAT = 20
_ARTICLE_CHUNK = 500


@dataclass(frozen=True, slots=True)
class Watch:
    id: int
    chat_id: int
    thread_id: int
    query: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class WatchMatch:
    article_id: int
    chat_id: int
    thread_id: int
    watch_id: int


def _watch(row: aiosqlite.Row) -> Watch:
    return Watch(row["id"], row["chat_id"], row["thread_id"], row["query"],
                 datetime.fromtimestamp(row["created_at"], tz=timezone.utc))


async def add_watch(
    db: Database, chat_id: int, query: str, *, thread_id: int = 0, now: datetime
) -> Watch | WatchError | QueryError:
    """Save a standing alert for a chat (and forum topic). At most MAX_WATCHES_PER_CHAT per chat."""
    parsed = parse_watch_query(query)
    if isinstance(parsed, QueryError):
        return parsed
    text = query.strip()
    async with db.transaction() as conn:
        async with conn.execute("SELECT count(*) FROM watches WHERE chat_id = ?", (chat_id,)) as cur:
            row = await cur.fetchone()
        if row is not None and row[0] >= MAX_WATCHES_PER_CHAT:
            return WatchError("full", limit=MAX_WATCHES_PER_CHAT)
        try:
            cur = await conn.execute(
                "INSERT INTO watches (chat_id, thread_id, query, created_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (chat_id, thread_id, query) DO NOTHING",
                (chat_id, thread_id, text, int(now.timestamp())),
            )
        except sqlite3.IntegrityError:  # the chat row does not exist (foreign key)
            return WatchError("unknown_chat")
        if cur.rowcount == 0:
            return WatchError("duplicate")
        watch_id = inserted_id(cur.lastrowid)
    return Watch(watch_id, chat_id, thread_id, text, datetime.fromtimestamp(int(now.timestamp()), tz=timezone.utc))


async def list_watches(db: Database, chat_id: int) -> list[Watch]:
    """A chat's watches in the order they were added: position n in this list is what /unwatch n removes."""
    rows = await db.fetchall("SELECT * FROM watches WHERE chat_id = ? ORDER BY id", (chat_id,))
    return [_watch(r) for r in rows]


async def remove_watch(db: Database, chat_id: int, n: int) -> Watch | WatchError:
    """Remove the chat's n-th watch (1-based, as `list_watches` orders them); returns the one removed."""
    async with db.transaction() as conn:
        async with conn.execute("SELECT * FROM watches WHERE chat_id = ? ORDER BY id", (chat_id,)) as cur:
            rows = list(await cur.fetchall())
        if not 1 <= n <= len(rows):
            return WatchError("no_such_watch", limit=len(rows))
        row = rows[n - 1]
        await conn.execute("DELETE FROM watches WHERE id = ?", (row["id"],))
    return _watch(row)


async def load_matcher(db: Database, *, active_only: bool = True) -> QueryMatcher[tuple[int, int, int]]:
    """Every watch (of active chats) parsed into one matcher keyed by (watch id, chat id, thread id).
    Watches whose query no longer parses (a stricter newer newsbot) are skipped."""
    sql = "SELECT w.id, w.chat_id, w.thread_id, w.query FROM watches w"
    if active_only:
        # "+": read watches in id order and look each chat up, rather than probing watches for every
        # active chat (most have none) and sorting.
        sql += " JOIN chats c ON c.id = w.chat_id WHERE +c.active = 1"
    rows = [(r["id"], r["chat_id"], r["thread_id"], r["query"]) for r in await db.fetchall(sql + " ORDER BY w.id")]
    # Parsing thousands of queries is CPU work: off the event loop, like the matching itself.
    return await asyncio.to_thread(_build_matcher, rows)


def _build_matcher(rows: list[tuple[int, int, int, str]]) -> QueryMatcher[tuple[int, int, int]]:
    items: list[tuple[tuple[int, int, int], ParsedQuery]] = []
    for watch_id, chat_id, thread_id, query in rows:
        parsed = parse_watch_query(query)
        if isinstance(parsed, ParsedQuery):
            items.append(((watch_id, chat_id, thread_id), parsed))
    return QueryMatcher.build(items)


async def match_new_articles(
    db: Database, article_ids: list[int], *, active_only: bool = True
) -> list[WatchMatch]:
    """Which watches each of these (newly ingested) articles matches, ordered by article then watch.

    One row per (article, watch): an article matching two watches of a chat gives two matches (the
    outbox's UNIQUE(chat_id, story_key) keeps delivery to one). Chats with active = 0 are skipped
    unless `active_only` is False.
    """
    if not article_ids:
        return []
    matcher = await load_matcher(db, active_only=active_only)
    if not len(matcher):
        return []
    out: list[WatchMatch] = []
    ids = sorted(set(article_ids))
    for i in range(0, len(ids), _ARTICLE_CHUNK):
        chunk = ids[i : i + _ARTICLE_CHUNK]
        rows = await db.fetchall(
            f"SELECT id, title, body, category_key FROM articles WHERE id IN ({','.join('?' * len(chunk))}) ORDER BY id",
            chunk,
        )
        docs = [(r["id"], r["title"], r["body"], r["category_key"]) for r in rows]
        # Tokenising and matching a batch against every watch takes seconds at scale; in a worker
        # thread the bot keeps answering meanwhile. SQL stays here, on the loop (aiosqlite, db's lock).
        out.extend(await asyncio.to_thread(_match_docs, matcher, docs))
    return out


def _match_docs(
    matcher: QueryMatcher[tuple[int, int, int]], docs: list[tuple[int, str, str, str]]
) -> list[WatchMatch]:
    out: list[WatchMatch] = []
    for article_id, title, body, category_key in docs:
        for watch_id, chat_id, thread_id in sorted(matcher.match(MatchDoc(title, body, category_key))):
            out.append(WatchMatch(article_id, chat_id, thread_id, watch_id))
    return out
