"""/digest: send what is pending for this chat right now, whatever its schedule or quiet hours (in a group:
its admins only, as for settings)."""
from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.core.i18n import t
from handlers.common import ensure_chat, reply, require_manager, services


async def digest_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    chat, _ = await ensure_chat(update, context)
    if not await require_manager(update, context, chat):
        return
    report = await services(context).delivery.dispatch(force_chat=chat.id)
    if not report.messages_planned:
        await reply(update, t(chat.lang, "digest_none"))

