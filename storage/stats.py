"""Counts for `/stats` and `newsbot stats`: articles, chats, subscriptions, outbox, feeds, database size.

Read-only, and free of secrets by construction: only counts, times and a file size.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from storage.db import Database


@dataclass(frozen=True, slots=True)
class Stats:
    articles: int
    stories: int
    chats_active: int
    chats_inactive: int
    subscriptions: int
    watches: int
    outbox_pending: int   # outbox rows waiting to be sent (pending or planned into a message)
    sends_failed: int     # messages that gave up
    feeds: int
    feeds_failing: int
    feeds_paused: int
    last_poll_at: datetime | None
    last_dispatch_at: datetime | None
    db_bytes: int         # the SQLite file plus its -wal
    # Operations (README "Operating newsbot"; the same numbers as /metrics):
    outbox_due: int = 0                  # messages planned and due now (not waiting for a retry)
    oldest_due_seconds: float = 0.0      # how long the oldest due message has waited
    feeds_backoff: int = 0               # feeds waiting out a failure backoff
    tombstones: int = 0                  # fingerprints of purged stories (storage/tombstones.py)
    feed_rows: tuple[FeedHealth, ...] = ()


@dataclass(frozen=True, slots=True)
class FeedHealth:
    id: int
    name: str
    failures: int
    paused: bool
    backoff_seconds: float               # until the next poll while failing, else 0
    articles: int


async def _count(db: Database, sql: str, params: tuple[object, ...] = ()) -> int:
    row = await db.fetchone(sql, params)
    return int(row[0]) if row and row[0] is not None else 0


async def _has_table(db: Database, name: str) -> bool:
    return await _count(db, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)) > 0


async def _meta_time(db: Database, key: str) -> datetime | None:
    row = await db.fetchone("SELECT value FROM meta WHERE key = ?", (key,))
    if row is None:
        return None
    try:
        return datetime.fromtimestamp(float(row["value"]), tz=timezone.utc)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def database_bytes(db_path: Path | str) -> int:
    """Size of the database file and its write-ahead log (0 for a missing file or ':memory:')."""
    total = 0
    for suffix in ("", "-wal"):
        try:
            total += os.stat(f"{db_path}{suffix}").st_size
        except OSError:
            pass
    return total


async def collect_stats(db: Database, db_path: Path | str, now: datetime | None = None) -> Stats:
    ts = int((now or datetime.now(timezone.utc)).timestamp())
    articles, stories = 0, 0
    row = await db.fetchone("SELECT COUNT(*), COUNT(DISTINCT story_key) FROM articles")
    if row:
        articles, stories = int(row[0]), int(row[1])
    return Stats(
        articles=articles,
        stories=stories,
        chats_active=await _count(db, "SELECT COUNT(*) FROM chats WHERE active = 1"),
        chats_inactive=await _count(db, "SELECT COUNT(*) FROM chats WHERE active = 0"),
        subscriptions=await _count(db, "SELECT COUNT(*) FROM subscriptions"),
        # `watches` arrives with migration 0003; a database without it simply has none.
        watches=await _count(db, "SELECT COUNT(*) FROM watches") if await _has_table(db, "watches") else 0,
        outbox_pending=await _count(db, "SELECT COUNT(*) FROM outbox WHERE state IN ('pending', 'planned')"),
        sends_failed=await _count(db, "SELECT COUNT(*) FROM sends WHERE state = 'failed'"),
        feeds=await _count(db, "SELECT COUNT(*) FROM feeds"),
        feeds_failing=await _count(db, "SELECT COUNT(*) FROM feeds WHERE failures > 0 AND paused = 0"),
        feeds_paused=await _count(db, "SELECT COUNT(*) FROM feeds WHERE paused = 1"),
        last_poll_at=await _meta_time(db, "last_poll_at"),
        last_dispatch_at=await _meta_time(db, "last_dispatch_at"),
        db_bytes=database_bytes(db_path),
        outbox_due=await _count(db, "SELECT COUNT(*) FROM sends WHERE state IN ('planned', 'in_flight') "
                                "AND next_attempt_at <= ?", (ts,)),
        oldest_due_seconds=max(0, ts - (await _count(
            db, "SELECT MIN(created_at) FROM sends WHERE state IN ('planned', 'in_flight') AND next_attempt_at <= ?",
            (ts,)) or ts)),
        feeds_backoff=await _count(db, "SELECT COUNT(*) FROM feeds WHERE failures > 0 AND paused = 0 "
                                   "AND next_poll_at > ?", (ts,)),
        tombstones=await _count(db, "SELECT COUNT(*) FROM story_tombstones")
        if await _has_table(db, "story_tombstones") else 0,
        feed_rows=tuple(
            FeedHealth(int(r[0]), str(r[1]), int(r[2]), bool(r[3]),
                       float(max(0, (r[4] or 0) - ts)) if r[2] else 0.0, int(r[5]))
            for r in await db.fetchall(
                "SELECT f.id, f.name, f.failures, f.paused, f.next_poll_at, "
                "(SELECT COUNT(*) FROM articles a WHERE a.feed_id = f.id) FROM feeds f ORDER BY f.id")),
    )
