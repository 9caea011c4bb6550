"""/categories, /subscribe, /unsubscribe, /subscriptions and the category keyboard's buttons."""
from __future__ import annotations

import html

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.core.categories import Node, category_token, resolve
from bot.core.i18n import escape, t
from bot.core.render import pack_lines, shown, tg_cut
from handlers.channels import Target, handle, target
from handlers.common import (
    button_category,
    category_named,
    category_tree,
    ensure_chat,
    reply,
    reply_lines,
    require_manager,
    services,
    thread_of,
)
from storage.articles import category_key
from storage.chats import ChatRow, list_subscriptions, subscribe, unsubscribe

PAGE_SIZE = 8
SHARE_BUTTONS = 10


async def category_keyboard(context: ContextTypes.DEFAULT_TYPE, chat: ChatRow, page: int, thread_id: int = 0
                            ) -> InlineKeyboardMarkup | None:
    """Paged toggle buttons over the whole tree; ✅ marks subscribed nodes. None when there is no category."""
    tree = await category_tree(context)
    if not tree:
        return None
    subscribed = {s.category_key for s in await list_subscriptions(services(context).db, chat.id, thread_id)}
    pages = max(1, -(-len(tree) // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    rows = []
    for node in tree[page * PAGE_SIZE:(page + 1) * PAGE_SIZE]:
        mark = "✅ " if category_key(node.path) in subscribed else ""
        label = f"{'　' * node.depth}{mark}{shown(node.name, chat.lang)} ({node.count})"  # in the reader's script
        rows.append([InlineKeyboardButton(label[:60], callback_data=f"sub:t:{node.token}:{page}")])
    nav = []
    if page > 0:
        nav.append(InlineKeyboardButton(t(chat.lang, "button_prev"), callback_data=f"sub:p:{page - 1}"))
    if page < pages - 1:
        nav.append(InlineKeyboardButton(t(chat.lang, "button_next"), callback_data=f"sub:p:{page + 1}"))
    if nav:
        rows.append(nav)
    return InlineKeyboardMarkup(rows)


async def categories(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    chat, _ = await ensure_chat(update, context)
    tree = await category_tree(context)
    if not tree:
        await reply(update, t(chat.lang, "no_categories"))
        return
    lines = [t(chat.lang, "categories_header")]
    for node in tree:
        lines.append(f"{'　' * node.depth}{'•' if node.depth == 0 else '›'} {escape(node.name)} ({node.count})")
    lines.append("")
    lines.append(t(chat.lang, "categories_hint"))
    await reply_lines(update, lines)


async def _name_or_keyboard(update: Update, context: ContextTypes.DEFAULT_TYPE
                            ) -> tuple[Target, str, int] | None:
    """(target, typed name, topic) for /subscribe and /unsubscribe (this chat, or `@channel name`);
    without a name, shows the keyboard (for a channel: how to name one)."""
    tgt = await target(update, context)
    if tgt is None or not tgt.channel and not await require_manager(update, context, tgt.chat):
        return None
    name = " ".join(tgt.args).strip()
    thread = 0 if tgt.channel else thread_of(update)
    if not name and tgt.channel:
        await reply(update, t(tgt.lang, "channel_subscribe_usage", handle=handle(tgt.chat)))
        return None
    if not name:
        keyboard = await category_keyboard(context, tgt.chat, 0, thread)
        await reply(update, t(tgt.lang, "subscribe_pick" if keyboard else "no_categories"), keyboard)
        return None
    return tgt, name, thread


async def subscribe_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    found = await _name_or_keyboard(update, context)
    if found is None:
        return
    tgt, name, thread = found
    node = await category_named(update, context, tgt.lang, name)
    if node is None:
        return
    svc = services(context)
    added = await subscribe(svc.db, tgt.chat.id, thread, node.path, svc.clock())
    key = "subscribed" if added else "already_subscribed"
    await reply(update, tgt.heading + t(tgt.lang, key, path=shown(node.label, tgt.lang), name=shown(node.name, tgt.lang)))


async def unsubscribe_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    found = await _name_or_keyboard(update, context)
    if found is None:
        return
    tgt, name, thread = found
    # Match against the chat's own subscriptions first, so a category that no longer has articles can go.
    subs = await list_subscriptions(services(context).db, tgt.chat.id, thread)
    own = [Node(s.categories, 0) for s in subs]
    node = resolve(own, name).node or await category_named(update, context, tgt.lang, name)
    if node is None:
        return
    removed = await unsubscribe(services(context).db, tgt.chat.id, thread, node.path)
    await reply(update, tgt.heading + t(tgt.lang, "unsubscribed" if removed else "not_subscribed",
                                                path=shown(node.label, tgt.lang)))


async def subscriptions_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The chat's (or a named channel's) subscriptions, with a button under them to share each one."""
    tgt = await target(update, context)
    if tgt is None:
        return
    subs = await list_subscriptions(services(context).db, tgt.chat.id)
    if not subs:
        await reply(update, tgt.heading + t(tgt.lang, "subscriptions_none"))
        return
    lines = [tgt.heading + t(tgt.lang, "subscriptions_header")]
    for s in subs:
        topic = f" (#{s.thread_id})" if s.thread_id else ""
        lines.append(f"• {escape(shown(' › '.join(s.categories), tgt.lang))}{topic}")
    texts = pack_lines(lines)
    for text in texts[:-1]:
        await reply(update, text)
    share = [[InlineKeyboardButton(tg_cut(html.unescape(t(tgt.lang, "button_share", name=s.categories[-1])), 60),
                                   callback_data=f"share:{category_token(s.categories)}")]
             for s in subs[:SHARE_BUTTONS]]
    await reply(update, texts[-1], InlineKeyboardMarkup(share))


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """sub:p:<page> turns the page; sub:t:<token>:<page> toggles a category."""
    query = update.callback_query
    assert query is not None and query.data is not None
    chat, _ = await ensure_chat(update, context)
    parts = query.data.split(":")
    thread = thread_of(update)
    try:
        if parts[1] == "p" and len(parts) == 3:
            page = int(parts[2])
            await query.answer()
            await _edit_keyboard(query, await category_keyboard(context, chat, page, thread))
            return
        if parts[1] == "t" and len(parts) == 4:
            page = int(parts[3])
            node = await button_category(update, context, chat, parts[2], manage=True)
            if node is None:
                return
            svc = services(context)
            if await unsubscribe(svc.db, chat.id, thread, node.path):
                note = t(chat.lang, "toggled_off", path=shown(node.label, chat.lang))
            else:
                await subscribe(svc.db, chat.id, thread, node.path, svc.clock())
                note = t(chat.lang, "toggled_on", path=shown(node.label, chat.lang))
            await query.answer(_plain(note))
            await _edit_keyboard(query, await category_keyboard(context, chat, page, thread))
            return
    except ValueError:
        pass
    await query.answer(t(chat.lang, "stale_button"), show_alert=True)


def _plain(text: str) -> str:
    """Callback answers are plain text (no parse mode): undo our HTML escaping."""
    return tg_cut(html.unescape(text), 200)


async def _edit_keyboard(query, keyboard: InlineKeyboardMarkup | None) -> None:
    try:
        await query.edit_message_reply_markup(reply_markup=keyboard)
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            raise
