"""Assemble the bot: the python-telegram-bot Application, its handlers and its periodic jobs.

`BotRuntime` is the one place where settings, database, Telegram client, scheduler and delivery meet;
`newsbot run`, the offline demo and the end-to-end tests all start the bot through it.
"""
from __future__ import annotations

import asyncio
import hmac
import logging
import os
import signal
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from telegram import BotCommand, BotCommandScopeDefault
from telegram.error import TelegramError
from telegram.ext import Application

from bot.app import jobs
from bot.app.metrics import Health, Metrics, OpsServer, Sources, TrackedRequest
from bot.core.catalogue import en, zh
from bot.core.settings import Settings
from bot.delivery.engine import DeliveryEngine
from bot.delivery.pacing import SendLimiter
from bot.delivery.replies import PacedRequests
from handlers import registry
from handlers.common import Services, UserRateLimit
from storage.db import Database, connect
from storage.lock import RunnerLock
from storage.watches import match_new_articles as match_watches

log = logging.getLogger("newsbot.app")
os.environ.setdefault("PTB_TIMEDELTA", "1")  # RetryAfter.retry_after as a timedelta (PTB 22.2+), no warning


class ConstantTimeSecret(str):
    """The webhook secret as python-telegram-bot's webhook handler compares it. PTB tests
    `header != secret` with str's early-exit comparison; a str subclass on the right of `!=` is asked
    first (its reflected __ne__), so the header is compared with hmac.compare_digest, in constant time."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, str):
            return NotImplemented
        return hmac.compare_digest(str.encode(self), other.encode("utf-8", "surrogatepass"))

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    __hash__ = str.__hash__


def command_list(lang: str) -> list[BotCommand]:
    commands = (zh if lang == "zh" else en).COMMANDS
    return [BotCommand(name, description) for name, description in commands.items()]


class BotRuntime:
    """The running bot: Application + database + jobs, with an orderly start and a graceful stop."""

    def __init__(self, settings: Settings, *, db: Database | None = None,
                 clock: Callable[[], datetime] | None = None, jobs: bool = True,
                 limiter: SendLimiter | None = None) -> None:
        """`clock` and `limiter` (the pacing of every send) are injectable: tests run on fake time."""
        self.settings = settings
        self._own_db = db is None
        self.db = db
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.jobs = jobs
        self.limiter = limiter or SendLimiter()
        self.app: Application | None = None
        self._services: Services | None = None
        self._lock: RunnerLock | None = None
        # /healthz and /metrics (bot/app/metrics.py): served only when NEWSBOT_METRICS_LISTEN is set.
        self.health = Health(self.clock, telegram_window=max(90.0, settings.poll_seconds),
                             dispatch_stuck_after=max(120.0, 10.0 * settings.dispatch_seconds), expect_dispatch=jobs)
        self.metrics: Metrics | None = None
        self._ops_server: OpsServer | None = None

    @property
    def services(self) -> Services:
        assert self._services is not None, "BotRuntime.start() first"
        return self._services

    @property
    def delivery(self) -> DeliveryEngine:
        return self.services.delivery

    def build(self) -> Application:
        s = self.settings
        builder = (
            Application.builder()
            .token(s.token)
            .base_url(f"{s.api_url}/bot")
            .base_file_url(f"{s.api_url}/file/bot")
            # Every answer from the Bot API (long polls and calls) tells /healthz that Telegram is reachable.
            .request(TrackedRequest(self.health.telegram_reached, connection_pool_size=256, connect_timeout=10,
                                    read_timeout=15, write_timeout=15, pool_timeout=10))
            .get_updates_request(TrackedRequest(self.health.telegram_reached, connection_pool_size=1,
                                                read_timeout=35))
            # Handlers mostly wait (for the database, or for their chat's next send slot): many may run at
            # once, so a user whose replies are paced at 1/s never holds up everyone else's.
            .concurrent_updates(256)
            .rate_limiter(PacedRequests(self.limiter))  # replies share the pushes' pacing and 429 holds
        )
        app = builder.build()
        registry.register(app)
        return app

    async def start(self, *, poll_interval: float = 0.0, polling_timeout: int = 30, lock_wait: float = 0.0) -> None:
        """Take the database's runner lock (one bot per database), connect, start the jobs, poll."""
        db_path = self.settings.db_path if self.db is None else Path(self.db.path)
        if str(db_path) != ":memory:":
            self._lock = RunnerLock(db_path)
            await self._lock.acquire(lock_wait)
        if self.db is None:
            self.db = await connect(self.settings.db_path)
        app = self.app = self.build()
        job_queue = app.job_queue
        assert job_queue is not None

        def wake_dispatch() -> None:
            job_queue.run_once(jobs.dispatch_job, 0, name="dispatch-now")

        engine = DeliveryEngine(app.bot, self.db, clock=self.clock, limiter=self.limiter,
                                watch_matcher=match_watches)
        svc = self._services = Services(db=self.db, settings=self.settings, delivery=engine, clock=self.clock,
                                        wake_dispatch=wake_dispatch, user_rate_limit=UserRateLimit())
        app.bot_data["services"] = svc
        await app.initialize()
        await self._register_commands()
        self.metrics = Metrics(Sources(self.db, str(db_path), engine.stats, self.limiter, self.clock))
        app.bot_data.update(health=self.health, metrics=self.metrics, observe_search=self.metrics.search_seconds.observe)
        if self.settings.metrics_listen is not None:
            self._ops_server = OpsServer(self.metrics, self.health, *self.settings.metrics_listen)
            await self._ops_server.start()
        await jobs.install(app, svc, repeating=self.jobs)
        await app.start()
        assert self.app.updater is not None
        s = self.settings
        if s.webhook:
            # python-telegram-bot's own server (tornado): setWebhook with the secret and the update types we
            # handle; every request without the matching X-Telegram-Bot-Api-Secret-Token header is refused
            # (compared in constant time: ConstantTimeSecret). Pending updates are kept: Telegram holds them
            # while we restart.
            host, port = s.webhook_listen
            await self.app.updater.start_webhook(
                listen=host, port=port, url_path=s.webhook_path, webhook_url=s.webhook_url,
                secret_token=ConstantTimeSecret(s.webhook_secret), allowed_updates=registry.UPDATE_TYPES,
                drop_pending_updates=False,
                bootstrap_retries=3)
        else:
            # Polling calls deleteWebhook first (a webhook left from webhook mode would make getUpdates fail).
            await self.app.updater.start_polling(poll_interval=poll_interval, timeout=polling_timeout,
                                                 drop_pending_updates=False, allowed_updates=registry.UPDATE_TYPES)
        log.info("event=started bot=%s mode=%s", self.app.bot.username, "webhook" if s.webhook else "polling")

    async def _register_commands(self) -> None:
        assert self.app is not None
        try:
            await self.app.bot.set_my_commands(command_list("en"), scope=BotCommandScopeDefault())
            await self.app.bot.set_my_commands(command_list("zh"), scope=BotCommandScopeDefault(), language_code="zh")
        except TelegramError as exc:
            log.warning("event=set_commands_failed error=%r", exc)

    async def stop(self) -> None:
        """Stop taking updates (polling: the last batch is confirmed; webhook: the server closes, and
        Telegram keeps what it could not deliver), handle every update already taken (Application.stop
        drains the queue), finish in-flight sends, close the database. The webhook stays set, so
        updates that arrive meanwhile wait at Telegram for the next start."""
        if self._ops_server is not None:
            await self._ops_server.stop()
            self._ops_server = None
        app = self.app
        if app is not None:
            if app.updater is not None and app.updater.running:
                await app.updater.stop()
            if self._services is not None:
                await self._services.delivery.close()
            if app.running:
                await app.stop()
            await app.shutdown()
        if self._own_db and self.db is not None:
            await self.db.close()
            self.db = None
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    async def run_until_signal(self, *, lock_wait: float = 0.0) -> None:
        """`newsbot run`: serve until SIGINT or SIGTERM, then shut down gracefully."""
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await self.start(lock_wait=lock_wait)
            await stop.wait()
        finally:
            await self.stop()  # also after a failed start: the database thread must not keep us alive

