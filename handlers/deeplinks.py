"""Subscribe by link: `/start sub_<token>` asks to confirm a subscription, `/start read_<id>` opens an
article; `/share category` (and the buttons under /subscriptions) print the link. Payloads are
bot.core.deeplinks's: a category travels as its 8-character token, whatever its name."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.core import render
from bot.core.categories import by_token
from bot.core.deeplinks import ReadLink, SubscribeLink, parse_payload, start_link, subscribe_payload
from bot.core.i18n import t
from handlers.common import (
    argument,
    button_category,
    category_named,
    category_tree,
    ensure_chat,
    reply,
    services,
    thread_of,
)
from storage.articles import get_article
from storage.chats import ChatRow, subscribe


async def open_payload(update: Update, context: ContextTypes.DEFAULT_TYPE, chat: ChatRow, payload: str) -> bool:
    """Answer a `/start <payload>`; False when the payload is not one of ours (a plain /start follows)."""
    link = parse_payload(payload)
    if isinstance(link, ReadLink):
        stored = await get_article(services(context).db, link.article_id)
        if stored is None:
            await reply(update, t(chat.lang, "read_not_found", id=link.article_id))
            return True
        for message in render.read_messages(chat.lang, ZoneInfo(chat.timezone), stored.article):
            await reply(update, message)
        return True
    if isinstance(link, SubscribeLink):
        node = by_token(await category_tree(context), link.token)
        if node is None:
            await reply(update, t(chat.lang, "deeplink_stale"))
            return True
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton(t(chat.lang, "button_confirm_subscribe"),
                                                               callback_data=f"dl:sub:{node.token}")]])
        await reply(update, t(chat.lang, "deeplink_confirm", path=node.label), keyboard)
        return True
    return False


async def on_confirm(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """dl:sub:<token>: the confirmation button under a subscribe link."""
    query = update.callback_query
    assert query is not None and query.data is not None
    chat, _ = await ensure_chat(update, context)
    svc = services(context)
    node = await button_category(update, context, chat, query.data.removeprefix("dl:sub:"), manage=True)
    if node is None:
        return
    added = await subscribe(svc.db, chat.id, thread_of(update), node.path, svc.clock())
    await query.answer()
    text = t(chat.lang, "subscribed" if added else "already_subscribed", path=node.label, name=node.name)
    try:
        await query.edit_message_text(text, parse_mode="HTML")
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            raise


def share_link(context: ContextTypes.DEFAULT_TYPE, path: tuple[str, ...]) -> str:
    return start_link(context.bot.username, subscribe_payload(path))


async def share_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    chat, _ = await ensure_chat(update, context)
    name = argument(context)
    if not name:
        await reply(update, t(chat.lang, "share_usage"))
        return
    node = await category_named(update, context, chat.lang, name)
    if node is None:
        return
    await reply(update, t(chat.lang, "share_link", path=node.label, link=share_link(context, node.path)))


async def on_share_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """share:<token>: a button under /subscriptions prints that category's link."""
    query = update.callback_query
    assert query is not None and query.data is not None
    chat, _ = await ensure_chat(update, context)
    node = await button_category(update, context, chat, query.data.removeprefix("share:"), manage=False)
    if node is None:
        return
    await query.answer()
    await reply(update, t(chat.lang, "share_link", path=node.label, link=share_link(context, node.path)))
