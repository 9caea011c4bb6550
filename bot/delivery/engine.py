"""The delivery engine: decide which chats are due, plan their digests, and send them exactly once.

`dispatch()` (run by the scheduler every ~30 s, and by /digest) matches new articles to chats and turns
each due chat's pending items into planned messages. A long-running sender drains planned messages
with bounded concurrency, paced by `SendLimiter`, recording each result in SQLite (storage/outbox.py).

Crash safety: a message is planned (in SQLite) before it is sent and marked sent with its message_id
in the same transaction as its items. After a crash, planned and in-flight messages are sent again:
nothing is lost, and only the messages in flight at the moment of the crash (at most `concurrency`)
can arrive twice.

A refused message hurts no more than it must: a photo Telegram can't take (bad image URL, rights,
timeout) goes out as text; a deleted or closed forum topic loses that topic's backlog, not the chat.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from telegram import Bot, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bot.core.chat_settings import in_quiet_hours, last_digest_slot
from bot.core.deeplinks import read_link_template
from bot.core.digest import DigestItem, plan_messages
from bot.core.render import MAX_MESSAGE_CHARS, for_channel, plain_text, tg_cut
from bot.core.summarise import current_summary
from bot.delivery.pacing import SendLimiter
from bot.delivery.replies import ENGINE_PACED
from storage import outbox
from storage.chats import get_chat, migrate_chat, set_active
from storage.db import Database

log = logging.getLogger("newsbot.delivery")

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
MAX_AMBIGUOUS_ATTEMPTS = 2   # timeouts that may have delivered: at most one duplicate per message
MAX_TRANSIENT_TRIES = 3      # 5xx / network errors within one turn before backing off
BACKOFF_CAP = timedelta(minutes=10)

# What Telegram's 400 answers mean for one send (matched on the lower-cased description).
_THREAD_GONE = ("message thread not found", "topic_deleted", "topic_id_invalid")
_THREAD_CLOSED = ("topic_closed",)
_CHAT_GONE = ("chat not found", "bot was kicked", "bot was blocked", "not a member", "have no rights",
              "not enough rights", "need administrator rights")  # the last: a channel that demoted the bot
_HTML_REFUSED = ("parse entities", "too long", "entities")


@dataclass
class DispatchReport:
    matched_articles: int = 0
    queued: int = 0
    chats_planned: int = 0
    messages_planned: int = 0


@dataclass
class SendStats:
    """What this process has sent since start: logged at shutdown (event=delivery_stats), read by the tests."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    rate_limited: int = 0
    plain_text_fallbacks: int = 0
    photo_fallbacks: int = 0
    threads_dropped: int = 0
    chats_deactivated: int = 0
    migrated: int = 0


def refusal(description: str, *, photo: bool, as_html: bool) -> str:
    """What a 400 means for one send: 'thread_gone' / 'thread_closed' (only that forum topic is lost),
    'photo' (send the same item as text), 'chat' (nothing can reach the chat), 'html' (send it as plain
    text) or 'message' (this message can't be sent). A photo is retried as text on any 400 that is not
    about the chat or its topic: Telegram words image trouble in many ways (WEBPAGE_CURL_FAILED, ...)."""
    text = description.lower()
    if any(m in text for m in _THREAD_GONE):
        return "thread_gone"
    if any(m in text for m in _THREAD_CLOSED):
        return "thread_closed"
    if photo and ("photo" in text or "media" in text):
        return "photo"  # "not enough rights to send photos": text may still be allowed
    if any(m in text for m in _CHAT_GONE):
        return "chat"
    if photo:
        return "photo"
    if as_html and any(m in text for m in _HTML_REFUSED):
        return "html"
    return "message"


def _image_ok(stored) -> str | None:
    art = stored.article
    return art.image_url if art.image_url and "lead_image" in art.flags else None


def _source(stored) -> str:
    art = stored.article
    return art.author or (art.categories[1] if len(art.categories) > 1 else art.categories[0] if art.categories else "")


class DeliveryEngine:
    def __init__(self, bot: Bot, db: Database, *, clock: Callable[[], datetime] | None = None,
                 limiter: SendLimiter | None = None, concurrency: int = 16, send_timeout: float = 10.0,
                 photos: bool = True, watch_matcher=None) -> None:
        self.bot, self.db = bot, db
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.limiter = limiter or SendLimiter()
        self.concurrency = concurrency
        self.send_timeout = send_timeout
        self.photos = photos
        self.watch_matcher = watch_matcher
        self.stats = SendStats()
        self._wake = asyncio.Event()
        self._closing = False
        self._sender: asyncio.Task | None = None
        self._dispatch_lock = asyncio.Lock()
        self._running: dict[int, asyncio.Task] = {}

    # ------------------------------------------------------------------ planning
    async def dispatch(self, *, force_chat: int | None = None) -> DispatchReport:
        """Match new articles, then plan messages for every due chat (or just `force_chat`, due or not)."""
        async with self._dispatch_lock:
            now = self.clock()
            report = DispatchReport()
            matched = await outbox.match_new_articles(self.db, now, self.watch_matcher)
            report.matched_articles, report.queued = matched.articles, matched.queued
            chat_ids = [force_chat] if force_chat is not None else await outbox.chats_with_pending(self.db)
            cache: dict = {}  # one read of each article per dispatch, however many chats get it
            for chat_id in chat_ids:
                n = await self._plan_chat(chat_id, now, force=force_chat is not None, cache=cache)
                if n:
                    report.chats_planned += 1
                    report.messages_planned += n
                    self._wake.set()  # the sender starts on this chat while the rest are planned
            await outbox.set_meta(self.db, "last_dispatch_at", str(int(now.timestamp())))
        if report.messages_planned:
            self._wake.set()
        return report

    async def _plan_chat(self, chat_id: int, now: datetime, *, force: bool, cache: dict | None = None) -> int:
        chat = await get_chat(self.db, chat_id)
        if chat is None or not chat.active:
            return 0
        items = await outbox.pending_items(self.db, chat_id, cache=cache)
        if not items:
            return 0
        digest_at = None
        # A channel's quiet hours post silently (disable_notification) unless its admins chose to hold.
        quiet = in_quiet_hours(now, chat.timezone, chat.quiet_start, chat.quiet_end)
        silent = quiet and chat.is_channel
        if not force:
            if quiet and (not chat.is_channel or chat.quiet_hold):
                return 0
            if chat.mode == "digest":
                slot = last_digest_slot(now, chat.timezone, chat.digest_times)
                baseline = chat.last_digest_at or chat.created_at
                oldest = min(i.queued_at for i in items)
                if slot is None or slot.timestamp() <= baseline or oldest > slot.timestamp():
                    return 0
                digest_at = now
        watches = await self._watch_queries(chat_id, items)
        digest_items = [
            DigestItem(
                outbox_id=i.outbox_id, article_id=i.stored.id, thread_id=i.thread_id, title=i.stored.article.title,
                url=i.stored.article.url, source=_source(i.stored), published=i.stored.article.published,
                categories=i.stored.article.categories,
                summary=tuple(current_summary(i.stored.article, i.stored.summary, i.stored.summary_version)),
                image_url=_image_ok(i.stored), watch=watches.get(i.reason),
            )
            for i in items
        ]
        messages = plan_messages(digest_items, lang=chat.lang, tz=ZoneInfo(chat.timezone), now=now,
                                 mode=chat.mode,
                                 sentences=chat.summary_length, photos=self.photos)
        planned = [outbox.PlannedMessage(m.thread_id, self._channel_body(m.body, chat.lang) if chat.is_channel else m.body,
                                         m.outbox_ids, m.article_ids, m.photo_url, silent=silent)
                   for m in messages]
        try:
            await outbox.plan_sends(self.db, chat_id, planned, now, digest_at=digest_at)
        except outbox.PlanConflict as exc:
            log.warning("event=plan_conflict %s", exc)
            return 0
        return len(planned)

    def _channel_body(self, body: str, lang: str) -> str:
        """A channel post links to the article in a private chat instead of a /read command."""
        return for_channel(body, lang, read_link_template(self.bot.username))

    async def _watch_queries(self, chat_id: int, items) -> dict[str, str]:
        if not any(i.reason.startswith("watch:") for i in items):
            return {}
        rows = await self.db.fetchall("SELECT id, query FROM watches WHERE chat_id = ?", (chat_id,))
        return {f"watch:{r['id']}": r["query"] for r in rows}

    # ------------------------------------------------------------------ sending
    def wake(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        if self._sender is None:
            recovered = await outbox.recover_in_flight(self.db)
            if recovered:
                log.info("event=recovered_in_flight sends=%d", recovered)
            self._sender = asyncio.create_task(self._sender_loop(), name="newsbot-sender")

    async def close(self, timeout: float = 15.0) -> None:
        """Stop taking new work; let chats being served finish their current message."""
        self._closing = True
        self._wake.set()
        if self._sender is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._sender), timeout)
            except TimeoutError:
                self._sender.cancel()
            except asyncio.CancelledError:
                pass
            self._sender = None
        log.info("event=delivery_stats %s", " ".join(f"{k}={v}" for k, v in vars(self.stats).items()))

    async def drain(self, timeout: float = 60.0) -> None:
        """Wait until nothing is due right now (tests and the demo)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            if not self._running and not await outbox.chats_with_due_sends(self.db, self.clock(), set(), 1):
                return
            self._wake.set()
            await asyncio.sleep(0.05)
        raise TimeoutError("delivery did not drain")

    async def _sender_loop(self) -> None:
        try:
            while not self._closing:
                free = self.concurrency - len(self._running)
                started = 0
                if free > 0:
                    for chat_id in await outbox.chats_with_due_sends(self.db, self.clock(), set(self._running), free):
                        self._running[chat_id] = asyncio.create_task(self._serve_chat(chat_id))
                        started += 1
                if self._running:
                    done, _ = await asyncio.wait(self._running.values(), timeout=1.0,
                                                 return_when=asyncio.FIRST_COMPLETED)
                    for chat_id in [c for c, t in self._running.items() if t in done]:
                        task = self._running.pop(chat_id)
                        if task.exception() is not None:
                            log.error("event=chat_task_failed chat=%s error=%r", chat_id, task.exception())
                elif not started:
                    self._wake.clear()
                    try:
                        await asyncio.wait_for(self._wake.wait(), timeout=1.0)
                    except TimeoutError:
                        pass
        finally:
            if self._running:
                await asyncio.gather(*self._running.values(), return_exceptions=True)
                self._running.clear()

    async def _serve_chat(self, chat_id: int) -> None:
        lost_threads: set[int] = set()  # topics dropped during this turn: their sends are failed already
        for send in await outbox.due_sends(self.db, chat_id, self.clock()):
            if self._closing:
                return
            if send.thread_id in lost_threads:
                continue
            outcome = await self._send_one(send)
            if outcome == "stop_chat":
                return
            if outcome == "stop_thread":
                lost_threads.add(send.thread_id)

    async def _send_one(self, send: outbox.Send) -> str:
        """Send one planned message; returns 'sent', 'skipped', 'retry', 'failed', 'stop_thread' or 'stop_chat'."""
        ENGINE_PACED.set(True)  # this task paces its own sends: the bot's rate limiter lets them through
        chat_id = send.chat_id
        tries = 0
        body, as_html = send.body, True
        if not await outbox.claim_send(self.db, send.id):
            return "skipped"  # no longer planned: another turn or process has it; nothing to do here
        while True:
            # The slot comes last, right before the request: a 429 that arrives while we wrote to the
            # database still holds this send back.
            await self.limiter.acquire(chat_id, send.chat_type, bulk=True)
            timeout = self.send_timeout * (1 + send.attempts)
            try:
                message_id = await self._call(chat_id, send, body, as_html, timeout)
            except RetryAfter as exc:
                wait = _seconds(exc.retry_after)
                self.stats.rate_limited += 1
                self.limiter.hold(wait)
                await asyncio.sleep(wait)
                continue
            except ChatMigrated as exc:
                new_id = int(exc.new_chat_id)
                await migrate_chat(self.db, chat_id, new_id, self.clock())
                self.stats.migrated += 1
                log.info("event=chat_migrated old=%s new=%s", chat_id, new_id)
                chat_id = new_id
                send = replace(send, chat_id=new_id, chat_type="supergroup")
                continue
            except Forbidden as exc:
                await self._deactivate(chat_id, f"forbidden: {exc.message}")
                return "stop_chat"
            except BadRequest as exc:
                what = refusal(exc.message, photo=send.kind == "photo" and bool(send.photo_url), as_html=as_html)
                if what in ("thread_gone", "thread_closed") and send.thread_id:
                    await self._drop_thread(chat_id, send.thread_id, exc.message, forget=what == "thread_gone")
                    return "stop_thread"
                if what == "chat":
                    await self._deactivate(chat_id, f"bad request: {exc.message}")
                    return "stop_chat"
                if what == "photo":
                    log.warning("event=photo_refused send=%s articles=%s error=%r", send.id, send.item_ids,
                                exc.message)
                    text_send = await self._text_instead(replace(send, chat_id=chat_id))
                    if text_send is None:
                        return "failed"
                    send, body, as_html = text_send, text_send.body, True
                    continue
                if what == "html":
                    log.error("event=html_refused send=%s articles=%s error=%r", send.id, send.item_ids, exc.message)
                    # Telegram counts UTF-16 code units: an emoji is 2 of the 4096.
                    body, as_html = tg_cut(plain_text(send.body), MAX_MESSAGE_CHARS), False
                    self.stats.plain_text_fallbacks += 1
                    if not body.strip():
                        return await self._fail(send, "no text to send")
                    continue
                return await self._fail(send, exc.message)
            except TimedOut as exc:
                # Maybe delivered: retry with a longer timeout, but at most MAX_AMBIGUOUS_ATTEMPTS in all.
                send = replace(send, chat_id=chat_id, attempts=send.attempts + 1)
                if send.attempts >= MAX_AMBIGUOUS_ATTEMPTS:
                    return await self._fail(send, f"timed out {send.attempts} times", event="send_timed_out")
                await outbox.mark_retry(self.db, send.id, repr(exc), self.clock(), ambiguous=True)
                self.stats.retried += 1
                if send.kind == "photo":
                    # Most likely Telegram is still fetching a slow image: the one retry is the text,
                    # which needs no download (a late photo plus the text is the bounded duplicate).
                    log.warning("event=photo_timed_out send=%s articles=%s", send.id, send.item_ids)
                    text_send = await self._text_instead(send)
                    if text_send is None:
                        return "failed"
                    send, body, as_html = text_send, text_send.body, True
                continue
            except (NetworkError, TelegramError) as exc:
                tries += 1
                self.stats.retried += 1
                if tries < MAX_TRANSIENT_TRIES:
                    await asyncio.sleep(min(0.5 * 2 ** tries, 5))
                    continue
                delay = min(BACKOFF_CAP, timedelta(seconds=30 * 2 ** min(send.attempts + tries, 8)))
                await outbox.mark_retry(self.db, send.id, repr(exc), self.clock() + delay, ambiguous=False)
                log.warning("event=send_deferred send=%s chat=%s error=%r", send.id, chat_id, exc)
                return "retry"
            await outbox.mark_sent(self.db, send.id, message_id, self.clock())
            self.stats.sent += 1
            return "sent"

    async def _call(self, chat_id: int, send: outbox.Send, body: str, as_html: bool, timeout: float) -> int:
        thread = send.thread_id or None
        parse_mode = ParseMode.HTML if as_html else None
        if send.kind == "photo" and send.photo_url:
            msg = await self.bot.send_photo(chat_id, photo=send.photo_url, caption=body, parse_mode=parse_mode,
                                            message_thread_id=thread, disable_notification=send.silent or None,
                                            read_timeout=timeout, write_timeout=timeout, connect_timeout=timeout)
        else:
            msg = await self.bot.send_message(chat_id, body, parse_mode=parse_mode, message_thread_id=thread,
                                              link_preview_options=NO_PREVIEW, disable_notification=send.silent or None,
                                              read_timeout=timeout,
                                              write_timeout=timeout, connect_timeout=timeout)
        return msg.message_id

    async def _text_instead(self, send: outbox.Send) -> outbox.Send | None:
        """The same item as a text message (its caption as the text), or None when that text would be empty."""
        if not plain_text(send.body).strip():
            await self._fail(send, "no text to send")  # Telegram would answer "message text is empty"
            return None
        self.stats.photo_fallbacks += 1
        return replace(send, kind="text", photo_url=None)

    async def _fail(self, send: outbox.Send, error: str, *, event: str = "send_refused") -> str:
        """Give the message up: logged with its articles, failed with its items dropped."""
        log.error("event=%s send=%s articles=%s error=%r", event, send.id, send.item_ids, error)
        await outbox.mark_failed(self.db, send.id, error)
        self.stats.failed += 1
        return "failed"

    async def _drop_thread(self, chat_id: int, thread_id: int, reason: str, *, forget: bool) -> None:
        log.info("event=thread_dropped chat=%s thread=%s forget=%s reason=%r", chat_id, thread_id, forget, reason)
        await outbox.drop_thread(self.db, chat_id, thread_id, f"bad request: {reason}", forget=forget)
        self.stats.threads_dropped += 1

    async def _deactivate(self, chat_id: int, reason: str) -> None:
        log.info("event=chat_deactivated chat=%s reason=%r", chat_id, reason)
        await set_active(self.db, chat_id, False, reason, self.clock())
        await outbox.drop_chat_backlog(self.db, chat_id, reason)
        self.stats.chats_deactivated += 1


def _seconds(value) -> float:
    return value.total_seconds() if hasattr(value, "total_seconds") else float(value)
