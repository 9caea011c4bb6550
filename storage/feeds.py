"""Feeds and their polling state: add, list, pause, remove, record success or failure, folder file index.

All SQL for the `feeds` and `feed_files` tables (an RSS feed's items: storage/feed_items.py). Policy (backoff, when to tell the admins) is decided by
the caller (bot/feeds/poller.py) and passed in; these functions only read and write rows.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone

import aiosqlite

from storage.db import Database, on_db_thread
from storage.meta import UPSERT_META
from storage.tombstones import bury_articles


@dataclass(frozen=True, slots=True)
class FeedInfo:
    """One feed row with its article count. Times are aware UTC; `category` is () when not overridden.

    `articles` is None when not counted: `due_feeds` (the poller never shows it).
    """

    id: int
    name: str
    kind: str  # "folder" | "rss"
    location: str
    category: tuple[str, ...]
    paused: bool
    created_at: datetime
    last_success: datetime | None
    last_error: str | None
    failures: int
    next_poll_at: datetime | None
    last_poll_at: datetime | None
    failure_notified: bool
    articles: int | None
    etag: str | None = None
    last_modified: str | None = None
    capped_at: datetime | None = None      # the last successful poll a volume cap held items back
    capped_skipped: int = 0                # … older items not looked at (items per fetch)
    capped_deferred: int = 0               # … new items left for a later poll (daily cap)

    def capped_since(self, since: datetime) -> bool:
        """Whether a volume cap held items back at or after `since` (/feeds shows the last day's)."""
        return self.capped_at is not None and self.capped_at >= since

    @property
    def status(self) -> str:
        """'paused', 'failing' (last poll failed), 'ok' (last poll succeeded) or 'new' (never polled)."""
        if self.paused:
            return "paused"
        if self.failures:
            return "failing"
        return "ok" if self.last_success is not None else "new"


def _dt(ts: int | None) -> datetime | None:
    return datetime.fromtimestamp(ts, tz=timezone.utc) if ts is not None else None


def _ts(dt: datetime) -> int:
    return int(dt.timestamp())


_SELECT = (
    "SELECT f.*, (SELECT COUNT(*) FROM articles a WHERE a.feed_id = f.id) AS n_articles FROM feeds f "
)
# Every poll round: counting would read each feed's whole slice of articles_by_feed for nothing.
_SELECT_UNCOUNTED = "SELECT f.*, NULL AS n_articles FROM feeds f "


def _row_to_feed(row: aiosqlite.Row) -> FeedInfo:
    category = tuple(json.loads(row["category"])) if row["category"] else ()
    return FeedInfo(
        id=row["id"], name=row["name"], kind=row["kind"], location=row["location"], category=category,
        paused=bool(row["paused"]), created_at=_dt(row["created_at"]),  # type: ignore[arg-type]
        last_success=_dt(row["last_success"]), last_error=row["last_error"], failures=row["failures"],
        next_poll_at=_dt(row["next_poll_at"]), last_poll_at=_dt(row["last_poll_at"]),
        failure_notified=bool(row["failure_notified"]),
        articles=int(row["n_articles"]) if row["n_articles"] is not None else None,
        etag=row["etag"], last_modified=row["last_modified"], capped_at=_dt(row["capped_at"]),
        capped_skipped=int(row["capped_skipped"]), capped_deferred=int(row["capped_deferred"]),
    )


async def list_feeds(db: Database) -> list[FeedInfo]:
    """Every feed, in the order they were added."""
    return [_row_to_feed(r) for r in await db.fetchall(_SELECT + "ORDER BY f.id")]


async def get_feed(db: Database, feed_id: int) -> FeedInfo | None:
    row = await db.fetchone(_SELECT + "WHERE f.id = ?", (feed_id,))
    return _row_to_feed(row) if row else None


async def find_feed(db: Database, location: str) -> FeedInfo | None:
    row = await db.fetchone(_SELECT + "WHERE f.location = ?", (location,))
    return _row_to_feed(row) if row else None


async def due_feeds(db: Database, now: datetime) -> list[FeedInfo]:
    """Unpaused feeds never polled or whose next poll time has come (`articles` not counted)."""
    rows = await db.fetchall(
        _SELECT_UNCOUNTED + "WHERE f.paused = 0 AND (f.next_poll_at IS NULL OR f.next_poll_at <= ?) ORDER BY f.id",
        (_ts(now),),
    )
    return [_row_to_feed(r) for r in rows]


async def insert_feed(
    db: Database, *, name: str, kind: str, location: str, category: tuple[str, ...], now: datetime
) -> tuple[FeedInfo, bool]:
    """Insert a feed unless its location is already known; (feed, created)."""
    async with db.transaction() as conn:
        cur = await conn.execute(
            "INSERT INTO feeds (name, kind, location, category, created_at) VALUES (?,?,?,?,?) "
            "ON CONFLICT(location) DO NOTHING",
            (name, kind, location, json.dumps(list(category), ensure_ascii=False) if category else None, _ts(now)),
        )
        created = cur.rowcount == 1
    feed = await find_feed(db, location)
    assert feed is not None
    return feed, created


async def set_paused(db: Database, feed_id: int, paused: bool) -> FeedInfo | None:
    """Pause or resume; resuming makes the feed due at once. None when there is no such feed."""
    if paused:
        changed = await db.write("UPDATE feeds SET paused = 1 WHERE id = ?", (feed_id,))
    else:
        changed = await db.write("UPDATE feeds SET paused = 0, next_poll_at = NULL WHERE id = ?", (feed_id,))
    return await get_feed(db, feed_id) if changed else None


async def delete_feed(db: Database, feed_id: int, *, purge: bool) -> tuple[FeedInfo, int] | None:
    """Remove a feed; its articles stay (feed_id becomes NULL) unless `purge`. (feed, articles deleted)."""
    feed = await get_feed(db, feed_id)
    if feed is None:
        return None
    async with db.transaction() as conn:
        purged = 0
        if purge:  # the stories leave tombstones: re-adding the feed later does not push them again
            await on_db_thread(conn, lambda c: bury_articles(c, "feed_id = ?", (feed_id,)))
            cur = await conn.execute("DELETE FROM articles WHERE feed_id = ?", (feed_id,))
            purged = cur.rowcount
        await conn.execute("DELETE FROM feeds WHERE id = ?", (feed_id,))
    return feed, purged


async def record_success(
    db: Database, feed_id: int, *, now: datetime, next_poll_at: datetime,
    etag: str | None = None, last_modified: str | None = None, keep_validators: bool = False,
    capped: tuple[int, int] | None = None,
) -> bool:
    """A poll worked: clear the failure state. True when the admins had been told it was failing.

    `keep_validators` (a 304 answer) leaves the stored ETag / Last-Modified as they are; `capped`
    (items not looked at, items deferred) records that a volume cap held items back in this poll.
    """
    async with db.transaction() as conn:
        async with conn.execute("SELECT failure_notified FROM feeds WHERE id = ?", (feed_id,)) as cur:
            row = await cur.fetchone()
        if row is None:  # removed while it was being polled
            return False
        validators = "" if keep_validators else ", etag = :etag, last_modified = :lm"
        cap = ", capped_at = :now, capped_skipped = :skipped, capped_deferred = :deferred" if capped else ""
        skipped, deferred = capped or (0, 0)
        await conn.execute(
            "UPDATE feeds SET last_success = :now, last_poll_at = :now, last_error = NULL, failures = 0, "
            f"failure_notified = 0, next_poll_at = :next{validators}{cap} WHERE id = :id",
            {"now": _ts(now), "next": _ts(next_poll_at), "etag": etag, "lm": last_modified, "id": feed_id,
             "skipped": skipped, "deferred": deferred},
        )
    return bool(row["failure_notified"])


async def record_failure(
    db: Database, feed_id: int, *, now: datetime, error: str,
    delay_for: Callable[[int], int], notify_after: int,
) -> tuple[int, bool]:
    """A poll failed: count it and schedule the retry `delay_for(failures)` seconds on.

    Returns (consecutive failures, notify): notify is True exactly once per failing spell, when the
    count first reaches `notify_after`; the flag stays set until `record_success` clears it.
    """
    async with db.transaction() as conn:
        async with conn.execute("SELECT failures, failure_notified FROM feeds WHERE id = ?", (feed_id,)) as cur:
            row = await cur.fetchone()
        if row is None:
            return 0, False
        failures = int(row["failures"]) + 1
        notify = not row["failure_notified"] and failures >= notify_after
        await conn.execute(
            "UPDATE feeds SET last_poll_at = ?, last_error = ?, failures = ?, next_poll_at = ?, "
            "failure_notified = ? WHERE id = ?",
            (_ts(now), error[:500], failures, _ts(now) + delay_for(failures),
             1 if (notify or row["failure_notified"]) else 0, feed_id),
        )
    return failures, notify


async def content_hashes(db: Database, uids: list[str]) -> dict[str, str]:
    """uid → content_hash of the articles already stored under these uids (to skip unchanged items)."""
    out: dict[str, str] = {}
    for start in range(0, len(uids), 500):
        chunk = uids[start : start + 500]
        rows = await db.fetchall(
            f"SELECT uid, content_hash FROM articles WHERE uid IN ({','.join('?' * len(chunk))})", chunk
        )
        out.update({r["uid"]: r["content_hash"] for r in rows})
    return out


# ---------------------------------------------------------------- folder file index
async def known_files(db: Database, feed_id: int) -> dict[str, tuple[int, int]]:
    """path → (size, mtime_ns) of every file of a folder feed as last read."""
    rows = await db.fetchall("SELECT path, size, mtime_ns FROM feed_files WHERE feed_id = ?", (feed_id,))
    return {r["path"]: (int(r["size"]), int(r["mtime_ns"])) for r in rows}


async def remember_files(db: Database, feed_id: int, files: Iterable[tuple[str, int, int]]) -> None:
    """Record (path, size, mtime_ns) of files just read."""
    rows = [(feed_id, path, size, mtime) for path, size, mtime in files]
    if not rows:
        return
    async with db.transaction() as conn:
        await conn.executemany(
            "INSERT INTO feed_files (feed_id, path, size, mtime_ns) VALUES (?,?,?,?) "
            "ON CONFLICT(feed_id, path) DO UPDATE SET size = excluded.size, mtime_ns = excluded.mtime_ns",
            rows,
        )


async def forget_files(db: Database, feed_id: int, paths: Iterable[str]) -> None:
    """Drop deleted files from the index (their articles stay)."""
    rows = [(feed_id, p) for p in paths]
    if not rows:
        return
    async with db.transaction() as conn:
        await conn.executemany("DELETE FROM feed_files WHERE feed_id = ? AND path = ?", rows)


async def mark_polled(db: Database, now: datetime) -> None:
    """Remember when the last poll round ran (meta 'last_poll_at', unix seconds), for /stats."""
    await db.write(UPSERT_META, ("last_poll_at", str(_ts(now))))


async def articles_added_since(db: Database, feed_id: int, since: datetime) -> int:
    """Articles of a feed stored at or after `since` (the poller's daily cap on new items)."""
    row = await db.fetchone(
        "SELECT COUNT(*) FROM articles WHERE feed_id = ? AND ingested >= ?", (feed_id, _ts(since)))
    return int(row[0]) if row else 0
