"""Health and metrics: `/healthz` and `/metrics` (Prometheus text, prometheus-client) on a loopback port.

Off unless NEWSBOT_METRICS_LISTEN is set. `/healthz` answers 200 "ok" when the database answers, the
Bot API was reached within the poll window and the dispatch job is not stuck; otherwise 503 with one
reason a line. `/metrics` reads the same numbers as `/stats` and `newsbot stats` (storage.stats) plus
this process's counters: ingest outcomes, fetch errors, sends, 429s, search latency.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from telegram.request import HTTPXRequest

from bot.delivery.engine import SendStats
from bot.delivery.pacing import SendLimiter
from storage.db import Database
from storage.stats import Stats, collect_stats

log = logging.getLogger("newsbot.metrics")

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
DB_TIMEOUT = 3.0  # seconds the database may take to answer a health check


class Health:
    """What `/healthz` judges, fed by the runtime: Bot API answers, dispatch rounds started and finished.

    `telegram_window`: the Bot API must have answered within this many seconds (a long poll returns at
    least every ~35 s, so the poll interval is a generous bound). `dispatch_stuck_after`: a dispatch
    round running longer than this, or none finished for this long while jobs run, is stuck."""

    def __init__(self, clock: Callable[[], datetime], *, telegram_window: float, dispatch_stuck_after: float,
                 expect_dispatch: bool = True) -> None:
        self.clock = clock
        self.telegram_window = telegram_window
        self.dispatch_stuck_after = dispatch_stuck_after
        self.expect_dispatch = expect_dispatch
        self.started_at = clock()
        self.telegram_at: datetime | None = None
        self.dispatch_started_at: datetime | None = None
        self.dispatch_finished_at: datetime | None = None

    def telegram_reached(self) -> None:
        self.telegram_at = self.clock()

    def dispatch_started(self) -> None:
        self.dispatch_started_at = self.clock()

    def dispatch_finished(self) -> None:
        self.dispatch_finished_at = self.clock()
        self.dispatch_started_at = None

    async def problems(self, db: Database) -> list[str]:
        """Why the bot is not healthy; empty when it is."""
        now = self.clock()
        reasons: list[str] = []
        try:
            await asyncio.wait_for(db.fetchone("SELECT 1"), DB_TIMEOUT)
        except Exception as exc:  # locked, closed, disk gone: whatever it is, the bot can't work
            reasons.append(f"database: no answer ({type(exc).__name__})")
        since = (now - (self.telegram_at or self.started_at)).total_seconds()
        if since > self.telegram_window:
            reasons.append(f"telegram: Bot API not reached for {since:.0f} s")
        if self.dispatch_started_at is not None:
            running = (now - self.dispatch_started_at).total_seconds()
            if running > self.dispatch_stuck_after:
                reasons.append(f"dispatch: a round has been running for {running:.0f} s")
        elif self.expect_dispatch:
            idle = (now - (self.dispatch_finished_at or self.started_at)).total_seconds()
            if idle > self.dispatch_stuck_after:
                reasons.append(f"dispatch: no round finished for {idle:.0f} s")
        return reasons


class TrackedRequest(HTTPXRequest):
    """The getUpdates connection: any HTTP answer from the Bot API counts as "Telegram reached"."""

    def __init__(self, on_answer: Callable[[], None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._on_answer = on_answer

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        result = await super().do_request(*args, **kwargs)
        self._on_answer()
        return result


@dataclass
class Sources:
    """Where the process's own numbers live (filled in by BotRuntime.start)."""

    db: Database
    db_path: str
    send_stats: SendStats
    limiter: SendLimiter
    clock: Callable[[], datetime]


class _Snapshot(Collector):
    """Numbers read at scrape time: the database's (storage.stats, refreshed just before) and the
    delivery engine's counters."""

    def __init__(self, sources: Sources) -> None:
        self.sources = sources
        self.stats: Stats | None = None

    def collect(self) -> Iterator[Metric]:
        send, limiter = self.sources.send_stats, self.sources.limiter
        for name, value, text in (
            ("newsbot_messages_sent", send.sent, "Messages Telegram accepted"),
            ("newsbot_messages_failed", send.failed, "Messages given up on"),
            ("newsbot_messages_retried", send.retried, "Send attempts retried after a transient error"),
            ("newsbot_telegram_429", send.rate_limited, "429 Too Many Requests answers"),
            ("newsbot_telegram_held_seconds", limiter.held_seconds, "Seconds all sending was held by 429s"),
        ):
            yield CounterMetricFamily(name, text, value=value)
        s = self.stats
        if s is None:
            return
        for name, gauge, text in (
            ("newsbot_outbox_depth", s.outbox_pending, "Outbox items waiting to be sent"),
            ("newsbot_outbox_due_messages", s.outbox_due, "Planned messages due now"),
            ("newsbot_outbox_oldest_due_age_seconds", s.oldest_due_seconds, "Age of the oldest due message"),
            ("newsbot_database_bytes", s.db_bytes, "SQLite file plus write-ahead log"),
            ("newsbot_articles", s.articles, "Stored articles"),
            ("newsbot_chats_active", s.chats_active, "Active chats"),
            ("newsbot_sends_failed", s.sends_failed, "Messages recorded as failed"),
            ("newsbot_story_tombstones", s.tombstones, "Fingerprints of purged stories"),
            ("newsbot_feeds_failing", s.feeds_failing, "Feeds whose last poll failed"),
            ("newsbot_feeds_backoff", s.feeds_backoff, "Feeds waiting out a failure backoff"),
        ):
            yield GaugeMetricFamily(name, text, value=gauge)
        failures = GaugeMetricFamily("newsbot_feed_failures", "Consecutive failed polls", labels=["feed"])
        backoff = GaugeMetricFamily("newsbot_feed_backoff_seconds", "Seconds until a failing feed is polled again",
                                    labels=["feed"])
        paused = GaugeMetricFamily("newsbot_feed_paused", "1 when the feed is paused", labels=["feed"])
        for f in s.feed_rows:
            failures.add_metric([str(f.id)], f.failures)
            backoff.add_metric([str(f.id)], f.backoff_seconds)
            paused.add_metric([str(f.id)], int(f.paused))
        yield from (failures, backoff, paused)


class Metrics:
    """One registry per bot (tests run several): counters the jobs feed, and the scrape-time snapshot."""

    def __init__(self, sources: Sources) -> None:
        self.sources = sources
        self.registry = CollectorRegistry(auto_describe=True)
        self.ingested = Counter("newsbot_articles_ingested", "Articles from feed polls by outcome",
                                ["feed", "outcome"], registry=self.registry)
        self.fetch_errors = Counter("newsbot_feed_fetch_errors", "Failed feed polls", ["feed"],
                                    registry=self.registry)
        self.search_seconds = Histogram("newsbot_search_seconds", "Search latency (/search and its pages)",
                                        buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
                                        registry=self.registry)
        self._snapshot = _Snapshot(sources)
        self.registry.register(self._snapshot)

    def record_poll(self, results: list[Any]) -> None:
        """A poll round's results (bot.feeds.poller.PollResult): outcomes and errors per feed."""
        for r in results:
            feed = str(r.feed_id)
            for outcome in ("new", "same_story", "updated", "known", "duplicate"):
                n = getattr(r, outcome, 0)
                if n:
                    self.ingested.labels(feed, outcome).inc(n)
            if r.rejected:
                self.ingested.labels(feed, "rejected").inc(len(r.rejected))
            if r.error is not None:
                self.fetch_errors.labels(feed).inc()

    async def render(self) -> bytes:
        s = self.sources
        self._snapshot.stats = await collect_stats(s.db, s.db_path, s.clock())
        return generate_latest(self.registry)


class OpsServer:
    """The aiohttp server for /healthz and /metrics, in the bot's event loop."""

    def __init__(self, metrics: Metrics, health: Health, host: str, port: int) -> None:
        self.metrics, self.health, self.host, self.port = metrics, health, host, port
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        if sockets:
            self.port = sockets[0].getsockname()[1]
        log.info("event=metrics_listening host=%s port=%s", self.host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _healthz(self, request: web.Request) -> web.Response:
        problems = await self.health.problems(self.metrics.sources.db)
        if problems:
            return web.Response(status=503, text="\n".join(problems) + "\n")
        return web.Response(text="ok\n")

    async def _metrics(self, request: web.Request) -> web.Response:
        body = await self.metrics.render()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})
