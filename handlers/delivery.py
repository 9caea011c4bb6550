"""/digest: send what is pending for this chat (or a channel it names) right now, whatever its schedule or
quiet hours (in a group: its admins only, as for settings)."""
from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.core.i18n import t
from handlers.channels import target
from handlers.common import reply, require_manager, services


async def digest_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/digest, or /digest @channel from a private chat (the channel's admins who may post)."""
    tgt = await target(update, context)
    if tgt is None or not tgt.channel and not await require_manager(update, context, tgt.chat):
        return
    report = await services(context).delivery.dispatch(force_chat=tgt.chat.id)
    if not report.messages_planned:
        await reply(update, tgt.heading + t(tgt.lang, "digest_none"))
    elif tgt.channel:
        await reply(update, tgt.heading + t(tgt.lang, "digest_sent"))

