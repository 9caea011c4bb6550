"""Chats, their settings and their category subscriptions."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiosqlite

from bot.core.script import locale, script_of_client
from storage.articles import category_key
from storage.db import Database


@dataclass(frozen=True, slots=True)
class ChatRow:
    id: int
    type: str
    title: str
    is_forum: bool
    language: str | None
    client_language: str
    active: bool
    inactive_reason: str | None
    mode: str
    digest_times: tuple[str, ...]
    quiet_start: str | None
    quiet_end: str | None
    summary_length: int
    timezone: str
    created_at: int
    last_digest_at: int | None
    username: str | None = None   # lower-case @username of a channel or public group
    quiet_hold: bool = False      # a channel in quiet hours: hold posts (True) or post them silently
    script: str | None = None     # Chinese script chosen with /settings script (None: the client's)

    @property
    def is_channel(self) -> bool:
        return self.type == "channel"

    @property
    def lang(self) -> str:
        """The locale replies use: the chat's language, else its user's client language; Chinese in the
        chat's script, else the one the client's language code asks for ("zh-TW")."""
        return locale(self.language or self.client_language, self.script or script_of_client(self.client_language))

    @property
    def is_group(self) -> bool:
        return self.type in ("group", "supergroup")


@dataclass(frozen=True, slots=True)
class Subscription:
    chat_id: int
    thread_id: int
    categories: tuple[str, ...]
    category_key: str
    since_article_id: int


def _chat(row: aiosqlite.Row) -> ChatRow:
    return ChatRow(
        id=row["id"], type=row["type"], title=row["title"], is_forum=bool(row["is_forum"]),
        language=row["language"], client_language=row["client_language"], active=bool(row["active"]),
        inactive_reason=row["inactive_reason"], mode=row["mode"],
        digest_times=tuple(t for t in row["digest_times"].split(",") if t), quiet_start=row["quiet_start"],
        quiet_end=row["quiet_end"], summary_length=row["summary_length"], timezone=row["timezone"],
        created_at=row["created_at"], last_digest_at=row["last_digest_at"], username=_column(row, "username"),
        quiet_hold=bool(_column(row, "quiet_hold")), script=_column(row, "script"),
    )


def _column(row: aiosqlite.Row, name: str) -> Any:
    """A column added by a later migration (0008: channels), None on a database not yet migrated that far."""
    return row[name] if name in row.keys() else None  # noqa: SIM118 -- `in` on a Row looks at values


async def get_chat(db: Database, chat_id: int) -> ChatRow | None:
    row = await db.fetchone("SELECT * FROM chats WHERE id = ?", (chat_id,))
    return _chat(row) if row else None


async def register_chat(
    db: Database, *, chat_id: int, type: str, title: str, is_forum: bool, client_language: str,
    timezone: str, now: datetime, username: str | None = None,
) -> tuple[ChatRow, bool]:
    """Create the chat or refresh it and make it active again. Returns (chat, was_inactive_before)."""
    ts = int(now.timestamp())
    async with db.transaction() as conn:
        async with conn.execute("SELECT active FROM chats WHERE id = ?", (chat_id,)) as cur:
            before = await cur.fetchone()
        await conn.execute(
            "INSERT INTO chats (id, type, title, is_forum, client_language, timezone, created_at, updated_at) "
            "VALUES (?,?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET type=excluded.type, title=excluded.title, "
            "is_forum=excluded.is_forum, client_language=excluded.client_language, active=1, "
            "inactive_reason=NULL, updated_at=excluded.updated_at",
            (chat_id, type, title, int(is_forum), client_language, timezone, ts, ts),
        )
        if username is not None:  # a channel's @username (how its admins name it in commands)
            await conn.execute("UPDATE chats SET username = ? WHERE id = ?", (username.lower() or None, chat_id))
    chat = await get_chat(db, chat_id)
    assert chat is not None
    return chat, before is not None and not before["active"]


async def set_active(db: Database, chat_id: int, active: bool, reason: str | None, now: datetime) -> bool:
    """Pause or resume pushes to a chat (settings and subscriptions kept). True if the chat exists."""
    n = await db.write(
        "UPDATE chats SET active = ?, inactive_reason = ?, updated_at = ? WHERE id = ?",
        (int(active), None if active else reason, int(now.timestamp()), chat_id),
    )
    return n > 0


SETTING_COLUMNS = frozenset({"mode", "digest_times", "quiet_start", "quiet_end", "summary_length", "language",
                             "timezone", "quiet_hold", "script"})


async def update_settings(db: Database, chat_id: int, now: datetime, **values: object) -> ChatRow | None:
    """Store validated settings (see bot/core/chat_settings.py); column names are checked against a whitelist."""
    unknown = set(values) - SETTING_COLUMNS
    if unknown:
        raise ValueError(f"not a setting: {sorted(unknown)}")
    if values:
        cols = sorted(values)
        assignments = ", ".join(f"{c} = ?" for c in cols)
        params = [",".join(v) if isinstance(v, tuple) else v for v in (values[c] for c in cols)]
        await db.write(f"UPDATE chats SET {assignments}, updated_at = ? WHERE id = ?",
                       (*params, int(now.timestamp()), chat_id))
    return await get_chat(db, chat_id)


async def migrate_chat(db: Database, old_id: int, new_id: int, now: datetime) -> None:
    """A group became a supergroup: move its row (subscriptions, outbox follow by ON UPDATE CASCADE)."""
    async with db.transaction() as conn:
        async with conn.execute("SELECT 1 FROM chats WHERE id = ?", (new_id,)) as cur:
            exists = await cur.fetchone()
        if exists:
            # The new id registered itself already (someone used /start there): keep its row, merge ours.
            await conn.execute("UPDATE OR IGNORE subscriptions SET chat_id = ? WHERE chat_id = ?", (new_id, old_id))
            await conn.execute("UPDATE OR IGNORE outbox SET chat_id = ? WHERE chat_id = ?", (new_id, old_id))
            await conn.execute("UPDATE sends SET chat_id = ? WHERE chat_id = ?", (new_id, old_id))
            await conn.execute("DELETE FROM chats WHERE id = ?", (old_id,))
        else:
            await conn.execute("UPDATE chats SET id = ?, type = 'supergroup', updated_at = ? WHERE id = ?",
                               (new_id, int(now.timestamp()), old_id))


async def subscribe(db: Database, chat_id: int, thread_id: int, categories: tuple[str, ...], now: datetime) -> bool:
    """Subscribe to a category path (and all below). No backfill: only articles stored after now. True if new."""
    async with db.transaction() as conn:
        async with conn.execute("SELECT COALESCE(MAX(id), 0) FROM articles") as cur:
            row = await cur.fetchone()
        since = row[0] if row else 0
        cur = await conn.execute(
            "INSERT OR IGNORE INTO subscriptions (chat_id, thread_id, category_key, categories, since_article_id, "
            "created_at) VALUES (?,?,?,?,?,?)",
            (chat_id, thread_id, category_key(categories), json.dumps(categories, ensure_ascii=False), since,
             int(now.timestamp())),
        )
        return cur.rowcount > 0


async def unsubscribe(db: Database, chat_id: int, thread_id: int, categories: tuple[str, ...]) -> bool:
    n = await db.write(
        "DELETE FROM subscriptions WHERE chat_id = ? AND thread_id = ? AND category_key = ?",
        (chat_id, thread_id, category_key(categories)),
    )
    return n > 0


async def list_subscriptions(db: Database, chat_id: int, thread_id: int | None = None) -> list[Subscription]:
    if thread_id is None:
        rows = await db.fetchall("SELECT * FROM subscriptions WHERE chat_id = ? ORDER BY category_key", (chat_id,))
    else:
        rows = await db.fetchall(
            "SELECT * FROM subscriptions WHERE chat_id = ? AND thread_id = ? ORDER BY category_key",
            (chat_id, thread_id),
        )
    return [
        Subscription(r["chat_id"], r["thread_id"], tuple(json.loads(r["categories"])), r["category_key"],
                     r["since_article_id"])
        for r in rows
    ]
