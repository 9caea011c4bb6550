"""/start (also with a deep-link payload), /help and /stop: register a chat, explain the bot, pause pushes;
and the replies to what nothing else handles (unknown commands, buttons no handler claims)."""
from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.core.i18n import t
from handlers.common import (
    can_manage,
    ensure_chat,
    is_bot_admin,
    reply,
    require_manager,
    services,
    user_language,
)
from handlers.deeplinks import open_payload
from handlers.subscriptions import category_keyboard
from storage.chats import set_active


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    existing, _ = await ensure_chat(update, context)
    if existing.is_group and not existing.active and not await can_manage(update, context, existing):
        await reply(update, t(existing.lang, "group_admin_only"))
        return
    chat, was_inactive = await ensure_chat(update, context, reactivate=True)
    if context.args and await open_payload(update, context, chat, context.args[0]):
        return  # a deep link: t.me/<bot>?start=sub_… or read_…
    lang = chat.lang
    text = t(lang, "start")
    if was_inactive:
        text = t(lang, "start_reactivated") + "\n\n" + text
    await reply(update, text, await category_keyboard(context, chat, page=0))


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    chat, _ = await ensure_chat(update, context)
    text = t(chat.lang, "help", bot=context.bot.username)
    if is_bot_admin(update, context):
        text += t(chat.lang, "help_admin")
    await reply(update, text)


async def stop(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    chat, _ = await ensure_chat(update, context)
    if not await require_manager(update, context, chat):
        return
    if not chat.active:
        await reply(update, t(chat.lang, "already_stopped"))
        return
    svc = services(context)
    await set_active(svc.db, chat.id, False, "stopped by user", svc.clock())
    await reply(update, t(chat.lang, "stopped"))


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_chat is not None and update.effective_chat.type != "private":
        return  # in groups, commands meant for other bots are not ours to answer
    chat, _ = await ensure_chat(update, context)
    await reply(update, t(chat.lang, "unknown_command"))


async def unknown_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button no handler claims (a keyboard from an older newsbot, forged data): answer it anyway, or
    the client shows a spinner until Telegram gives up on the query."""
    query = update.callback_query
    assert query is not None
    if update.effective_chat is not None:
        chat, _ = await ensure_chat(update, context)
        lang = chat.lang
    else:  # a button under an inline-mode message: no chat to look up
        lang = user_language(update)
    await query.answer(t(lang, "stale_button"))
