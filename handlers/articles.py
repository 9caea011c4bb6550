"""/latest, /read (and /read_<id>) and /search with Next/Previous buttons that survive restarts.

Each handler parses its arguments, asks storage, and replies with bot.core.render's text (which keeps
every message within Telegram's limits).
"""
from __future__ import annotations

import re
import time
from zoneinfo import ZoneInfo

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.core import render
from bot.core.errors import QueryError
from bot.core.i18n import t
from bot.core.query import page_callback, parse_page_callback
from bot.core.summarise import current_summary
from handlers.common import (
    NO_PREVIEW,
    argument,
    category_named,
    ensure_chat,
    reply,
    services,
)
from storage.articles import get_article, latest
from storage.chats import ChatRow
from storage.search import SearchPage, load_session, save_session, search

LATEST_DEFAULT, LATEST_MAX = 5, 20
SEARCH_PAGE = 5


# ------------------------------------------------------------------ /latest
async def latest_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    chat, _ = await ensure_chat(update, context)
    args = list(context.args or [])
    count = LATEST_DEFAULT
    if args and re.fullmatch(r"[0-9０-９]{1,6}", args[-1]):
        count = int(args.pop().translate(str.maketrans("０１２３４５６７８９", "0123456789")))
        if not 1 <= count <= LATEST_MAX:
            await reply(update, t(chat.lang, "latest_bad_count", max=LATEST_MAX))
            return
    name = " ".join(args).strip()
    path: tuple[str, ...] = ()
    label = ""
    if name:
        node = await category_named(update, context, chat.lang, name)
        if node is None:
            return
        path, label = node.path, node.label
    rows = await latest(services(context).db, category=path, limit=count)
    if not rows:
        await reply(update, t(chat.lang, "latest_none"))
        return
    items = [(s.id, s.article, current_summary(s.article, s.summary, s.summary_version)[:chat.summary_length])
             for s in rows]
    for text in render.latest_messages(chat.lang, ZoneInfo(chat.timezone), label, items):
        await reply(update, text)


# ------------------------------------------------------------------ /read
_ORIGINAL = ("orig", "original", "原文")

async def read_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    chat, _ = await ensure_chat(update, context)
    msg = update.effective_message
    m = re.match(r"^/read_(\d{1,12})(_orig)?(?:@\w+)?\b", msg.text or "" if msg else "")
    raw = m.group(1) if m else argument(context)
    original = bool(m and m.group(2))  # /read_12_orig or /read 12 orig: as published, not in the chat's script
    if not m and raw and (words := raw.split()) and len(words) == 2 and words[1].lower() in _ORIGINAL:
        raw, original = words[0], True
    if not re.fullmatch(r"\d{1,12}", raw or ""):
        await reply(update, t(chat.lang, "read_usage"))
        return
    stored = await get_article(services(context).db, int(raw))
    if stored is None:
        await reply(update, t(chat.lang, "read_not_found", id=raw))
        return
    for message in render.read_messages(chat.lang, ZoneInfo(chat.timezone), stored.article, article_id=stored.id,
                                        original=original):
        await reply(update, message)


# ------------------------------------------------------------------ /search
def _page_reply(chat: ChatRow, page: SearchPage, session_id: int) -> tuple[str, InlineKeyboardMarkup | None]:
    """The page's text and its Previous/Next buttons (none on a single page)."""
    lang = chat.lang
    nav = []
    if page.has_previous:
        nav.append(InlineKeyboardButton(t(lang, "button_prev"), callback_data=page_callback(session_id, page.page - 1)))
    if page.has_more:
        nav.append(InlineKeyboardButton(t(lang, "button_next"), callback_data=page_callback(session_id, page.page + 1)))
    keyboard = InlineKeyboardMarkup([nav]) if nav else None
    return render.search_page(lang, ZoneInfo(chat.timezone), page), keyboard


def _observe_search(context: ContextTypes.DEFAULT_TYPE, seconds: float) -> None:
    """Search latency for /metrics (bot/app/metrics.py puts the observer in bot_data; absent: no metrics)."""
    observe = context.application.bot_data.get("observe_search")
    if observe is not None:
        observe(seconds)


async def search_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    chat, _ = await ensure_chat(update, context)
    text = argument(context)
    if not text:
        await reply(update, t(chat.lang, "search_usage"))
        return
    svc = services(context)
    started = time.perf_counter()
    page = await search(svc.db, text, limit=SEARCH_PAGE, now=svc.clock())
    _observe_search(context, time.perf_counter() - started)
    if isinstance(page, QueryError):
        await reply(update, render.search_error(chat.lang, page))
        return
    if not page.hits:
        await reply(update, render.search_none(chat.lang, page.query, text))
        return
    session_id = await save_session(svc.db, chat.id, text, now=svc.clock())
    await reply(update, *_page_reply(chat, page, session_id))


async def on_search_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    chat, _ = await ensure_chat(update, context)
    parsed = parse_page_callback(query.data or "")
    svc = services(context)
    session = await load_session(svc.db, parsed[0], chat.id) if parsed else None
    if parsed is None or session is None:  # forged, foreign or expired
        await query.answer(t(chat.lang, "search_expired"), show_alert=True)
        return
    # Answered after the search (milliseconds, see bench/search.py), so that a page which is gone or
    # forged gets an alert and leaves the message as it is.
    started = time.perf_counter()
    page = await search(svc.db, session.query, limit=SEARCH_PAGE, offset=parsed[1] * SEARCH_PAGE, now=svc.clock())
    _observe_search(context, time.perf_counter() - started)
    if isinstance(page, QueryError) or not page.hits:
        await query.answer(t(chat.lang, "search_expired"), show_alert=True)
        return
    await query.answer()
    await _edit(query, *_page_reply(chat, page, session.id))


async def _edit(query: CallbackQuery, text: str, keyboard: InlineKeyboardMarkup | None) -> None:
    try:
        await query.edit_message_text(text, parse_mode="HTML", reply_markup=keyboard, link_preview_options=NO_PREVIEW)
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():  # a double tap asks twice for the page already shown
            raise
