"""Admin-only feed management: /addfeed /removefeed /feeds /pausefeed /resumefeed /fetchnow /stats /export /import.

Only users listed in NEWSBOT_ADMIN_IDS; everyone else gets a clear refusal, nothing changes, and the
attempt is logged with the user id.
"""
from __future__ import annotations

import logging
import re
import shlex
from datetime import timedelta
from functools import wraps
from io import BytesIO
from typing import Any

from telegram import Update
from telegram.ext import ContextTypes

from bot.core.categories import PATH_SPLIT
from bot.core.errors import FeedError, OpmlError
from bot.core.feed_items import redact_url
from bot.core.i18n import Markup, t
from bot.core.opml import export_opml, parse_opml
from bot.feeds import manage as feeds
from bot.feeds.egress import EgressPolicy
from bot.feeds.poller import Limits, poll_due_feeds
from handlers.common import (
    argument,
    ensure_chat,
    is_bot_admin,
    reply,
    reply_lines,
    services,
)
from storage.stats import collect_stats

log = logging.getLogger("newsbot.admin")
MAX_OPML_DOWNLOAD = 2 * 1024 * 1024


def admin_only(handler):
    @wraps(handler)
    async def guarded(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat, _ = await ensure_chat(update, context)
        if not is_bot_admin(update, context):
            user = update.effective_user
            log.warning("event=admin_denied user=%s chat=%s command=%s", user.id if user else None, chat.id,
                        handler.__name__)
            await reply(update, t(chat.lang, "admin_only"))
            return
        if chat.type != "private":  # feed lists, errors and stats are for the admin's eyes only
            await reply(update, t(chat.lang, "admin_private_only"))
            return
        await handler(update, context, chat.lang)

    return guarded


def feed_error(lang: str, error: FeedError) -> str:
    return t(lang, "feed_error",
             reason=Markup(t(lang, f"feed_err_{error.reason}", detail=redact_url(error.detail)[:300])))


def _feed_id(context: ContextTypes.DEFAULT_TYPE) -> int | None:
    args = context.args or []
    return int(args[0]) if args and re.fullmatch(r"[0-9]{1,9}", args[0]) else None


@admin_only
async def addfeed(update: Update, context: ContextTypes.DEFAULT_TYPE, lang: str) -> None:
    try:
        parts = shlex.split(argument(context))
    except ValueError:
        parts = argument(context).split()
    if not parts or len(parts[0]) > 2000:
        await reply(update, t(lang, "feed_add_usage"))
        return
    category = tuple(p for p in PATH_SPLIT.split(" ".join(parts[1:])) if p) if len(parts) > 1 else ()
    svc = services(context)
    # Folders only below NEWSBOT_FEED_ROOTS (none by default): a chat must not name the server's files.
    result = await feeds.add_feed(svc.db, parts[0], category, now=svc.clock(),
                                  egress=EgressPolicy.of(svc.settings),
                                  folder_roots=svc.settings.feed_roots)
    if isinstance(result, FeedError):
        await reply(update, feed_error(lang, result))
        return
    if not result.created:
        await reply(update, t(lang, "feed_exists", id=result.feed.id))
        return
    detail = t(lang, "feed_found", items=result.items if result.items is not None else "?",
               newest=(result.newest_title or "—")[:200])
    await reply(update, t(lang, "feed_added", id=result.feed.id, name=f"{result.feed.name} ({redact_url(result.feed.location)})",
                          detail=Markup(detail)))


@admin_only
async def list_feeds_command(update: Update, context: ContextTypes.DEFAULT_TYPE, lang: str) -> None:
    svc = services(context)
    rows = await feeds.list_feeds(svc.db)
    if not rows:
        await reply(update, t(lang, "feeds_none"))
        return
    lines = [t(lang, "feeds_header")]
    day_ago = svc.clock() - timedelta(days=1)
    for f in rows:
        error = f"\n   ⚠️ {redact_url(f.last_error)}" if f.last_error and f.failures else ""
        capped = t(lang, "feed_capped", skipped=f.capped_skipped, deferred=f.capped_deferred,
                   per_fetch=svc.settings.max_items_per_fetch, per_day=svc.settings.max_new_per_feed_day,
                   ) if f.capped_since(day_ago) else ""
        lines.append(t(lang, "feed_line", id=f.id, status=f.status, name=f.name, kind=f.kind,
                       location=redact_url(f.location), articles=f.articles, failures=f.failures,
                       error=error[:300]) + capped)
    await reply_lines(update, lines)


async def _by_id(update, context, lang, command: str, action) -> Any:
    feed_id = _feed_id(context)
    if feed_id is None:
        await reply(update, t(lang, "feed_id_usage", command=command))
        return
    result = await action(services(context).db, feed_id)
    if isinstance(result, FeedError):
        await reply(update, t(lang, "feed_not_found", id=feed_id) if result.reason == "no_such_feed"
                    else feed_error(lang, result))
        return
    return result


@admin_only
async def removefeed(update: Update, context: ContextTypes.DEFAULT_TYPE, lang: str) -> None:
    purge = any(a.lower() == "purge" for a in (context.args or [])[1:])
    result = await _by_id(update, context, lang, "removefeed",
                          lambda db, fid: feeds.remove_feed(db, fid, purge=purge))
    if result is not None:
        purged = f" (−{result.purged})" if purge else ""
        await reply(update, t(lang, "feed_removed", id=result.feed.id, purged=purged))


@admin_only
async def pausefeed(update: Update, context: ContextTypes.DEFAULT_TYPE, lang: str) -> None:
    result = await _by_id(update, context, lang, "pausefeed", feeds.pause_feed)
    if result is not None:
        await reply(update, t(lang, "feed_paused", id=result.id))


@admin_only
async def resumefeed(update: Update, context: ContextTypes.DEFAULT_TYPE, lang: str) -> None:
    result = await _by_id(update, context, lang, "resumefeed", feeds.resume_feed)
    if result is not None:
        await reply(update, t(lang, "feed_resumed", id=result.id))


@admin_only
async def fetchnow(update: Update, context: ContextTypes.DEFAULT_TYPE, lang: str) -> None:
    svc = services(context)
    feed_id = _feed_id(context)
    if context.args and feed_id is None:
        await reply(update, t(lang, "feed_id_usage", command="fetchnow"))
        return
    round_ = await poll_due_feeds(svc.db, now=svc.clock(), force=True, feed_id=feed_id,
                                  interval=svc.settings.poll_seconds, default_tz=svc.settings.timezone,
                                  egress=EgressPolicy.of(svc.settings), limits=Limits.of(svc.settings))
    if round_.error is not None:
        await reply(update, t(lang, "feed_not_found", id=feed_id))
        return
    lines = [t(lang, "fetch_line", id=r.feed_id, name=r.name, new=r.new, duplicate=r.duplicate + r.known,
               same=r.same_story, rejected=len(r.rejected),
               error=Markup(f" ⚠️ {t(lang, f'feed_err_{r.error.reason}', detail=redact_url(r.error.detail)[:200])}")
               if r.error else "")
             + (t(lang, "fetch_capped", skipped=r.over_cap, deferred=r.deferred) if r.over_cap or r.deferred else "")
             for r in round_.results]
    # One line per feed: after an OPML import that is more than one message holds.
    await reply_lines(update, [t(lang, "fetch_result", lines="")] + lines if lines else [t(lang, "fetch_result", lines="—")])
    if round_.new_article_ids:
        svc.wake_dispatch()


@admin_only
async def stats_command(update: Update, context: ContextTypes.DEFAULT_TYPE, lang: str) -> None:
    svc = services(context)
    s = await collect_stats(svc.db, svc.settings.db_path, svc.clock())

    def when(dt) -> str:
        return dt.astimezone(svc.settings.timezone).strftime("%Y-%m-%d %H:%M:%S") if dt else t(lang, "never")

    lines = t(lang, "stats_lines", articles=s.articles, stories=s.stories, active=s.chats_active,
              inactive=s.chats_inactive, subscriptions=s.subscriptions, watches=s.watches, pending=s.outbox_pending,
              failed=s.sends_failed, feeds=s.feeds, failing=s.feeds_failing, paused=s.feeds_paused,
              poll=when(s.last_poll_at), dispatch=when(s.last_dispatch_at), size=f"{s.db_bytes / 1e6:.1f} MB")
    # The same numbers as /metrics (bot/app/metrics.py): the database's, and this process's send counters.
    sent = svc.delivery.stats
    ops = t(lang, "stats_ops_lines", due=s.outbox_due, oldest=int(s.oldest_due_seconds), sent=sent.sent,
            sent_failed=sent.failed, retried=sent.retried, limited=sent.rate_limited,
            held=int(svc.delivery.limiter.held_seconds), tombstones=s.tombstones)
    await reply(update, t(lang, "stats_body", lines=Markup(f"{lines}\n{ops}")))


@admin_only
async def export_command(update: Update, context: ContextTypes.DEFAULT_TYPE, lang: str) -> None:
    svc = services(context)
    data = export_opml(await feeds.list_feeds(svc.db), now=svc.clock())  # locations without credentials
    assert update.effective_message is not None
    await update.effective_message.reply_document(BytesIO(data), filename="newsbot-feeds.opml")


@admin_only
async def import_command(update: Update, context: ContextTypes.DEFAULT_TYPE, lang: str) -> None:
    msg = update.effective_message
    assert msg is not None
    doc = msg.document or (msg.reply_to_message.document if msg.reply_to_message else None)
    if doc is None:
        await reply(update, t(lang, "import_usage"))
        return
    if doc.file_size and doc.file_size > MAX_OPML_DOWNLOAD:
        await reply(update, t(lang, "opml_invalid", reason="too_large"))
        return
    file = await doc.get_file()
    data = bytes(await file.download_as_bytearray())
    parsed = parse_opml(data)
    if isinstance(parsed, OpmlError):
        await reply(update, t(lang, "opml_invalid", reason=parsed.reason))
        return
    svc = services(context)
    # folder_roots=(): an OPML file from a chat registers URLs only, never the server's folders.
    report = await feeds.import_feeds(svc.db, parsed.entries, egress=EgressPolicy.of(svc.settings),
                                      folder_roots=())
    await reply(update, t(lang, "import_result", added=len(report.added), skipped=len(report.skipped),
                          invalid=len(report.invalid) + len(parsed.invalid)))
