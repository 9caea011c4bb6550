"""Assemble the bot: the python-telegram-bot Application, its handlers and its periodic jobs.

`BotRuntime` is the one place where settings, database, Telegram client, scheduler and delivery meet;
`newsbot run`, the offline demo and the end-to-end tests all start the bot through it.
"""
from __future__ import annotations

import asyncio
import logging
import os
import signal
from datetime import datetime, timezone
from typing import Callable

from telegram import BotCommand, BotCommandScopeDefault, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application, CallbackQueryHandler, CommandHandler, ContextTypes, MessageHandler, TypeHandler, filters,
)

from bot.app.settings import Settings
from bot.core.i18n import t
from handlers import admin as admin_handlers
from handlers import articles as article_handlers
from handlers import delivery as delivery_handlers
from handlers import settings as settings_handlers
from handlers import start as start_handlers
from handlers import subscriptions as sub_handlers
from handlers import watches as watch_handlers
from handlers.common import Services, rate_limit_gate, reply, user_language
from storage.db import Database, connect

log = logging.getLogger("newsbot.app")
os.environ.setdefault("PTB_TIMEDELTA", "1")  # RetryAfter.retry_after as a timedelta (PTB 22.2+), no warning

# Topic modules contributing COMMANDS / BUTTONS / TEXT_PATTERNS tables.
TOPIC_MODULES = (article_handlers, watch_handlers, delivery_handlers, admin_handlers)


def command_list(lang: str) -> list[BotCommand]:
    from bot.core.catalogue import en, zh

    commands = (zh if lang == "zh" else en).COMMANDS
    return [BotCommand(name, description) for name, description in commands.items()]


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


def register_handlers(app: Application) -> None:
    """Every command and button the bot answers. Handler modules stay thin; see handlers/."""
    app.add_handler(TypeHandler(Update, rate_limit_gate), group=-1)
    commands: dict[str, Callable] = {
        "start": start_handlers.start,
        "help": start_handlers.help_command,
        "stop": start_handlers.stop,
        "categories": sub_handlers.categories,
        "subscribe": sub_handlers.subscribe_command,
        "unsubscribe": sub_handlers.unsubscribe_command,
        "subscriptions": sub_handlers.subscriptions_command,
        "settings": settings_handlers.settings_command,
    }
    for extra in TOPIC_MODULES:
        commands.update(extra.COMMANDS)
        for pattern, callback in getattr(extra, "BUTTONS", {}).items():
            app.add_handler(CallbackQueryHandler(callback, pattern=pattern))
        for pattern, callback in getattr(extra, "TEXT_PATTERNS", {}).items():
            app.add_handler(MessageHandler(filters.Regex(pattern), callback))
        for pattern, callback in getattr(extra, "CAPTION_PATTERNS", {}).items():
            app.add_handler(MessageHandler(filters.Document.ALL & filters.CaptionRegex(pattern), callback))
    for name, callback in commands.items():
        app.add_handler(CommandHandler(name, callback))
    app.add_handler(CallbackQueryHandler(sub_handlers.on_button, pattern=r"^sub:"))
    app.add_handler(CallbackQueryHandler(settings_handlers.on_button, pattern=r"^set:"))
    app.add_handler(MessageHandler(filters.COMMAND, start_handlers.unknown_command))  # last in group 0: unmatched only
    # Also last in group 0, so it runs only for callback data no pattern above matched (one handler per group).
    app.add_handler(CallbackQueryHandler(start_handlers.unknown_button))
    app.add_error_handler(on_error)


class BotRuntime:
    """The running bot: Application + database + jobs, with an orderly start and a graceful stop."""

    def __init__(self, settings: Settings, *, db: Database | None = None,
                 clock: Callable[[], datetime] | None = None, jobs: bool = True) -> None:
        self.settings = settings
        self._own_db = db is None
        self.db = db
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.jobs = jobs
        self.app: Application | None = None
        self.delivery = None

    def build(self) -> Application:
        s = self.settings
        builder = (
            Application.builder()
            .token(s.token)
            .base_url(f"{s.api_url}/bot")
            .base_file_url(f"{s.api_url}/file/bot")
            .connect_timeout(10).read_timeout(15).write_timeout(15).pool_timeout(10)
            .get_updates_read_timeout(35)
            .concurrent_updates(8)
        )
        app = builder.build()
        register_handlers(app)
        return app

    async def start(self, *, poll_interval: float = 0.0, polling_timeout: int = 30) -> None:
        if self.db is None:
            self.db = await connect(self.settings.db_path)
        self.app = self.build()
        svc = Services(db=self.db, settings=self.settings, clock=self.clock)
        self.app.bot_data["services"] = svc
        await self.app.initialize()
        await self._register_commands()
        await self._start_extras(svc)
        await self.app.start()
        assert self.app.updater is not None
        await self.app.updater.start_polling(poll_interval=poll_interval, timeout=polling_timeout,
                                             drop_pending_updates=False, allowed_updates=Update.ALL_TYPES)
        log.info("event=started bot=%s", self.app.bot.username)

    async def _register_commands(self) -> None:
        assert self.app is not None
        try:
            await self.app.bot.set_my_commands(command_list("en"), scope=BotCommandScopeDefault())
            await self.app.bot.set_my_commands(command_list("zh"), scope=BotCommandScopeDefault(), language_code="zh")
        except TelegramError as exc:
            log.warning("event=set_commands_failed error=%r", exc)

    async def _start_extras(self, svc: Services) -> None:
        """Feeds and delivery, when present: registered feeds, the poll job and the dispatch job."""
        from bot.app import jobs as scheduler

        await scheduler.install(self, svc)

    async def stop(self) -> None:
        """Stop taking updates, finish in-flight sends, close the database."""
        app = self.app
        if app is not None:
            if app.updater is not None and app.updater.running:
                await app.updater.stop()
            if self.delivery is not None:
                await self.delivery.close()
            if app.running:
                await app.stop()
            await app.shutdown()
        if self._own_db and self.db is not None:
            await self.db.close()
            self.db = None

    async def run_until_signal(self) -> None:
        """`newsbot run`: serve until SIGINT or SIGTERM, then shut down gracefully."""
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await self.start()
            await stop.wait()
        finally:
            await self.stop()  # also after a failed start: the database thread must not keep us alive

