"""Channels the bot posts in, and the users who manage them from a private chat (migration 0007).

A channel is a row of `chats` with type 'channel'; it is active while the bot is an administrator
allowed to post. `channel_admins` remembers who was seen managing it, to list their channels and to
tell them when it stops; it grants nothing: handlers re-check getChatMember on every change.
"""
from __future__ import annotations

from datetime import datetime

from storage.chats import ChatRow, get_chat, register_chat, set_active
from storage.db import Database
from storage.outbox import drop_chat_backlog


async def activate_channel(db: Database, *, chat_id: int, title: str, username: str | None, language: str,
                           timezone: str, now: datetime) -> tuple[ChatRow, bool]:
    """Register the channel (or refresh it) as active. (channel, was_inactive_or_new)."""
    existing = await get_chat(db, chat_id)
    chat, was_inactive = await register_chat(
        db, chat_id=chat_id, type="channel", title=title, is_forum=False,
        client_language=existing.client_language if existing else language,
        timezone=existing.timezone if existing else timezone, now=now, username=username)
    return chat, was_inactive or existing is None


async def deactivate_channel(db: Database, chat_id: int, reason: str, now: datetime) -> ChatRow | None:
    """The bot may no longer post: stop matching new articles for it and drop what it has not yet sent
    (subscriptions and settings are kept for when it comes back). The channel, or None if unknown."""
    if not await set_active(db, chat_id, False, reason, now):
        return None
    await drop_chat_backlog(db, chat_id, reason)
    return await get_chat(db, chat_id)


async def add_admins(db: Database, channel_id: int, user_ids: list[int], now: datetime) -> None:
    ts = int(now.timestamp())
    await db.run_in_transaction(lambda conn: conn.executemany(
        "INSERT INTO channel_admins (channel_id, user_id, updated_at) VALUES (?,?,?) "
        "ON CONFLICT(channel_id, user_id) DO UPDATE SET updated_at = excluded.updated_at",
        [(channel_id, u, ts) for u in user_ids]))


async def remove_admin(db: Database, channel_id: int, user_id: int) -> None:
    await db.write("DELETE FROM channel_admins WHERE channel_id = ? AND user_id = ?", (channel_id, user_id))


async def channel_admins(db: Database, channel_id: int) -> list[int]:
    rows = await db.fetchall("SELECT user_id FROM channel_admins WHERE channel_id = ? ORDER BY user_id",
                             (channel_id,))
    return [int(r[0]) for r in rows]


async def channels_of(db: Database, user_id: int) -> list[ChatRow]:
    """Active channels this user was seen managing, by title."""
    rows = await db.fetchall(
        "SELECT c.id FROM channel_admins a JOIN chats c ON c.id = a.channel_id "
        "WHERE a.user_id = ? AND c.type = 'channel' AND c.active = 1 ORDER BY c.title, c.id", (user_id,))
    found = [await get_chat(db, int(r[0])) for r in rows]
    return [c for c in found if c is not None]


async def find_channel(db: Database, handle: str) -> ChatRow | None:
    """A known channel by `@username` (any case) or numeric id."""
    handle = handle.strip()
    if handle.startswith("@"):
        row = await db.fetchone("SELECT id FROM chats WHERE username = ? AND type = 'channel'",
                                (handle[1:].lower(),))
        return await get_chat(db, int(row[0])) if row else None
    try:
        chat = await get_chat(db, int(handle))
    except ValueError:
        return None
    return chat if chat is not None and chat.is_channel else None


async def subscription_counts(db: Database, chat_ids: list[int]) -> dict[int, int]:
    if not chat_ids:
        return {}
    rows = await db.fetchall(
        f"SELECT chat_id, COUNT(*) FROM subscriptions WHERE chat_id IN ({','.join('?' * len(chat_ids))}) "
        "GROUP BY chat_id", chat_ids)
    return {int(r[0]): int(r[1]) for r in rows}
