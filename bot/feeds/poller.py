"""Poll rounds: which feeds are due, one poll per feed at a time, backoff after failures, notices for the admins.

The scheduler and /fetchnow call `poll_due_feeds`; nothing here talks to Telegram. A folder feed is
scanned by bot/feeds/folder.py. An RSS/Atom feed is fetched by bot/feeds/fetch.py (egress-vetted) and
its items go through a bounded pipeline: the newest `Limits.items_per_fetch` items only; an item whose
identity and fingerprint were seen before costs nothing (no clean, no summary); at most
`Limits.new_per_day` new articles per feed in 24 hours (the rest wait). The callers build `Limits` and
`EgressPolicy` from the one Settings object (`Limits.of(settings)`, `EgressPolicy.of(settings)`).
"""
from __future__ import annotations

import asyncio
import logging
import weakref
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp.abc import AbstractResolver

from bot.core.errors import FeedError
from bot.core.feed_items import newest_entries, redact_url
from bot.core.settings import DEFAULT_MAX_ITEMS_PER_FETCH, DEFAULT_MAX_NEW_PER_FEED_DAY, DEFAULT_ZONE, Settings
from bot.feeds.egress import STRICT, EgressPolicy, FeedSession
from bot.feeds.fetch import DEFAULT_HTTP_TIMEOUT, MAX_FEED_BYTES, Fetched, fetch_feed
from bot.feeds.folder import poll_folder, store_built, summarise_all
from bot.feeds.ingest import BATCH_SIZE, Summariser, default_summariser
from bot.feeds.tasks import Built, NotAFeed, Rejected, build_in_worker, build_item, select_items
from bot.feeds.workers import DOCUMENT_BUDGET, TookTooLong, WorkerFailed, WorkerPool, shared_pool
from storage import feed_items
from storage import feeds as store
from storage.db import Database
from storage.feed_items import SeenItem
from storage.feeds import FeedInfo

log = logging.getLogger(__name__)

DEFAULT_INTERVAL = 300                 # seconds between polls of a healthy feed (NEWSBOT_POLL_SECONDS)
BACKOFF_CAP_SECONDS = 6 * 3600
NOTIFY_AFTER_FAILURES = 5              # consecutive failures before the admins hear about it (once)
POLL_CONCURRENCY = 4


@dataclass(frozen=True, slots=True)
class Limits:
    """Caps on what one RSS/Atom feed may add (see the module docstring): the newest `items_per_fetch`
    items of a document (NEWSBOT_MAX_ITEMS_PER_FETCH), at most `new_per_day` new articles in 24 hours
    (NEWSBOT_MAX_NEW_PER_FEED_DAY), and at most `new_per_poll` in one poll (default: items_per_fetch)."""

    items_per_fetch: int = DEFAULT_MAX_ITEMS_PER_FETCH
    new_per_day: int = DEFAULT_MAX_NEW_PER_FEED_DAY
    new_per_poll: int | None = None

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        return cls(settings.max_items_per_fetch, settings.max_new_per_feed_day)

    @property
    def per_poll(self) -> int:
        return self.items_per_fetch if self.new_per_poll is None else self.new_per_poll


@dataclass(frozen=True, slots=True)
class FeedNotice:
    """For the admins: kind "failing" (sent once, after NOTIFY_AFTER_FAILURES failures) or "recovered"."""

    kind: str
    feed_id: int
    name: str
    location: str
    failures: int
    error: FeedError | None = None


@dataclass
class PollResult:
    """What one poll of one feed did. `new` counts new stories; cross-posts of a known story are `same_story`."""

    feed_id: int
    name: str
    kind: str
    new: int = 0
    same_story: int = 0
    updated: int = 0
    known: int = 0
    duplicate: int = 0
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (file or item, reason)
    new_article_ids: list[int] = field(default_factory=list)       # stored rows: new and same_story
    error: FeedError | None = None
    failures: int = 0               # consecutive failures after this poll
    next_poll_at: datetime | None = None
    notice: FeedNotice | None = None
    not_modified: bool = False      # RSS: 304, nothing fetched
    items: int = 0                  # RSS: items in the document
    over_cap: int = 0               # RSS: items beyond the newest Limits.items_per_fetch, not looked at
    deferred: int = 0               # RSS: new items over the per-poll or per-day cap, left for a later poll
    files_seen: int = 0             # folder: post files found by the scan
    files_read: int = 0             # folder: files opened (0 for an unchanged folder)
    files_deleted: int = 0          # folder: files gone since the last scan (their articles stay)

    @property
    def ok(self) -> bool:
        return self.error is None

    def add_report(self, report: Any) -> None:
        """Add the counts of a bot.feeds.ingest.IngestReport."""
        self.new += report.new
        self.same_story += report.same_story
        self.updated += report.updated
        self.known += report.known
        self.duplicate += report.duplicate
        self.rejected.extend(report.rejected)
        self.new_article_ids.extend(report.new_ids)


@dataclass
class PollRound:
    """Results of one round, plus the notices to send to the admins. `error`: feed_id given but unknown."""

    results: list[PollResult] = field(default_factory=list)
    notices: list[FeedNotice] = field(default_factory=list)
    error: FeedError | None = None

    @property
    def new_article_ids(self) -> list[int]:
        return [i for r in self.results for i in r.new_article_ids]


def backoff_delay(interval: int, failures: int, cap: int = BACKOFF_CAP_SECONDS) -> int:
    """Seconds until the next try after `failures` consecutive failures: interval, 2×, 4×, … capped at 6 h.

    The first failure keeps the normal cadence (one blip costs nothing); each further one doubles it.
    """
    if failures <= 0:
        return interval
    return min(cap, interval * 2 ** min(failures - 1, 32))


# ---------------------------------------------------------------- RSS / Atom items
async def _poll_rss(
    db: Database, feed: FeedInfo, result: PollResult, *, now: datetime, session: FeedSession,
    timeout: float, max_bytes: int, summariser: Summariser, limits: Limits, workers: WorkerPool,
) -> Fetched:
    fetched = await fetch_feed(
        session, feed.location, etag=feed.etag, last_modified=feed.last_modified, timeout=timeout,
        max_bytes=max_bytes,
    )
    if fetched.status == 304:
        result.not_modified = True
        return fetched
    # Parsing an untrusted document happens in a worker process, within its budget.
    try:
        selection = await workers.run(DOCUMENT_BUDGET, select_items, fetched.body, fetched.url,
                                      fetched.content_type, feed.id, limits.items_per_fetch)
    except TookTooLong as exc:
        raise FeedError("not_a_feed", str(exc)) from None
    except WorkerFailed as exc:
        raise FeedError("internal", str(exc)) from None
    if isinstance(selection, NotAFeed):
        raise selection.error()
    result.items, items = selection.items, selection.chosen
    feed_title = selection.title or feed.name
    result.over_cap = max(0, result.items - limits.items_per_fetch)

    # Seen before with the same fingerprint: would build the same article. Skipped before any cleaning.
    seen = await feed_items.known_items(db, feed.id)
    fresh = [i for i in items if (s := seen.get(i.source)) is None or s.fingerprint != i.fingerprint]
    result.known += sum((s := seen.get(i.source)) is not None and s.fingerprint == i.fingerprint and not s.refused
                        for i in items)  # refused ones are reported once
    current = {i.source for i in items}
    await feed_items.forget_items(db, feed.id, [k for k in seen if k not in current])
    if not fresh:
        return fetched

    # New identities are capped (a publisher rotating GUIDs must not flood the database); rewrites are not.
    stored = await store.content_hashes(db, [i.uid for i in fresh])
    new = [i for i in fresh if i.uid not in stored]
    budget = min(limits.per_poll, limits.new_per_day - await store.articles_added_since(
        db, feed.id, now - timedelta(days=1))) if new else 0
    if len(new) > budget:
        allowed = {id(e) for e in newest_entries([i.entry for i in new], max(0, budget))}
        waiting = {i.source for i in new if id(i.entry) not in allowed}
        fresh = [i for i in fresh if i.source not in waiting]
        result.deferred = len(waiting)
        log.warning("event=feed_capped feed_id=%s deferred=%s budget=%s", feed.id, len(waiting), budget)

    # Cleaning, summarising and tokenising: in the workers, one item at a time, each within its budget.
    here = summariser is default_summariser
    outcomes = await asyncio.gather(*(
        build_in_worker(workers, build_item, i.entry, feed.id, feed_title, feed.category, now, stored.get(i.uid), here)
        for i in fresh))
    built: list[Built] = []
    remember: list[tuple[str, SeenItem]] = []
    for item, outcome in zip(fresh, outcomes, strict=True):
        if isinstance(outcome, Rejected):
            result.rejected.append((redact_url(item.entry.get("link") or item.source), outcome.reason))
            remember.append((item.source, SeenItem(item.fingerprint, refused=True)))
        else:
            built.append(outcome)
            remember.append((item.source, SeenItem(item.fingerprint)))
    # A feed repeats its items on every poll: only new or rewritten ones are worth storing again.
    changed = [b for b in built if stored.get(b.article.uid) != b.article.content_hash]
    result.known += len(built) - len(changed)
    for start in range(0, len(changed), BATCH_SIZE):
        batch = changed[start : start + BATCH_SIZE]
        if not here:  # a summariser given by the caller runs in this process (tests)
            batch = await asyncio.to_thread(summarise_all, batch, summariser)
        result.add_report(await store_built(db, batch))
    await feed_items.remember_items(db, feed.id, remember, now=now)
    return fetched


# ---------------------------------------------------------------- polling
_locks: weakref.WeakKeyDictionary[Database, dict[int, asyncio.Lock]] = weakref.WeakKeyDictionary()


def _feed_lock(db: Database, feed_id: int) -> asyncio.Lock:
    """One poll per feed at a time (the scheduler's round and an admin's /fetch may overlap)."""
    return _locks.setdefault(db, {}).setdefault(feed_id, asyncio.Lock())


class _session:
    """Use the caller's FeedSession, or open (and close) one for this call."""

    def __init__(self, session: FeedSession | None, policy: EgressPolicy, timeout: float,
                 resolver: AbstractResolver | None = None, needed: bool = True) -> None:
        self.given, self.needed = session, needed
        self.own: FeedSession | None = None
        self.make = lambda: FeedSession(policy, timeout=timeout, resolver=resolver)

    async def __aenter__(self) -> Any:
        if self.given is not None or not self.needed:
            return self.given
        self.own = await self.make().__aenter__()
        return self.own

    async def __aexit__(self, *exc: object) -> None:
        if self.own is not None:
            await self.own.__aexit__(*exc)


async def poll_feed(
    db: Database,
    feed: FeedInfo,
    *,
    now: datetime,
    interval: int = DEFAULT_INTERVAL,
    session: FeedSession | None = None,
    http_timeout: float = DEFAULT_HTTP_TIMEOUT,
    max_bytes: int = MAX_FEED_BYTES,
    default_tz: ZoneInfo = DEFAULT_ZONE,
    summariser: Summariser = default_summariser,
    egress: EgressPolicy = STRICT,
    limits: Limits = Limits(),
    resolver: AbstractResolver | None = None,
    workers: WorkerPool | None = None,
) -> PollResult:
    """Poll one feed now, store what is new, and record success or failure (backoff, notices).

    Never raises for a feed problem: the result carries `error`, and `notice` when the admins should
    hear about it (the 5th consecutive failure, once; the first success after that). `egress` is the
    policy for a session opened here (a given `session` carries its own). Parsing and cleaning run in
    `workers` (default: the process's shared pool).
    """
    workers = workers or shared_pool()
    result = PollResult(feed.id, feed.name, feed.kind)
    fetched: Fetched | None = None
    async with _feed_lock(db, feed.id):
        try:
            if feed.kind == "folder":
                done = await poll_folder(db, feed, now=now, default_tz=default_tz, summariser=summariser,
                                         workers=workers)
                result.add_report(done.report)
                result.files_seen, result.files_read, result.files_deleted = (
                    done.files_seen, done.files_read, done.files_deleted)
            else:
                async with _session(session, egress, http_timeout, resolver) as s:
                    fetched = await _poll_rss(db, feed, result, now=now, session=s, timeout=http_timeout,
                                              max_bytes=max_bytes, summariser=summariser, limits=limits,
                                              workers=workers)
        except FeedError as exc:
            result.error = exc
        except Exception as exc:  # a bug or a database problem in one feed must not stop the others
            log.exception("feed poll failed feed_id=%s", feed.id)
            result.error = FeedError("internal", exc.__class__.__name__)

        if result.error is None:
            result.next_poll_at = now + timedelta(seconds=interval)
            was_notified = await store.record_success(
                db, feed.id, now=now, next_poll_at=result.next_poll_at,
                etag=fetched.etag if fetched else None, last_modified=fetched.last_modified if fetched else None,
                keep_validators=fetched is None or fetched.status == 304,
                capped=(result.over_cap, result.deferred) if result.over_cap or result.deferred else None,
            )
            if was_notified:
                result.notice = FeedNotice("recovered", feed.id, feed.name, redact_url(feed.location), 0)
        else:
            result.failures, notify = await store.record_failure(
                db, feed.id, now=now, error=redact_url(str(result.error)),
                delay_for=lambda n: backoff_delay(interval, n), notify_after=NOTIFY_AFTER_FAILURES,
            )
            result.next_poll_at = now + timedelta(seconds=backoff_delay(interval, result.failures))
            if notify:
                result.notice = FeedNotice("failing", feed.id, feed.name, redact_url(feed.location), result.failures,
                                           result.error)
    return result


async def poll_due_feeds(
    db: Database,
    *,
    now: datetime,
    force: bool = False,
    feed_id: int | None = None,
    interval: int = DEFAULT_INTERVAL,
    concurrency: int = POLL_CONCURRENCY,
    session: FeedSession | None = None,
    http_timeout: float = DEFAULT_HTTP_TIMEOUT,
    max_bytes: int = MAX_FEED_BYTES,
    default_tz: ZoneInfo = DEFAULT_ZONE,
    summariser: Summariser = default_summariser,
    egress: EgressPolicy = STRICT,
    limits: Limits = Limits(),
    resolver: AbstractResolver | None = None,
    workers: WorkerPool | None = None,
) -> PollRound:
    """Poll the feeds that are due (`force`: every unpaused feed; `feed_id`: that feed, even if paused).

    Records meta 'last_poll_at'. The caller sends `round.notices` to the admins and hands
    `round.new_article_ids` (or its own cursor) to the matcher.
    """
    if feed_id is not None:
        one = await store.get_feed(db, feed_id)
        if one is None:
            return PollRound(error=FeedError("no_such_feed", str(feed_id)))
        feeds = [one]
    elif force:
        feeds = [f for f in await store.list_feeds(db) if not f.paused]
    else:
        feeds = await store.due_feeds(db, now)

    limit = asyncio.Semaphore(max(1, concurrency))
    async with _session(session, egress, http_timeout, resolver, needed=any(f.kind == "rss" for f in feeds)) as s:
        async def one_feed(feed: FeedInfo) -> PollResult:
            async with limit:
                try:
                    return await poll_feed(
                        db, feed, now=now, interval=interval, session=s, http_timeout=http_timeout,
                        max_bytes=max_bytes, default_tz=default_tz, summariser=summariser, egress=egress,
                        limits=limits, resolver=resolver, workers=workers,
                    )
                except Exception as exc:  # even recording the outcome failed (database trouble)
                    log.exception("feed poll could not be recorded feed_id=%s", feed.id)
                    failed = PollResult(feed.id, feed.name, feed.kind)
                    failed.error = FeedError("internal", exc.__class__.__name__)
                    return failed

        results = list(await asyncio.gather(*(one_feed(f) for f in feeds)))
    await store.mark_polled(db, now)
    return PollRound(results, [r.notice for r in results if r.notice is not None])
