"""The delivery ledger: match new articles to chats (outbox), plan messages (sends), record results.

Exactly-once rests on two rules kept here: a (chat, story) enters the outbox once (UNIQUE), and a
message is marked sent — with its Telegram message_id — in the same transaction that marks its items.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial

import aiosqlite

from bot.core.model import CATEGORY_SEP
from storage.articles import StoredArticle, get_articles
from storage.db import Database, inserted_id, on_db_thread
from storage.meta import UPSERT_META, write_meta
from storage.tombstones import buried_stories
from storage.watches import WatchMatch

WatchMatcher = Callable[[Database, list[int]], Awaitable[list[WatchMatch]]]  # storage.watches.match_new_articles

MATCH_CURSOR = "match_cursor"
MATCH_CHUNK = 500


async def get_meta(db: Database, key: str) -> str | None:
    row = await db.fetchone("SELECT value FROM meta WHERE key = ?", (key,))
    return row["value"] if row else None


async def set_meta(db: Database, key: str, value: str) -> None:
    await db.write(UPSERT_META, (key, value))


def _prefixes(category_key: str) -> list[str]:
    parts = category_key.split(CATEGORY_SEP)[:-1]
    return ["".join(p + CATEGORY_SEP for p in parts[:i]) for i in range(1, len(parts) + 1)]


@dataclass(frozen=True, slots=True)
class MatchReport:
    articles: int
    queued: int


async def match_new_articles(db: Database, now: datetime, watch_matcher: WatchMatcher | None = None) -> MatchReport:
    """Queue every article stored since the last run for the chats whose subscriptions (or watches) match.

    `watch_matcher(db, article_ids)` returns watch matches (article_id, chat_id, thread_id, watch_id).
    Only active chats are matched: a stopped or blocked chat does not pile up a backlog.
    """
    cursor = int(await get_meta(db, MATCH_CURSOR) or 0)
    articles = queued = 0
    ts = int(now.timestamp())
    while True:
        rows = await db.fetchall(
            "SELECT id, story_key, category_key, ingested FROM articles WHERE id > ? ORDER BY id LIMIT ?",
            (cursor, MATCH_CHUNK),
        )
        if not rows:
            break
        ids = [r["id"] for r in rows]
        # A story purged by retention lost its outbox rows with its article: its tombstone keeps it from
        # being queued again (storage/tombstones.py).
        keys = {r["story_key"] for r in rows}
        purged = await on_db_thread(db.conn, partial(buried_stories, story_keys=keys))
        rows = [r for r in rows if r["story_key"] not in purged]
        watch_hits = await _new_watch_hits(db, rows, watch_matcher) if watch_matcher and rows else []
        async with db.transaction() as conn:
            for r in rows:
                prefixes = _prefixes(r["category_key"])
                marks = ",".join("?" * len(prefixes))
                cur = await conn.execute(
                    "INSERT OR IGNORE INTO outbox (chat_id, thread_id, story_key, article_id, reason, created_at) "
                    "SELECT s.chat_id, s.thread_id, ?, ?, 'sub:' || s.categories, ? FROM subscriptions s "
                    f"JOIN chats c ON c.id = s.chat_id WHERE c.active = 1 AND s.category_key IN ({marks}) "
                    "AND s.since_article_id < ? ORDER BY s.chat_id, s.thread_id",
                    (r["story_key"], r["id"], ts, *prefixes, r["id"]),
                )
                queued += max(cur.rowcount, 0)
            story = {r["id"]: r["story_key"] for r in rows}
            for hit in watch_hits:
                cur = await conn.execute(
                    "INSERT OR IGNORE INTO outbox (chat_id, thread_id, story_key, article_id, reason, created_at) "
                    "VALUES (?,?,?,?,?,?)",
                    (hit.chat_id, hit.thread_id, story[hit.article_id], hit.article_id, f"watch:{hit.watch_id}", ts),
                )
                queued += max(cur.rowcount, 0)
            cursor = ids[-1]
            await write_meta(conn, MATCH_CURSOR, str(cursor))
        articles += len(rows)
    return MatchReport(articles, queued)


async def _new_watch_hits(db: Database, rows: Sequence[aiosqlite.Row], watch_matcher: WatchMatcher) -> list[WatchMatch]:
    """Watch matches for these articles, keeping only articles stored after the watch was set (no backfill)."""
    hits = await watch_matcher(db, [r["id"] for r in rows])
    if not hits:
        return []
    watch_ids = sorted({h.watch_id for h in hits})
    created = {r[0]: r[1] for r in await db.fetchall(
        f"SELECT id, created_at FROM watches WHERE id IN ({','.join('?' * len(watch_ids))})", watch_ids)}
    ingested = {r["id"]: r["ingested"] for r in rows}
    return [h for h in hits if ingested[h.article_id] >= created.get(h.watch_id, 1 << 62)]


@dataclass(frozen=True, slots=True)
class PendingItem:
    outbox_id: int
    thread_id: int
    reason: str
    stored: StoredArticle
    queued_at: int  # unix seconds, dispatcher clock


async def chats_with_pending(db: Database) -> list[int]:
    """Active chats that have items waiting to be planned (the dispatcher decides which are due)."""
    rows = await db.fetchall(
        "SELECT DISTINCT o.chat_id FROM outbox o JOIN chats c ON c.id = o.chat_id "
        "WHERE o.state = 'pending' AND c.active = 1 ORDER BY o.chat_id"
    )
    return [r[0] for r in rows]


async def pending_items(db: Database, chat_id: int, limit: int = 500,
                        cache: dict[int, StoredArticle] | None = None) -> list[PendingItem]:
    """A chat's pending items with their articles; `cache` shares article rows across chats in one dispatch."""
    rows = await db.fetchall(
        "SELECT id, thread_id, reason, article_id, created_at FROM outbox WHERE chat_id = ? AND state = 'pending' "
        "ORDER BY article_id LIMIT ?", (chat_id, limit),
    )
    arts = cache if cache is not None else {}
    missing = [r["article_id"] for r in rows if r["article_id"] not in arts]
    for stored in await get_articles(db, missing):
        arts[stored.id] = stored
    return [PendingItem(r["id"], r["thread_id"], r["reason"], arts[r["article_id"]], r["created_at"]) for r in rows
            if r["article_id"] in arts]


@dataclass(frozen=True, slots=True)
class PlannedMessage:
    thread_id: int
    body: str
    outbox_ids: tuple[int, ...]
    article_ids: tuple[int, ...]
    photo_url: str | None = None
    silent: bool = False  # sent without a notification sound (a channel's quiet hours)


class PlanConflict(RuntimeError):
    """Items were planned by someone else between reading them and planning them; nothing was written."""


async def plan_sends(db: Database, chat_id: int, messages: list[PlannedMessage], now: datetime,
                     dropped: tuple[int, ...] = (), digest_at: datetime | None = None) -> list[int]:
    """Record planned messages and move their items from pending to planned, atomically; PlanConflict (and
    nothing written) when any item is no longer pending."""
    ts = int(now.timestamp())
    ids: list[int] = []
    async with db.transaction() as conn:
        for m in messages:
            cur = await conn.execute(
                "INSERT INTO sends (chat_id, thread_id, kind, body, photo_url, created_at, item_ids) "
                "VALUES (?,?,?,?,?,?,?)",
                (chat_id, m.thread_id, "photo" if m.photo_url else "text", m.body, m.photo_url, ts,
                 ",".join(map(str, m.article_ids))),
            )
            send_id = inserted_id(cur.lastrowid)
            ids.append(send_id)
            if m.silent:  # a channel's quiet hours (column added by migration 0008)
                await conn.execute("UPDATE sends SET silent = 1 WHERE id = ?", (send_id,))
            cur = await conn.executemany(
                "UPDATE outbox SET state = 'planned', send_id = ? WHERE id = ? AND state = 'pending'",
                [(send_id, oid) for oid in m.outbox_ids])
            if cur.rowcount != len(m.outbox_ids):  # another planner took some of these items first
                raise PlanConflict(f"chat {chat_id}: {len(m.outbox_ids) - cur.rowcount} items already planned")
        if dropped:
            await conn.executemany("UPDATE outbox SET state = 'dropped' WHERE id = ?", [(d,) for d in dropped])
        if digest_at is not None:
            await conn.execute("UPDATE chats SET last_digest_at = ? WHERE id = ?", (int(digest_at.timestamp()), chat_id))
    return ids


@dataclass(frozen=True, slots=True)
class Send:
    id: int
    chat_id: int
    chat_type: str
    thread_id: int
    kind: str
    body: str
    photo_url: str | None
    attempts: int
    item_ids: str
    silent: bool = False


DUE_SENDS_CHUNK = 200


async def chats_with_due_sends(db: Database, now: datetime, exclude: set[int], limit: int) -> list[int]:
    """Chats owing messages, oldest planned first, skipping chats already being served.

    Walks the due sends in id order (index sends_open, migration 0005) and stops at `limit` chats: chats
    first appear in the order of their oldest due send, as "GROUP BY chat_id ORDER BY MIN(id)" gave, but
    without grouping the whole backlog on every sender turn. Chunks are whole statements (no cursor held
    open while others write); each leaves out the chats already found, so a long backlog is skipped in SQLite.
    """
    ts = int(now.timestamp())
    found: list[int] = []
    after = 0
    while len(found) < limit:
        skip = [*exclude, *found]
        where = f"AND chat_id NOT IN ({','.join('?' * len(skip))})" if skip else ""
        rows = await db.fetchall(
            "SELECT id, chat_id FROM sends INDEXED BY sends_open WHERE state IN ('planned', 'in_flight') "
            f"AND next_attempt_at <= ? AND id > ? {where} ORDER BY id LIMIT ?",
            (ts, after, *skip, DUE_SENDS_CHUNK),
        )
        for r in rows:
            if r["chat_id"] not in found and len(found) < limit:
                found.append(r["chat_id"])
        if len(rows) < DUE_SENDS_CHUNK:
            break
        after = rows[-1]["id"]
    return found


async def due_sends(db: Database, chat_id: int, now: datetime) -> list[Send]:
    rows = await db.fetchall(
        "SELECT s.*, c.type AS chat_type FROM sends s JOIN chats c ON c.id = s.chat_id "
        "WHERE s.chat_id = ? AND s.state IN ('planned', 'in_flight') AND s.next_attempt_at <= ? ORDER BY s.id",
        (chat_id, int(now.timestamp())),
    )
    return [Send(r["id"], r["chat_id"], r["chat_type"], r["thread_id"], r["kind"], r["body"], r["photo_url"],
                 r["attempts"], r["item_ids"], bool(r["silent"]) if "silent" in r.keys() else False)  # noqa: SIM118
            for r in rows]


async def claim_send(db: Database, send_id: int) -> bool:
    """Take a planned message for sending, atomically: False when it is no longer planned (sent, failed,
    dropped, or taken by another sender), so two senders never both send it."""
    return await db.write("UPDATE sends SET state = 'in_flight' WHERE id = ? AND state = 'planned'", (send_id,)) == 1


async def recover_in_flight(db: Database) -> int:
    """At start-up, under the runner lock: messages a crashed process had on the wire are planned again
    (they may have arrived: this is the at-most-once-more of a crash). Returns how many."""
    return await db.write("UPDATE sends SET state = 'planned' WHERE state = 'in_flight'")


async def mark_sent(db: Database, send_id: int, message_id: int, now: datetime) -> None:
    """The message and its items become sent in one transaction."""
    async with db.transaction() as conn:
        await conn.execute("UPDATE sends SET state = 'sent', message_id = ?, sent_at = ?, last_error = NULL "
                           "WHERE id = ?", (message_id, int(now.timestamp()), send_id))
        await conn.execute("UPDATE outbox SET state = 'sent' WHERE send_id = ?", (send_id,))


async def mark_retry(db: Database, send_id: int, error: str, next_attempt: datetime, *, ambiguous: bool) -> None:
    """Leave the message due later; `ambiguous` (a timeout: maybe delivered) counts toward the cap."""
    await db.write(
        "UPDATE sends SET state = 'planned', last_error = ?, next_attempt_at = ?, attempts = attempts + ? WHERE id = ?",
        (error[:300], int(next_attempt.timestamp()), 1 if ambiguous else 0, send_id),
    )


async def mark_failed(db: Database, send_id: int, error: str) -> None:
    async with db.transaction() as conn:
        await conn.execute("UPDATE sends SET state = 'failed', last_error = ? WHERE id = ?", (error[:300], send_id))
        await conn.execute("UPDATE outbox SET state = 'dropped' WHERE send_id = ?", (send_id,))


async def drop_chat_backlog(db: Database, chat_id: int, reason: str) -> None:
    """A chat that blocked the bot or vanished: its unsent messages and items are dropped, not retried."""
    async with db.transaction() as conn:
        await _drop_unsent(conn, chat_id, None, reason)


async def _drop_unsent(conn: aiosqlite.Connection, chat_id: int, thread_id: int | None, reason: str) -> None:
    """Unsent messages of a chat (or of one of its topics) failed, their items dropped."""
    scope, params = ("chat_id = ?", [chat_id]) if thread_id is None else \
        ("chat_id = ? AND thread_id = ?", [chat_id, thread_id])
    await conn.execute(f"UPDATE sends SET state = 'failed', last_error = ? WHERE {scope} "
                       "AND state IN ('planned', 'in_flight')", [reason[:300], *params])
    await conn.execute(f"UPDATE outbox SET state = 'dropped' WHERE {scope} AND state IN ('pending', 'planned')", params)


async def drop_thread(db: Database, chat_id: int, thread_id: int, reason: str, *, forget: bool) -> None:
    """A forum topic the bot can't post in: its unsent messages and items are dropped, the rest of the
    chat goes on. `forget` (the topic was deleted) also removes the topic's subscriptions and watches."""
    async with db.transaction() as conn:
        await _drop_unsent(conn, chat_id, thread_id, reason)
        if forget:
            await conn.execute("DELETE FROM subscriptions WHERE chat_id = ? AND thread_id = ?", (chat_id, thread_id))
            await conn.execute("DELETE FROM watches WHERE chat_id = ? AND thread_id = ?", (chat_id, thread_id))


async def outbox_counts(db: Database) -> dict[str, int]:
    rows = await db.fetchall("SELECT state, COUNT(*) FROM outbox GROUP BY state")
    out = {r[0]: r[1] for r in rows}
    rows = await db.fetchall("SELECT state, COUNT(*) FROM sends GROUP BY state")
    out.update({f"sends_{r[0]}": r[1] for r in rows})
    return out

