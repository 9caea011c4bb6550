"""Periodic work on python-telegram-bot's JobQueue (APScheduler): poll feeds, dispatch deliveries.

One poll job and one dispatch job for the whole bot (which chats are due is a query, not a job per
chat). Neither overlaps itself (max_instances=1); they are separate jobs, so a slow poll never
delays a dispatch. A poll that stored new articles asks for a dispatch right away.
"""
from __future__ import annotations

import logging

from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import Application, ContextTypes

from bot.app.maintenance import run_maintenance
from bot.core.errors import FeedError
from bot.core.feed_items import redact_url
from bot.core.i18n import t
from bot.feeds.egress import EgressPolicy
from bot.feeds.manage import register_feeds
from bot.feeds.poller import FeedNotice, Limits, poll_due_feeds
from handlers.common import Services, services
from storage.chats import get_chat

log = logging.getLogger("newsbot.jobs")

JOB_OPTIONS = {"max_instances": 1, "coalesce": True, "misfire_grace_time": None}


async def install(app: Application, svc: Services, *, repeating: bool = True) -> None:
    """Register the configured feeds, start the delivery engine, and (unless `repeating` is off) the jobs."""
    for result in await register_feeds(svc.db, list(svc.settings.feeds), egress=EgressPolicy.of(svc.settings)):
        if isinstance(result, FeedError):
            log.warning("event=feed_not_registered reason=%s detail=%s", result.reason, redact_url(result.detail))
        else:
            log.info("event=feed_registered feed_id=%s created=%s location=%s", result.feed.id, result.created,
                     redact_url(result.feed.location))
    await svc.delivery.start()
    if repeating:
        assert app.job_queue is not None
        app.job_queue.run_repeating(poll_job, interval=svc.settings.poll_seconds, first=1, name="poll",
                                    job_kwargs=JOB_OPTIONS)
        app.job_queue.run_repeating(dispatch_job, interval=svc.settings.dispatch_seconds, first=0.5,
                                    name="dispatch", job_kwargs=JOB_OPTIONS)
        # Backup and retention (bot/app/maintenance.py): checked hourly, each done once a day.
        app.job_queue.run_repeating(maintenance_job, interval=MAINTENANCE_TICK, first=MAINTENANCE_FIRST,
                                    name="maintenance", job_kwargs=JOB_OPTIONS)


MAINTENANCE_TICK = 3600.0
MAINTENANCE_FIRST = 600.0  # not in the busy first minutes after a start


async def maintenance_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = services(context)
    try:
        await run_maintenance(svc.db, svc.settings, svc.clock())
    except Exception:  # disk full, backup folder gone: report, try again next tick
        log.exception("event=maintenance_failed")


async def dispatch_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    health = context.application.bot_data.get("health")  # /healthz: a round that never ends is "stuck"
    if health is not None:
        health.dispatch_started()
    try:
        report = await services(context).delivery.dispatch()
    except Exception:  # the database may be locked or full: report, keep the job alive, retry next round
        log.exception("event=dispatch_failed")
        return
    finally:
        if health is not None:
            health.dispatch_finished()
    if report.messages_planned:
        log.info("event=dispatched %s", report)


async def poll_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = services(context)
    try:
        round_ = await poll_due_feeds(svc.db, now=svc.clock(), interval=svc.settings.poll_seconds,
                                      default_tz=svc.settings.timezone, egress=EgressPolicy.of(svc.settings),
                                      limits=Limits.of(svc.settings))
    except Exception:
        log.exception("event=poll_failed")
        return
    metrics = context.application.bot_data.get("metrics")
    if metrics is not None:
        metrics.record_poll(round_.results)
    await notify_admins(context.bot, svc, round_.notices)
    if round_.new_article_ids:
        svc.wake_dispatch()


async def notify_admins(bot: Bot, svc: Services, notices: list[FeedNotice]) -> None:
    """One message per notice to every admin (failing after repeated errors, and recovered)."""
    for notice in notices:
        for admin in svc.settings.admin_ids:
            chat = await get_chat(svc.db, admin)
            lang = chat.lang if chat else "zh"
            if notice.kind == "failing":
                text = t(lang, "feed_failing_notice", id=notice.feed_id, name=redact_url(notice.name),
                         failures=notice.failures, error=redact_url(str(notice.error or "")))
            else:
                text = t(lang, "feed_recovered_notice", id=notice.feed_id, name=notice.name)
            try:
                await bot.send_message(admin, text, parse_mode=ParseMode.HTML)
            except TelegramError as exc:
                log.warning("event=admin_notice_failed admin=%s error=%r", admin, exc)
