"""What every handler needs: the shared services, the chat and its language, replies, permission checks."""
from __future__ import annotations

import logging
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ChatMemberStatus, ParseMode
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot.core import render
from bot.core.categories import Node, build_tree, by_token, resolve
from bot.core.i18n import language_of, t
from bot.core.render import pack_lines
from bot.core.settings import Settings
from bot.delivery.engine import NO_PREVIEW, DeliveryEngine
from storage.articles import category_counts
from storage.chats import ChatRow, get_chat, register_chat
from storage.db import Database

log = logging.getLogger("newsbot.handlers")

MAX_ARGUMENT_CHARS = 300


@dataclass(frozen=True)
class Services:
    """What handlers and jobs share, built once by bot.app.runtime and kept in bot_data["services"]."""

    db: Database
    settings: Settings
    delivery: DeliveryEngine
    clock: Callable[[], datetime]
    wake_dispatch: Callable[[], None]  # ask for a dispatch round now (after new articles or a /fetchnow)
    user_rate_limit: UserRateLimit


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    svc: Services = context.application.bot_data["services"]
    return svc


def thread_of(update: Update) -> int:
    """The forum topic a message came from (0 outside topics)."""
    msg = update.effective_message
    # A button under an old message may carry an inaccessible one, without topic fields.
    if msg is not None and getattr(msg, "is_topic_message", False) and msg.message_thread_id:
        return msg.message_thread_id
    return 0


async def ensure_chat(update: Update, context: ContextTypes.DEFAULT_TYPE, *, reactivate: bool = False
                      ) -> tuple[ChatRow, bool]:
    """The stored chat for this update, registering it on first contact. (chat, was_inactive)."""
    svc = services(context)
    tg_chat = update.effective_chat
    assert tg_chat is not None
    existing = await get_chat(svc.db, tg_chat.id)
    if existing is not None and not reactivate:
        return existing, False
    client_lang = user_language(update)
    if existing is not None and existing.is_group:
        client_lang = existing.client_language  # a group's language is set once, by whoever started it
    return await register_chat(
        svc.db, chat_id=tg_chat.id, type=tg_chat.type, title=tg_chat.title or tg_chat.full_name or "",
        is_forum=bool(getattr(tg_chat, "is_forum", False)), client_language=client_lang,
        timezone=existing.timezone if existing else svc.settings.timezone.key, now=svc.clock(),
    )


def user_language(update: Update) -> str:
    """The language of the user's Telegram client (zh or en): for replies where no chat settings apply."""
    user = update.effective_user
    return language_of(user.language_code if user else None)


async def reply(update: Update, text: str, keyboard: InlineKeyboardMarkup | None = None) -> None:
    """Answer in the chat (and topic) the update came from, as HTML, without link previews."""
    msg = update.effective_message
    assert msg is not None
    await msg.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=keyboard, link_preview_options=NO_PREVIEW,
                         do_quote=False)


async def reply_lines(update: Update, lines: list[str]) -> None:
    """Send HTML lines in as few messages as fit Telegram's limit, never splitting a line (see
    bot.core.render.pack_lines)."""
    for text in pack_lines(lines):
        await reply(update, text)


def is_bot_admin(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    user = update.effective_user
    return user is not None and user.id in services(context).settings.admin_ids


async def can_manage(update: Update, context: ContextTypes.DEFAULT_TYPE, chat: ChatRow) -> bool:
    """Private chats manage themselves; in groups only group admins (or bot admins) may change things."""
    if chat.type == "private" or is_bot_admin(update, context):
        return True
    user = update.effective_user
    if user is None or update.effective_chat is None:
        return False
    if chat.type == "channel":
        return False
    sender_chat = getattr(update.effective_message, "sender_chat", None)
    if sender_chat is not None:
        # An anonymous group admin writes as the group itself (from GroupAnonymousBot); a linked
        # channel's posts carry the channel instead, and channels do not manage the group.
        return sender_chat.id == update.effective_chat.id
    try:
        member = await context.bot.get_chat_member(update.effective_chat.id, user.id)
    except TelegramError:
        log.info("event=admin_check_failed chat=%s user=%s", chat.id, user.id)
        return False
    return member.status in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)


async def require_manager(update: Update, context: ContextTypes.DEFAULT_TYPE, chat: ChatRow) -> bool:
    """`can_manage`, replying with the group-admin rule when not."""
    if await can_manage(update, context, chat):
        return True
    await reply(update, t(chat.lang, "group_admin_only"))
    return False


def argument(context: ContextTypes.DEFAULT_TYPE) -> str:
    """The command's arguments as one string (whitespace collapsed)."""
    return " ".join(context.args or []).strip()


class UserRateLimit:
    """At most `burst` commands per sender in `window` seconds; the rest get one polite reply, then silence.

    Kept in memory and bounded (the least recently seen senders are forgotten past `max_senders`): it
    protects other chats from one noisy sender, it is not a security boundary.
    """

    def __init__(self, burst: int = 20, window: float = 10.0, clock: Callable[[], float] = time.monotonic,
                 max_senders: int = 50_000) -> None:
        self.burst, self.window, self.clock, self.max_senders = burst, window, clock, max_senders
        self.senders: OrderedDict[int, tuple[deque[float], list[float]]] = OrderedDict()  # hits, [warned at]

    def allow(self, sender: int) -> tuple[bool, bool]:
        """(allowed, should_warn)."""
        now = self.clock()
        entry = self.senders.get(sender)
        if entry is None:
            entry = self.senders[sender] = (deque(), [-1e9])
            if len(self.senders) > self.max_senders:
                self.senders.popitem(last=False)
        else:
            self.senders.move_to_end(sender)
        hits, warned = entry
        while hits and now - hits[0] > self.window:
            hits.popleft()
        if len(hits) < self.burst:
            hits.append(now)
            return True, False
        warn = now - warned[0] > self.window
        if warn:
            warned[0] = now
        return False, warn


def sender_key(update: Update) -> int | None:
    """Whom the per-sender limit counts: the user, or the chat a message is sent as. Anonymous group admins
    all appear as one bot user (GroupAnonymousBot) and channel posts as another, so they are keyed by
    their chat (negative ids, never a user's)."""
    msg = update.effective_message
    sender_chat = getattr(msg, "sender_chat", None) if msg is not None else None
    if sender_chat is not None:
        return int(sender_chat.id)
    user = update.effective_user
    return user.id if user is not None else None


async def rate_limit_gate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Runs before every handler (group -1): drops a user's updates past the per-user rate."""
    user = update.effective_user
    key = sender_key(update)
    if user is None or key is None or key in services(context).settings.admin_ids:
        return
    limiter = services(context).user_rate_limit
    allowed, warn = limiter.allow(key)
    if allowed:
        return
    if warn and update.effective_message is not None and update.callback_query is None:
        chat = await get_chat(services(context).db, update.effective_chat.id) if update.effective_chat else None
        lang = chat.lang if chat else language_of(user.language_code)
        try:
            await reply(update, t(lang, "rate_limited"))
        except TelegramError:
            pass
    elif update.callback_query is not None:
        try:
            await update.callback_query.answer(t(language_of(user.language_code), "rate_limited"))
        except TelegramError:
            pass
    raise ApplicationHandlerStop


async def category_named(update: Update, context: ContextTypes.DEFAULT_TYPE, lang: str, name: str) -> Node | None:
    """The category a user typed (any level, either script), or None after telling them why not: too
    long, unknown (with the paths they may have meant) or ambiguous."""
    if len(name) > MAX_ARGUMENT_CHARS:
        await reply(update, t(lang, "argument_too_long", limit=MAX_ARGUMENT_CHARS))
        return None
    found = resolve(await category_tree(context), name)
    if found.node is None:
        await reply(update, render.category_not_found(lang, name, found))
    return found.node


async def category_tree(context: ContextTypes.DEFAULT_TYPE) -> list[Node]:
    """Every stored category path, as the tree that names, buttons and links resolve against."""
    return build_tree(await category_counts(services(context).db))


async def button_category(update: Update, context: ContextTypes.DEFAULT_TYPE, chat: ChatRow, token: str, *,
                          manage: bool) -> Node | None:
    """The category a button's token names, or None after an alert: the button is stale (the category is
    gone) or, when `manage`, the user may not change this chat."""
    query = update.callback_query
    assert query is not None
    node = by_token(await category_tree(context), token)
    if node is None:
        await query.answer(t(chat.lang, "stale_button"), show_alert=True)
    elif manage and not await can_manage(update, context, chat):
        await query.answer(t(chat.lang, "group_admin_only"), show_alert=True)
        return None
    return node
