"""/settings: show the chat's delivery settings with buttons, or change one by text."""
from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.core.chat_settings import parse_setting
from bot.core.clean import fold
from bot.core.errors import SettingError
from bot.core.i18n import t
from handlers.channels import Target, handle, target
from handlers.common import can_manage, ensure_chat, reply, require_manager, services
from storage.chats import ChatRow, update_settings

QUIET_POSTS = {"silent": False, "hold": True}  # /settings @channel quiet_posts …: what quiet hours do to posts


def render(chat: ChatRow) -> tuple[str, InlineKeyboardMarkup]:
    lang = chat.lang
    quiet = f"{chat.quiet_start}–{chat.quiet_end}" if chat.quiet_start and chat.quiet_end else t(lang, "quiet_off")
    text = t(lang, "settings_header") + "\n" + t(
        lang, "settings_body", mode=t(lang, f"mode_{chat.mode}"), times=", ".join(chat.digest_times),
        quiet=quiet, length=chat.summary_length, language=t(lang, f"lang_{lang}"), tz=chat.timezone,
    )
    rows = [
        [InlineKeyboardButton(t(lang, "button_mode"), callback_data="set:mode"),
         InlineKeyboardButton(t(lang, "button_lang"), callback_data="set:lang")],
        [InlineKeyboardButton(t(lang, "button_shorter"), callback_data="set:len:-1"),
         InlineKeyboardButton(t(lang, "button_longer"), callback_data="set:len:+1")],
    ]
    if chat.quiet_start:
        rows.append([InlineKeyboardButton(t(lang, "button_quiet_off"), callback_data="set:quiet:off")])
    return text, InlineKeyboardMarkup(rows)


def render_channel(tgt: Target) -> str:
    """A channel's settings, shown in the private chat that named it (no buttons: they change this chat)."""
    chat, lang = tgt.chat, tgt.lang
    quiet = f"{chat.quiet_start}–{chat.quiet_end}" if chat.quiet_start and chat.quiet_end else t(lang, "quiet_off")
    how = t(lang, "quiet_posts_hold" if chat.quiet_hold else "quiet_posts_silent")
    return tgt.heading + t(lang, "settings_header") + "\n" + t(
        lang, "settings_body", mode=t(lang, f"mode_{chat.mode}"), times=", ".join(chat.digest_times),
        quiet=quiet, length=chat.summary_length, language=t(lang, f"lang_{chat.lang}"), tz=chat.timezone,
    ) + t(lang, "settings_channel_extra", how=how, handle=handle(chat))


async def settings_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    tgt = await target(update, context)
    if tgt is None:
        return
    chat, args = tgt.chat, tgt.args
    if not args:
        if tgt.channel:
            await reply(update, render_channel(tgt))
        else:
            await reply(update, *render(chat))
        return
    if not tgt.channel and not await require_manager(update, context, chat):
        return
    svc = services(context)
    if tgt.channel and fold(args[0]) == "quiet_posts":
        hold = QUIET_POSTS.get(fold(" ".join(args[1:])))
        if hold is None:
            await reply(update, t(tgt.lang, "settings_bad_quiet_posts"))
            return
        await update_settings(svc.db, chat.id, svc.clock(), quiet_hold=hold)
        await reply(update, tgt.heading + t(tgt.lang, "settings_saved", what=f"quiet_posts {'hold' if hold else 'silent'}"))
        return
    change = parse_setting(args)
    if isinstance(change, SettingError):
        await reply(update, t(tgt.lang, change.reason, **change.params))
        return
    updated = await update_settings(svc.db, chat.id, svc.clock(), **change.values)
    assert updated is not None
    lang = tgt.lang if tgt.channel else updated.lang  # a channel's language is for its posts
    await reply(update, tgt.heading + t(lang, "settings_saved", what=change.shown))


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None
    chat, _ = await ensure_chat(update, context)
    if not await can_manage(update, context, chat):
        await query.answer(t(chat.lang, "group_admin_only"), show_alert=True)
        return
    parts = query.data.split(":")
    values: dict[str, object] | None = None
    if parts == ["set", "mode"]:
        values = {"mode": "digest" if chat.mode == "instant" else "instant"}
    elif parts == ["set", "lang"]:
        values = {"language": "en" if chat.lang.startswith("zh") else "zh"}
    elif parts[:2] == ["set", "len"] and len(parts) == 3 and parts[2] in ("-1", "+1"):
        values = {"summary_length": min(5, max(1, chat.summary_length + int(parts[2])))}
    elif parts == ["set", "quiet", "off"]:
        values = {"quiet_start": None, "quiet_end": None}
    if values is None:
        await query.answer(t(chat.lang, "stale_button"), show_alert=True)
        return
    svc = services(context)
    updated = await update_settings(svc.db, chat.id, svc.clock(), **values)
    assert updated is not None
    await query.answer()
    text, keyboard = render(updated)
    try:
        await query.edit_message_text(text, parse_mode="HTML", reply_markup=keyboard)
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            raise
