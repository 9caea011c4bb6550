"""Channels: the bot learns of them from my_chat_member updates, and their admins manage them from a
private chat by naming them (`/subscribe @channel 金融`, a numeric id works too); /channels lists them.

Every command that names a channel asks getChatMember whether the user is still an administrator of it
who may post; nobody else can change a channel. When the bot is removed or may no longer post, the
channel is deactivated, its backlog dropped, and the admins seen managing it are told in private.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from telegram import Update
from telegram.constants import ChatMemberStatus, ParseMode
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.core.i18n import Markup, escape, language_of, t
from handlers.common import ensure_chat, reply, reply_lines, services
from storage.channels import (
    activate_channel,
    add_admins,
    channel_admins,
    channels_of,
    deactivate_channel,
    find_channel,
    remove_admin,
    subscription_counts,
)
from storage.chats import ChatRow, get_chat

log = logging.getLogger("newsbot.handlers")

# A channel named in a command: @username (5-32 characters, a letter first) or a channel id (-100…).
CHANNEL_ARGUMENT = re.compile(r"@[A-Za-z][A-Za-z0-9_]{4,31}|-100[0-9]{1,13}")
POSTING = (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR)


@dataclass(frozen=True)
class Target:
    """The chat a command changes (this chat, or a channel it names), the language to answer in, and
    the arguments that are left."""

    chat: ChatRow
    lang: str
    args: list[str]
    channel: bool = False

    @property
    def heading(self) -> str:
        """A line naming the channel above a reply about it ("" for the chat itself)."""
        return t(self.lang, "channel_heading", title=self.chat.title) + "\n" if self.channel else ""


def handle(chat: ChatRow) -> str:
    """How to name a channel in a command: @username, else its id."""
    return f"@{chat.username}" if chat.username else str(chat.id)


def may_post(member: object) -> bool:
    """An owner, or an administrator with the right to post messages."""
    status = getattr(member, "status", None)
    if status == ChatMemberStatus.OWNER:
        return True
    return status == ChatMemberStatus.ADMINISTRATOR and bool(getattr(member, "can_post_messages", False))


async def user_may_post(context: ContextTypes.DEFAULT_TYPE, channel_id: int, user_id: int) -> bool:
    try:
        member = await context.bot.get_chat_member(channel_id, user_id)
    except TelegramError as exc:
        log.info("event=channel_admin_check_failed channel=%s user=%s error=%r", channel_id, user_id, exc)
        return False
    return may_post(member)


async def target(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Target | None:
    """This chat, or the channel its first argument names (from a private chat, by an admin of the
    channel who may post: re-checked with getChatMember every time). None when a refusal was sent."""
    here, _ = await ensure_chat(update, context)
    args = list(context.args or [])
    if not args or not CHANNEL_ARGUMENT.fullmatch(args[0]):
        return Target(here, here.lang, args)
    if here.type != "private":
        await reply(update, t(here.lang, "channel_private_only"))
        return None
    svc = services(context)
    channel = await find_channel(svc.db, args[0])
    user = update.effective_user
    if channel is None or user is None:
        await reply(update, t(here.lang, "channel_unknown", name=args[0]))
        return None
    if not await user_may_post(context, channel.id, user.id):
        await remove_admin(svc.db, channel.id, user.id)
        await reply(update, t(here.lang, "channel_not_admin", title=channel.title))
        return None
    if not channel.active:
        await reply(update, t(here.lang, "channel_inactive", title=channel.title))
        return None
    await add_admins(svc.db, channel.id, [user.id], svc.clock())
    return Target(channel, here.lang, args[1:], channel=True)


# ---------------------------------------------------------------- my_chat_member

async def on_my_chat_member(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The bot's own membership changed. In a channel: able to post → active; else inactive."""
    change = update.my_chat_member
    if change is None or change.chat.type != "channel":
        return
    svc = services(context)
    chat, by = change.chat, change.from_user
    if may_post(change.new_chat_member):
        channel, fresh = await activate_channel(
            svc.db, chat_id=chat.id, title=chat.title or "", username=chat.username,
            language=language_of(by.language_code if by else None), timezone=svc.settings.timezone.key,
            now=svc.clock())
        admins = await _posting_admins(context, chat.id)
        if by is not None and not by.is_bot:
            admins.add(by.id)
        await add_admins(svc.db, chat.id, sorted(admins), svc.clock())
        log.info("event=channel_activated channel=%s admins=%d", chat.id, len(admins))
        if fresh and by is not None and not by.is_bot:
            await _tell(context, by.id, "channel_activated", title=channel.title, handle=handle(channel))
        return
    existing = await get_chat(svc.db, chat.id)
    # Told once, when it could post before this change (a post refused a moment earlier may already have
    # deactivated the channel: the admins still hear why from this update).
    if existing is None or not (existing.active or may_post(change.old_chat_member)):
        return
    status = change.new_chat_member.status
    gone = status in (ChatMemberStatus.LEFT, ChatMemberStatus.BANNED)
    await deactivate_channel(svc.db, chat.id, f"bot is {status} in the channel", svc.clock())
    log.info("event=channel_deactivated channel=%s status=%s", chat.id, status)
    for user_id in await channel_admins(svc.db, chat.id):
        await _tell(context, user_id, "channel_deactivated", title=existing.title,
                    why=("channel_why_left" if gone else "channel_why_no_post"))


async def _posting_admins(context: ContextTypes.DEFAULT_TYPE, channel_id: int) -> set[int]:
    try:
        admins = await context.bot.get_chat_administrators(channel_id)
    except TelegramError as exc:
        log.info("event=channel_admins_failed channel=%s error=%r", channel_id, exc)
        return set()
    return {m.user.id for m in admins if may_post(m) and not m.user.is_bot}


async def _tell(context: ContextTypes.DEFAULT_TYPE, user_id: int, key: str, **params: str) -> None:
    """A notice in the user's private chat with the bot (in its language), if they ever started it."""
    svc = services(context)
    private = await get_chat(svc.db, user_id)
    lang = private.lang if private else "zh"
    if "why" in params:
        params = {**params, "why": t(lang, params["why"])}
    try:
        await context.bot.send_message(user_id, t(lang, key, **params), parse_mode=ParseMode.HTML)
    except TelegramError as exc:  # never started the bot, or blocked it
        log.info("event=channel_notice_failed user=%s error=%r", user_id, exc)


# ---------------------------------------------------------------- /channels

async def channels_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The channels this user manages where the bot can post (each re-checked with getChatMember)."""
    here, _ = await ensure_chat(update, context)
    user = update.effective_user
    if here.type != "private" or user is None:
        await reply(update, t(here.lang, "channel_private_only"))
        return
    svc = services(context)
    mine = []
    for channel in await channels_of(svc.db, user.id):
        if await user_may_post(context, channel.id, user.id):
            mine.append(channel)
        else:
            await remove_admin(svc.db, channel.id, user.id)
    if not mine:
        await reply(update, t(here.lang, "channels_none"))
        return
    counts = await subscription_counts(svc.db, [c.id for c in mine])
    lines = [t(here.lang, "channels_header")]
    for c in mine:
        lines.append(t(here.lang, "channel_line", title=c.title, handle=Markup(f"<code>{escape(handle(c))}</code>"),
                       subs=counts.get(c.id, 0), mode=t(here.lang, f"mode_{c.mode}")))
    await reply_lines(update, lines)
