"""Every update the bot answers, in one table: commands, buttons, text patterns, documents, errors."""
from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    BaseHandler,
    CallbackQueryHandler,
    ChatMemberHandler,
    ChosenInlineResultHandler,
    CommandHandler,
    ContextTypes,
    InlineQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.core.i18n import t
from handlers import admin, articles, channels, deeplinks, delivery, inline, settings, start, subscriptions, watches
from handlers.common import rate_limit_gate, reply, user_language

log = logging.getLogger("newsbot.handlers")

COMMANDS = {
    "start": start.start, "help": start.help_command, "stop": start.stop,
    "categories": subscriptions.categories, "subscribe": subscriptions.subscribe_command,
    "unsubscribe": subscriptions.unsubscribe_command, "subscriptions": subscriptions.subscriptions_command,
    "settings": settings.settings_command, "digest": delivery.digest_command,
    "latest": articles.latest_command, "read": articles.read_command, "search": articles.search_command,
    "watch": watches.watch_command, "watches": watches.watches_command, "unwatch": watches.unwatch_command,
    "channels": channels.channels_command, "share": deeplinks.share_command,
    # admins only (each checks): feeds, stats, OPML
    "addfeed": admin.addfeed, "feeds": admin.list_feeds_command, "removefeed": admin.removefeed,
    "pausefeed": admin.pausefeed, "resumefeed": admin.resumefeed, "fetchnow": admin.fetchnow,
    "stats": admin.stats_command, "export": admin.export_command, "import": admin.import_command,
}
BUTTONS = {
    r"^search:": articles.on_search_button,
    r"^sub:": subscriptions.on_button,
    r"^set:": settings.on_button,
    r"^dl:sub:": deeplinks.on_confirm,
    r"^share:": deeplinks.on_share_button,
}
# The update types the bot handles: asked for by getUpdates and by setWebhook (bot.app.runtime).
UPDATE_TYPES = [Update.MESSAGE, Update.CALLBACK_QUERY, Update.INLINE_QUERY, Update.CHOSEN_INLINE_RESULT,
                Update.MY_CHAT_MEMBER]


def handlers() -> list[BaseHandler]:
    """Group 0 in order: the first match wins, so the catch-alls come last."""
    table: list[BaseHandler] = [CommandHandler(name, callback) for name, callback in COMMANDS.items()]
    table += [CallbackQueryHandler(callback, pattern=pattern) for pattern, callback in BUTTONS.items()]
    table += [
        ChatMemberHandler(channels.on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER),
        InlineQueryHandler(inline.on_inline_query),
        ChosenInlineResultHandler(inline.on_chosen),
        MessageHandler(filters.Regex(r"^/read_\d+"), articles.read_command),
        # An OPML file sent as a document with "/import" as its caption.
        MessageHandler(filters.Document.ALL & filters.CaptionRegex(r"^/import(?:@\w+)?\s*$"), admin.import_command),
        MessageHandler(filters.COMMAND, start.unknown_command),   # any other command
        CallbackQueryHandler(start.unknown_button),               # callback data no pattern above matched
    ]
    return table


def register(app: Application) -> None:
    """Install the per-user rate gate (group -1, before everything), the handlers and the error handler."""
    app.add_handler(TypeHandler(Update, rate_limit_gate), group=-1)
    app.add_handlers(handlers())
    app.add_error_handler(on_error)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the failure (token-free, see bot/app/logs.py) and tell the user something went wrong."""
    log.error("event=handler_error update_id=%s error=%r", getattr(update, "update_id", None), context.error,
              exc_info=context.error)
    if not isinstance(update, Update):
        return
    text = t(user_language(update), "error_generic")
    try:
        if update.callback_query is not None:
            # A button whose handler failed before answering would spin until Telegram gives up. If it
            # had answered already, Telegram refuses this second answer (caught below).
            await update.callback_query.answer(text, show_alert=True)
        elif update.effective_message is not None:
            await reply(update, text)
    except TelegramError:
        pass
