"""The meta table: one value per key (match cursor, last poll and dispatch times, index version)."""
from __future__ import annotations

import aiosqlite

UPSERT_META = "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value"


async def write_meta(conn: aiosqlite.Connection, key: str, value: str) -> None:
    """Set `key` inside the caller's transaction."""
    await conn.execute(UPSERT_META, (key, value))
