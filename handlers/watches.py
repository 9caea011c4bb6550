"""/watch, /watches, /unwatch: standing keyword alerts, delivered like subscriptions."""
from __future__ import annotations

import re

from telegram import Update
from telegram.ext import ContextTypes

from bot.core.errors import QueryError, WatchError
from bot.core.i18n import Markup, escape, t
from bot.core.render import query_error_text
from handlers.common import (
    argument,
    ensure_chat,
    reply,
    reply_lines,
    require_manager,
    services,
    thread_of,
)
from storage.watches import (
    MAX_WATCHES_PER_CHAT,
    add_watch,
    list_watches,
    remove_watch,
)


async def watch_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    chat, _ = await ensure_chat(update, context)
    text = argument(context)
    if not text:
        await reply(update, t(chat.lang, "watch_usage"))
        return
    if not await require_manager(update, context, chat):
        return
    svc = services(context)
    result = await add_watch(svc.db, chat.id, text, thread_id=thread_of(update), now=svc.clock())
    if isinstance(result, QueryError):
        await reply(update, t(chat.lang, "search_error", reason=Markup(query_error_text(chat.lang, result))))
    elif isinstance(result, WatchError):
        key = {"full": "watch_full", "duplicate": "watch_duplicate"}.get(result.reason, "error_generic")
        await reply(update, t(chat.lang, key, max=MAX_WATCHES_PER_CHAT))
    else:
        n = len(await list_watches(svc.db, chat.id))
        await reply(update, t(chat.lang, "watch_added", n=n, query=result.query))


async def watches_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    chat, _ = await ensure_chat(update, context)
    watches = await list_watches(services(context).db, chat.id)
    if not watches:
        await reply(update, t(chat.lang, "watches_none"))
        return
    lines = [t(chat.lang, "watches_header")]
    lines += [f"{n}. <code>{escape(w.query)}</code>" for n, w in enumerate(watches, start=1)]
    await reply_lines(update, lines)


async def unwatch_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    chat, _ = await ensure_chat(update, context)
    raw = argument(context)
    if not re.fullmatch(r"[0-9]{1,6}", raw):
        await reply(update, t(chat.lang, "unwatch_usage"))
        return
    if not await require_manager(update, context, chat):
        return
    result = await remove_watch(services(context).db, chat.id, int(raw))
    if isinstance(result, WatchError):
        await reply(update, t(chat.lang, "unwatch_missing", n=raw))
    else:
        await reply(update, t(chat.lang, "unwatched", query=result.query))
