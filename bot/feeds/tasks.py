"""What the worker processes do (bot/feeds/workers.py): the CPU work over untrusted text of one poll.

Module-level functions with picklable arguments and results, so they can run in a worker: parse a
fetched document and pick its items; build, summarise and tokenise one feed item or one folder post.
A rejection is a result (`Rejected`), not an exception, so it crosses the process boundary intact.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.errors import FeedError, RejectedPost
from bot.core.feed_items import (
    article_uid,
    entry_fingerprint,
    entry_published,
    entry_source,
    entry_to_article,
    item_title,
    newest_entries,
    parse_feed,
    plain_entry,
)
from bot.core.model import Article
from bot.core.query import IndexTerms, index_terms
from bot.core.summarise import default_summariser
from bot.feeds.ingest import build_article, folder_categories, read_post_bytes
from bot.feeds.workers import ITEM_BUDGET, TookTooLong, WorkerFailed, WorkerPool

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Item:
    """One item of a fetched document: the fields the mapping reads, its identity and fingerprint."""

    entry: dict[str, Any]
    source: str
    uid: str
    fingerprint: str


@dataclass(frozen=True, slots=True)
class Selection:
    """A parsed document: items in it, the feed's title, the newest `limit` distinct items."""

    items: int
    title: str
    chosen: list[Item]


@dataclass(frozen=True, slots=True)
class NotAFeed:
    """A document refused as a whole: the FeedError's reason and detail (an exception would not pickle)."""

    reason: str
    detail: str

    def error(self) -> FeedError:
        return FeedError(self.reason, self.detail)


@dataclass(frozen=True, slots=True)
class Built:
    """An article ready to store; `summary` None when not summarised here (unchanged, or another summariser)."""

    article: Article
    summary: tuple[list[str], int] | None = None
    terms: IndexTerms | None = None


@dataclass(frozen=True, slots=True)
class Rejected:
    reason: str
    remember: bool = True   # False: could not be read (tried again next poll), not refused for its content


def select_items(body: bytes, url: str, content_type: str, feed_id: int, limit: int) -> Selection | NotAFeed:
    """Parse a fetched document; its newest `limit` items (the same GUID twice: the first). No cleaning."""
    try:
        parsed = parse_feed(body, url=url, content_type=content_type)
    except FeedError as exc:
        return NotAFeed(exc.reason, exc.detail)
    seen: set[str] = set()
    unique = []
    for entry in parsed.entries:
        source = entry_source(entry)
        if source not in seen:
            seen.add(source)
            unique.append((entry, source))
    chosen = {id(e) for e in newest_entries([e for e, _ in unique], limit)}
    items = [Item(plain_entry(e), s, article_uid(feed_id, s), entry_fingerprint(e))
             for e, s in unique if id(e) in chosen]
    return Selection(len(parsed.entries), item_title(parsed.feed), items)


def inspect_document(body: bytes, url: str, content_type: str) -> tuple[int, str | None, str] | NotAFeed:
    """(items, newest item title, feed title) of a fetched document, for add_feed's answer."""
    try:
        parsed = parse_feed(body, url=url, content_type=content_type)
    except FeedError as exc:
        return NotAFeed(exc.reason, exc.detail)
    entries = list(parsed.entries)
    dated = [(d, e) for e in entries if (d := entry_published(e)) is not None]
    newest = max(dated, key=lambda de: de[0])[1] if dated else (entries[0] if entries else None)
    newest_title = (item_title(newest) or None) if newest is not None else None
    return len(entries), newest_title, item_title(parsed.feed)


def _finish(article: Article, stored_hash: str | None, summarise: bool) -> Built:
    if article.content_hash == stored_hash or not summarise:
        return Built(article)
    return Built(article, default_summariser(article), index_terms(article.title, article.text))


def build_item(entry: dict[str, Any], feed_id: int, feed_title: str, category: tuple[str, ...], now: datetime,
               stored_hash: str | None, summarise: bool) -> Built | Rejected:
    """One feed item cleaned into an Article, summarised and tokenised unless its content is unchanged."""
    try:
        article = entry_to_article(entry, feed_id=feed_id, feed_title=feed_title, category=category, now=now)
    except RejectedPost as exc:
        return Rejected(str(exc))
    return _finish(article, stored_hash, summarise)


def build_post(root: str, real_root: str, rel: str, mtime_ns: int, feed_id: int, category: tuple[str, ...],
               default_tz: ZoneInfo, now: datetime, summarise: bool) -> Built | Rejected:
    """One post file of a folder feed read (never outside `real_root`), built, summarised and tokenised."""
    path = Path(root) / rel
    try:
        data = read_post_bytes(path, real_root)
        article = build_article(
            data, source=str(path), name=path.stem, feed_id=feed_id,
            fallback_categories=folder_categories(path, Path(root)), default_tz=default_tz,
            mtime=datetime.fromtimestamp(mtime_ns / 1e9, tz=timezone.utc), now=now, category_override=category,
        )
    except RejectedPost as exc:
        # A file that could not be opened is tried again next scan; one refused for what it contains is
        # remembered, so it is read again only when it changes.
        return Rejected(str(exc), remember=not isinstance(exc.__cause__, OSError))
    return _finish(article, None, summarise)


async def build_in_worker(workers: WorkerPool, task: Callable[..., Built | Rejected], *args: Any) -> Built | Rejected:
    """`task(*args)` in a worker; overrunning ITEM_BUDGET or failing there rejects the item, with the reason."""
    try:
        return await workers.run(ITEM_BUDGET, task, *args)
    except TookTooLong as exc:
        return Rejected(str(exc))
    except WorkerFailed as exc:
        log.warning("event=item_failed error=%s", exc)
        return Rejected(f"could not be built ({exc})")
