"""/digest: send what is pending for this chat right now, whatever its schedule or quiet hours."""
from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.core.i18n import t
from handlers.common import ensure_chat, reply, services


async def digest_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    chat, _ = await ensure_chat(update, context)
    engine = services(context).extra.get("delivery")
    if engine is None:
        await reply(update, t(chat.lang, "digest_none"))
        return
    report = await engine.dispatch(force_chat=chat.id)
    if not report.messages_planned:
        await reply(update, t(chat.lang, "digest_none"))


COMMANDS = {"digest": digest_command}
