"""Managing feeds: add (checked), remove, pause, resume, register NEWSBOT_FEEDS at start, import OPML entries.

Errors a user can cause come back as `FeedError(reason, detail)` values. Where a location may come from:
  - URLs: anyone allowed to add feeds, subject to the egress policy (bot/feeds/egress.py);
  - folders: the operator (CLI, NEWSBOT_FEEDS) anywhere; a chat admin only below NEWSBOT_FOLDER_ROOTS
    (`folder_roots`; none by default); an OPML file sent in a chat never.
"""
from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from aiohttp.abc import AbstractResolver
from yarl import URL

from bot.core.errors import FeedError
from bot.core.feed_items import clean_category
from bot.feeds.egress import STRICT, EgressPolicy, FeedSession, check_url, vet_url
from bot.feeds.fetch import DEFAULT_HTTP_TIMEOUT, MAX_FEED_BYTES, inspect_url
from bot.feeds.folder import inspect_folder
from bot.feeds.ingest import inside
from storage import feeds as store
from storage.db import Database
from storage.feeds import FeedInfo

ANY_FOLDER = None  # folder_roots=ANY_FOLDER: the operator's own commands may name any folder


@dataclass(frozen=True, slots=True)
class AddResult:
    """A feed added (created=True) or already there (created=False), with what validation found."""

    feed: FeedInfo
    created: bool
    items: int | None = None          # posts in the folder / items in the feed; None when not validated
    newest_title: str | None = None


@dataclass(frozen=True, slots=True)
class RemoveResult:
    feed: FeedInfo
    purged: int                       # articles deleted with it (0 unless purge)


@dataclass
class ImportReport:
    added: list[AddResult] = field(default_factory=list)
    skipped: list[AddResult] = field(default_factory=list)             # already there
    invalid: list[tuple[str, str]] = field(default_factory=list)       # (location, reason)


_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+):")  # two letters at least: C:\ is a Windows path


def classify_location(location: str) -> tuple[str, str] | FeedError:
    """("rss", normalised URL) or ("folder", absolute resolved path), without touching the network.

    Anything with a URL scheme is a URL, and only http/https are accepted, without credentials and not
    naming a non-public address (the strict egress policy; see `add_feed` for the operator's allowance).
    A relative folder whose name contains a colon can be given as ./name:with:colon.
    """
    return _classify(location, STRICT)


def _classify(location: str, policy: EgressPolicy) -> tuple[str, str] | FeedError:
    loc = location.strip()
    if not loc:
        return FeedError("not_found", "empty location")
    m = _SCHEME.match(loc)
    if m:
        scheme = m.group(1).lower()
        if scheme not in ("http", "https"):
            return FeedError("bad_scheme", f"{scheme}: URLs are not supported; use http:// or https://")
        try:
            return "rss", str(check_url(loc, policy))
        except FeedError as exc:
            return exc
    if "\x00" in loc:  # no file system path can contain NUL; resolve() would raise ValueError
        return FeedError("not_found", "a path cannot contain a NUL character")
    try:
        return "folder", str(Path(loc).expanduser().resolve())
    except (OSError, RuntimeError, ValueError) as exc:  # symlink loop, unencodable name
        return FeedError("unreadable", f"{loc}: {exc}")


def folder_allowed(folder: str, roots: Iterable[Path] | None) -> FeedError | None:
    """None when `folder` (a resolved path) is one of `roots` or below one (None: any folder)."""
    if roots is None:
        return None
    for root in roots:
        try:
            real_root = os.path.realpath(Path(root).expanduser())
        except (OSError, ValueError):
            continue
        if inside(folder, real_root):
            return None
    return FeedError("folder_not_allowed", folder)


list_feeds = store.list_feeds
get_feed = store.get_feed


async def add_feed(
    db: Database,
    location: str,
    category: tuple[str, ...] = (),
    *,
    validate: bool = True,
    http_timeout: float = DEFAULT_HTTP_TIMEOUT,
    max_bytes: int = MAX_FEED_BYTES,
    name: str | None = None,
    now: datetime | None = None,
    egress: EgressPolicy = STRICT,
    folder_roots: Iterable[Path] | None = ANY_FOLDER,
    resolve: bool = True,
    resolver: AbstractResolver | None = None,
) -> AddResult | FeedError:
    """Check and save a feed. A folder must exist and be listable (its resolved path is what is stored)
    and lie below one of `folder_roots` (None: anywhere); a URL must be http(s), pass the `egress`
    policy (its host is resolved and vetted unless `resolve` is off) and, when validating, answer with
    RSS or Atom. Adding a known location again returns it with created=False. Validation does not
    ingest anything and does not keep ETags: the first poll does.
    """
    kind_loc = _classify(location, egress)
    if isinstance(kind_loc, FeedError):
        return kind_loc
    kind, loc = kind_loc
    if kind == "folder" and (refused := folder_allowed(loc, folder_roots)) is not None:
        return refused  # before looking at the disk: a chat cannot probe which paths exist
    existing = await store.find_feed(db, loc)
    if existing is not None:
        return AddResult(existing, created=False)
    items: int | None = None
    newest: str | None = None
    title = ""
    try:
        if kind == "folder":
            if validate:
                items, newest = await asyncio.to_thread(inspect_folder, Path(loc))
        elif validate:
            async with FeedSession(egress, timeout=http_timeout, resolver=resolver) as session:
                items, newest, title = await inspect_url(loc, session, http_timeout, max_bytes)
        elif resolve:
            await vet_url(loc, egress, resolver, timeout=min(http_timeout, 5.0))
    except FeedError as exc:
        return exc
    if not name:
        name = title or ((Path(loc).name or loc) if kind == "folder" else _host(loc))
    feed, created = await store.insert_feed(
        db, name=" ".join(name.split())[:200], kind=kind, location=loc, category=clean_category(category),
        now=now or datetime.now(timezone.utc),
    )
    return AddResult(feed, created, items, newest)


async def register_feeds(
    db: Database, locations: list[str], *, now: datetime | None = None, egress: EgressPolicy = STRICT,
) -> list[AddResult | FeedError]:
    """Register NEWSBOT_FEEDS at start-up: idempotent, no network (hosts are vetted when polled);
    a bad entry is an error value."""
    return [await add_feed(db, loc, validate=False, resolve=False, now=now, egress=egress)
            for loc in locations if loc.strip()]


async def import_feeds(
    db: Database, entries: Iterable[Any], *, validate: bool = False, now: datetime | None = None,
    http_timeout: float = DEFAULT_HTTP_TIMEOUT, egress: EgressPolicy = STRICT,
    folder_roots: Iterable[Path] | None = (), resolver: AbstractResolver | None = None,
) -> ImportReport:
    """Add OPML entries (bot.core.opml.OpmlEntry: location, title, category); sorts them into added/skipped/invalid.

    Folder entries are refused unless `folder_roots` allows them (default: none; the CLI passes None).
    """
    report = ImportReport()
    for entry in entries:
        got = await add_feed(db, entry.location, tuple(entry.category), validate=validate,
                             name=entry.title or None, now=now, http_timeout=http_timeout, egress=egress,
                             folder_roots=folder_roots, resolver=resolver)
        if isinstance(got, FeedError):
            report.invalid.append((entry.location, str(got)))
        elif got.created:
            report.added.append(got)
        else:
            report.skipped.append(got)
    return report


async def remove_feed(db: Database, feed_id: int, purge: bool = False) -> RemoveResult | FeedError:
    """Remove a feed. Its articles stay (no longer linked to a feed) unless `purge`."""
    done = await store.delete_feed(db, feed_id, purge=purge)
    if done is None:
        return FeedError("no_such_feed", str(feed_id))
    return RemoveResult(*done)


async def pause_feed(db: Database, feed_id: int) -> FeedInfo | FeedError:
    feed = await store.set_paused(db, feed_id, True)
    return feed if feed is not None else FeedError("no_such_feed", str(feed_id))


async def resume_feed(db: Database, feed_id: int) -> FeedInfo | FeedError:
    """Unpause; the feed is polled in the next round."""
    feed = await store.set_paused(db, feed_id, False)
    return feed if feed is not None else FeedError("no_such_feed", str(feed_id))


def _host(url: str) -> str:
    return URL(url).host or url
