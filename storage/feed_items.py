"""The RSS/Atom items a feed has shown: identity → fingerprint, so a repeated item is skipped before any cleaning.

All SQL for the `feed_items` table (migration 0007). The poller (bot/feeds/poller.py) decides what is new;
these functions only read and write rows.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from storage.db import Database


@dataclass(frozen=True, slots=True)
class SeenItem:
    """How an item looked when last built: its fingerprint, and whether it was refused for its content."""

    fingerprint: str
    refused: bool = False


async def known_items(db: Database, feed_id: int) -> dict[str, SeenItem]:
    """item key → how it looked when last built, for every item the feed still shows."""
    rows = await db.fetchall(
        "SELECT item_key, fingerprint, refused FROM feed_items WHERE feed_id = ?", (feed_id,))
    return {r["item_key"]: SeenItem(r["fingerprint"], bool(r["refused"])) for r in rows}


async def remember_items(db: Database, feed_id: int, items: Iterable[tuple[str, SeenItem]], *, now: datetime) -> None:
    """Record (item key, how it looked) for items just built or refused."""
    seen_at = int(now.timestamp())
    rows = [(feed_id, key, seen.fingerprint, int(seen.refused), seen_at) for key, seen in items]
    if not rows:
        return
    async with db.transaction() as conn:
        await conn.executemany(
            "INSERT INTO feed_items (feed_id, item_key, fingerprint, refused, seen_at) VALUES (?,?,?,?,?) "
            "ON CONFLICT(feed_id, item_key) DO UPDATE SET fingerprint = excluded.fingerprint, "
            "refused = excluded.refused, seen_at = excluded.seen_at",
            rows,
        )


async def forget_items(db: Database, feed_id: int, keys: Iterable[str]) -> None:
    """Drop items the feed no longer shows (their articles stay)."""
    rows = [(feed_id, k) for k in keys]
    if not rows:
        return
    async with db.transaction() as conn:
        await conn.executemany("DELETE FROM feed_items WHERE feed_id = ? AND item_key = ?", rows)
