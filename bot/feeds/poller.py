"""Feeds: folders of Hexo posts and RSS/Atom URLs polled into articles, with backoff and admin notices.

The handlers and the scheduler call `add_feed`, `poll_due_feeds` and friends and format the values they
return; nothing here talks to Telegram. Errors a user can cause come back as `FeedError(reason, detail)`.

Folder feeds are scanned with stat() only; a file is read when its size or mtime changed since the last
scan (kept in `feed_files`), so an unchanged folder of 100,000 posts costs 100,000 stats and no reads.
RSS/Atom feeds use conditional GET, a time limit, a size cap and at most MAX_REDIRECTS redirects; an item's
identity is its GUID (else link, else a hash of title and date), so reordered or rewritten items are
recognised and never counted as new. Both go through the same pipeline as `newsbot ingest`:
build an Article, summarise, `store_batch`.
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
import stat
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp

from bot.core.clean import clean_html, guess_language
from bot.core.dedupe import content_hash
from bot.core.errors import FeedError, RejectedPost
from bot.core.model import Article
from bot.core.parse import web_url
from bot.feeds.ingest import (
    BATCH_SIZE,
    POST_SUFFIXES,
    Summariser,
    article_uid,
    build_article,
    default_summariser,
    folder_categories,
    read_post_bytes,
    store_batch,
)
from storage import feeds as store
from storage.db import Database
from storage.feeds import FeedInfo

log = logging.getLogger(__name__)

DEFAULT_INTERVAL = 300                 # seconds between polls of a healthy feed (NEWSBOT_POLL_SECONDS)
DEFAULT_HTTP_TIMEOUT = 20              # seconds for a whole fetch, body included
MAX_FEED_BYTES = 10 * 1024 * 1024      # a feed document larger than this is refused while streaming
MAX_REDIRECTS = 5
BACKOFF_CAP_SECONDS = 6 * 3600
NOTIFY_AFTER_FAILURES = 5              # consecutive failures before the admins hear about it (once)
POLL_CONCURRENCY = 4
MAX_CATEGORY_LEVELS = 6
USER_AGENT = "newsbot/0.1 (RSS reader; +https://github.com/)"
ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"

__all__ = [
    "AddResult", "FeedError", "FeedInfo", "FeedNotice", "ImportReport", "PollResult", "PollRound", "RemoveResult",
    "add_feed", "backoff_delay", "classify_location", "entry_to_article", "fetch_feed", "get_feed", "import_feeds",
    "list_feeds", "parse_feed", "pause_feed", "poll_due_feeds", "poll_feed", "register_feeds", "remove_feed",
    "resume_feed", "scan_folder",
]


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


@dataclass
class ImportReport:
    added: list[AddResult] = field(default_factory=list)
    skipped: list[AddResult] = field(default_factory=list)             # already there
    invalid: list[tuple[str, str]] = field(default_factory=list)       # (location, reason)


# ---------------------------------------------------------------- pure policy
def backoff_delay(interval: int, failures: int, cap: int = BACKOFF_CAP_SECONDS) -> int:
    """Seconds until the next try after `failures` consecutive failures: interval, 2×, 4×, … capped at 6 h.

    The first failure keeps the normal cadence (one blip costs nothing); each further one doubles it.
    """
    if failures <= 0:
        return interval
    return min(cap, interval * 2 ** min(failures - 1, 32))


_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+):")  # two letters at least: C:\ is a Windows path


def classify_location(location: str) -> tuple[str, str] | FeedError:
    """("rss", normalised URL) or ("folder", absolute resolved path), without touching disk or network.

    Anything with a URL scheme is a URL, and only http/https are accepted. A relative folder whose name
    contains a colon can be given as ./name:with:colon.
    """
    loc = location.strip()
    if not loc:
        return FeedError("not_found", "empty location")
    m = _SCHEME.match(loc)
    if m:
        scheme = m.group(1).lower()
        if scheme not in ("http", "https"):
            return FeedError("bad_scheme", f"{scheme}: URLs are not supported; use http:// or https://")
        from yarl import URL

        try:
            url = URL(loc)
        except (ValueError, TypeError) as exc:
            return FeedError("bad_url", str(exc))
        if not url.host or not url.is_absolute():
            return FeedError("bad_url", f"no host in {loc!r}")
        return "rss", str(url)
    if "\x00" in loc:  # no file system path can contain NUL; resolve() would raise ValueError
        return FeedError("not_found", "a path cannot contain a NUL character")
    try:
        return "folder", str(Path(loc).expanduser().resolve())
    except (OSError, RuntimeError, ValueError) as exc:  # symlink loop, unencodable name
        return FeedError("unreadable", f"{loc}: {exc}")


def _clean_category(category: Iterable[str]) -> tuple[str, ...]:
    return tuple(" ".join(c.split())[:100] for c in category if c and c.strip())[:MAX_CATEGORY_LEVELS]


# ---------------------------------------------------------------- managing feeds
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
    session: aiohttp.ClientSession | None = None,
) -> AddResult | FeedError:
    """Check and save a feed. A folder must exist and be listable (its resolved path is what is stored);
    a URL must be http(s) and answer with RSS or Atom. Adding a known location again returns it with
    created=False. Validation does not ingest anything and does not keep ETags: the first poll does.
    """
    kind_loc = classify_location(location)
    if isinstance(kind_loc, FeedError):
        return kind_loc
    kind, loc = kind_loc
    existing = await store.find_feed(db, loc)
    if existing is not None:
        return AddResult(existing, created=False)
    items: int | None = None
    newest: str | None = None
    title = ""
    if validate:
        try:
            if kind == "folder":
                items, newest = await asyncio.to_thread(_inspect_folder, Path(loc))
            else:
                items, newest, title = await _inspect_url(loc, session, http_timeout, max_bytes)
        except FeedError as exc:
            return exc
    if not name:
        name = title or ((Path(loc).name or loc) if kind == "folder" else _host(loc))
    feed, created = await store.insert_feed(
        db, name=" ".join(name.split())[:200], kind=kind, location=loc, category=_clean_category(category),
        now=now or datetime.now(timezone.utc),
    )
    return AddResult(feed, created, items, newest)


async def register_feeds(
    db: Database, locations: list[str], *, now: datetime | None = None
) -> list[AddResult | FeedError]:
    """Register NEWSBOT_FEEDS at start-up: idempotent, no network; a bad entry is an error value."""
    return [await add_feed(db, loc, validate=False, now=now) for loc in locations if loc.strip()]


async def import_feeds(
    db: Database, entries: Iterable[Any], *, validate: bool = False, now: datetime | None = None,
    http_timeout: float = DEFAULT_HTTP_TIMEOUT,
) -> ImportReport:
    """Add OPML entries (bot.core.opml.OpmlEntry: location, title, category); sorts them into added/skipped/invalid."""
    report = ImportReport()
    for entry in entries:
        got = await add_feed(db, entry.location, tuple(entry.category), validate=validate,
                             name=entry.title or None, now=now, http_timeout=http_timeout)
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
    from yarl import URL

    return URL(url).host or url


# ---------------------------------------------------------------- folder feeds
@dataclass
class FolderScan:
    files: dict[str, tuple[int, int]] = field(default_factory=dict)  # '/'-separated relative path → (size, mtime_ns)
    unreadable_dirs: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def _check_folder(root: Path) -> None:
    if not os.path.lexists(root):
        raise FeedError("not_found", f"{root} does not exist")
    if not root.exists():
        raise FeedError("not_found", f"{root} is a broken symbolic link")
    if not root.is_dir():
        raise FeedError("not_a_folder", f"{root} is a file, not a folder")
    try:
        with os.scandir(root):
            pass
    except OSError as exc:
        raise FeedError("unreadable", f"{root}: {exc.strerror or exc}") from exc


def scan_folder(root: Path) -> FolderScan:
    """Stat every post file under `root` (hidden names skipped, symlinked folders not followed). Blocking.

    Raises FeedError when the root itself is missing or unreadable; an unreadable subfolder is noted in
    `unreadable_dirs` and the scan goes on.
    """
    _check_folder(root)
    scan = FolderScan()
    stack = [""]
    while stack:
        rel_dir = stack.pop()
        try:
            with os.scandir(root / rel_dir if rel_dir else root) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            if not rel_dir:
                raise FeedError("unreadable", f"{root}: {exc.strerror or exc}") from exc
            scan.unreadable_dirs.append(rel_dir)
            continue
        subdirs: list[str] = []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            try:
                if entry.is_dir(follow_symlinks=False):
                    subdirs.append(rel)
                    continue
                if not entry.name.lower().endswith(POST_SUFFIXES):
                    continue
                st = entry.stat()
            except OSError as exc:  # broken symlink, vanished meanwhile
                scan.skipped.append((_printable(rel), f"unreadable: {exc.strerror or exc}"))
                continue
            if not stat.S_ISREG(st.st_mode):
                continue
            try:
                rel.encode("utf-8")
            except UnicodeEncodeError:
                scan.skipped.append((_printable(rel), "file name is not valid UTF-8"))
                continue
            scan.files[rel] = (st.st_size, st.st_mtime_ns)
        stack.extend(reversed(subdirs))
    return scan


def _printable(rel: str) -> str:
    return rel.encode("utf-8", "backslashreplace").decode("utf-8")


def _inspect_folder(root: Path) -> tuple[int, str | None]:
    """(post files, title of the most recently modified one) for add_feed's answer."""
    from bot.core.parse import parse_post

    scan = scan_folder(root)
    newest: str | None = None
    for rel, _ in sorted(scan.files.items(), key=lambda kv: kv[1][1], reverse=True)[:5]:
        try:
            newest = parse_post(read_post_bytes(root / rel), name=Path(rel).stem).title
            break
        except RejectedPost:
            continue
    return len(scan.files), newest


@dataclass
class _Batch:
    built: list[tuple[Article, tuple[list[str], int]]] = field(default_factory=list)
    remember: list[tuple[str, int, int]] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)
    reads: int = 0


def _build_folder_batch(
    root: Path, items: list[tuple[str, tuple[int, int]]], *, feed: FeedInfo, default_tz: ZoneInfo,
    now: datetime, summariser: Summariser,
) -> _Batch:
    """Read, build and summarise changed files (blocking: run in a thread)."""
    out = _Batch()
    for rel, (size, mtime_ns) in items:
        path = root / rel
        out.reads += 1
        try:
            data = read_post_bytes(path)
            article = build_article(
                data, source=str(path), name=path.stem, feed_id=feed.id,
                fallback_categories=folder_categories(path, root), default_tz=default_tz,
                mtime=datetime.fromtimestamp(mtime_ns / 1e9, tz=timezone.utc), now=now,
                category_override=feed.category,
            )
        except RejectedPost as exc:
            out.rejected.append((str(path), str(exc)))
            # A file that could not be opened is tried again next scan; one rejected for what it
            # contains is remembered, so it is read again only when it changes.
            if not isinstance(exc.__cause__, OSError):
                out.remember.append((rel, size, mtime_ns))
            continue
        out.built.append((article, summariser(article)))
        out.remember.append((rel, size, mtime_ns))
    return out


async def _store_built(db: Database, built: list[tuple[Article, tuple[list[str], int]]]) -> Any:
    summaries = {a.uid: s for a, s in built}
    return await store_batch(db, [a for a, _ in built], summariser=lambda a: summaries[a.uid])


async def _poll_folder(
    db: Database, feed: FeedInfo, result: PollResult, *, now: datetime, default_tz: ZoneInfo,
    summariser: Summariser,
) -> None:
    root = Path(feed.location)
    scan = await asyncio.to_thread(scan_folder, root)
    known = await store.known_files(db, feed.id)
    result.files_seen = len(scan.files)
    changed = [(rel, st) for rel, st in scan.files.items() if known.get(rel) != st]
    for start in range(0, len(changed), BATCH_SIZE):
        batch = await asyncio.to_thread(
            _build_folder_batch, root, changed[start : start + BATCH_SIZE], feed=feed, default_tz=default_tz,
            now=now, summariser=summariser,
        )
        result.files_read += batch.reads
        result.rejected.extend(batch.rejected)
        if batch.built:
            result.add_report(await _store_built(db, batch.built))
        await store.remember_files(db, feed.id, batch.remember)
    # Deleted files leave their articles; only the index forgets them. Files under a subfolder that
    # could not be listed this time are not "deleted".
    hidden = tuple(d + "/" for d in scan.unreadable_dirs)
    gone = [rel for rel in known if rel not in scan.files and not rel.startswith(hidden)]
    await store.forget_files(db, feed.id, gone)
    result.files_deleted = len(gone)
    for rel_dir in scan.unreadable_dirs:
        result.rejected.append((str(root / rel_dir), "unreadable folder"))
    result.rejected.extend((str(root / rel), reason) for rel, reason in scan.skipped)


# ---------------------------------------------------------------- RSS / Atom feeds
@dataclass(frozen=True, slots=True)
class Fetched:
    status: int                      # 200 or 304
    body: bytes
    url: str                         # after redirects
    content_type: str
    etag: str | None
    last_modified: str | None


def _bad_url_errors() -> tuple[type[BaseException], ...]:
    # aiohttp ≥ 3.10 has distinct classes for redirects to unusable URLs; older versions only InvalidURL.
    names = ("InvalidURL", "InvalidUrlClientError", "NonHttpUrlClientError", "RedirectClientError")
    return tuple(getattr(aiohttp, n) for n in names if hasattr(aiohttp, n))


_BAD_URL_ERRORS = _bad_url_errors()


async def fetch_feed(
    session: aiohttp.ClientSession, url: str, *, etag: str | None = None, last_modified: str | None = None,
    timeout: float = DEFAULT_HTTP_TIMEOUT, max_bytes: int = MAX_FEED_BYTES,
) -> Fetched:
    """GET with If-None-Match / If-Modified-Since. Raises FeedError; a 304 is a Fetched with no body."""
    headers = {"User-Agent": USER_AGENT, "Accept": ACCEPT}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        # One deadline for connect, redirects and body: a server dripping bytes cannot hold a poll.
        async with asyncio.timeout(timeout):
            async with session.get(
                url, headers=headers, allow_redirects=True, max_redirects=MAX_REDIRECTS,
                timeout=aiohttp.ClientTimeout(total=timeout),
            ) as resp:
                final = str(resp.url)
                if resp.status == 304:
                    return Fetched(304, b"", final, "", etag, last_modified)
                if not 200 <= resp.status < 300:
                    raise FeedError("http_status", f"HTTP {resp.status}")
                if resp.content_length is not None and resp.content_length > max_bytes:
                    raise FeedError("too_large", f"{resp.content_length // 1024} KB > {max_bytes // 1024} KB")
                chunks: list[bytes] = []
                size = 0
                async for chunk in resp.content.iter_chunked(64 * 1024):
                    size += len(chunk)
                    if size > max_bytes:
                        raise FeedError("too_large", f"more than {max_bytes // 1024} KB")
                    chunks.append(chunk)
                return Fetched(
                    resp.status, b"".join(chunks), final, resp.headers.get("Content-Type", ""),
                    resp.headers.get("ETag"), resp.headers.get("Last-Modified"),
                )
    except TimeoutError as exc:
        raise FeedError("timeout", f"no complete answer within {timeout:g} s") from exc
    except aiohttp.TooManyRedirects as exc:
        raise FeedError("too_many_redirects", f"more than {MAX_REDIRECTS} redirects") from exc
    except _BAD_URL_ERRORS as exc:  # includes redirects to file:, ftp:, …
        raise FeedError("bad_url", f"cannot follow {exc}") from exc
    except aiohttp.ClientResponseError as exc:
        raise FeedError("http_status", f"HTTP {exc.status}") from exc
    except (aiohttp.ClientError, OSError) as exc:
        raise FeedError("network", str(exc) or exc.__class__.__name__) from exc


def parse_feed(body: bytes, *, url: str = "", content_type: str = "") -> Any:
    """feedparser's result for a fetched document; FeedError("not_a_feed") when it holds no RSS or Atom.

    A feed with a recoverable XML error keeps whatever items feedparser salvaged (most readers do).
    """
    import feedparser

    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    parsed = feedparser.parse(body, response_headers=headers)
    if not parsed.get("version") and not parsed.entries:
        problem = parsed.get("bozo_exception")
        raise FeedError("not_a_feed", f"not RSS or Atom ({problem})" if problem else "not RSS or Atom")
    return parsed


_TAG = re.compile(r"<[^>]+>")


def _plain(text: str, markup: bool = True) -> str:
    if markup and "<" in text:
        text = _TAG.sub(" ", text)
    return " ".join(text.split())


def _title(node: Any) -> str:
    """An item's or feed's title as one line of text; markup is stripped only from HTML titles ("a < b")."""
    kind = (node.get("title_detail") or {}).get("type") or "text/html"
    return _plain(node.get("title") or "", markup="html" in kind)


def _entry_html(entry: Any) -> str:
    contents = [c.get("value", "") for c in entry.get("content") or [] if c.get("value")]
    if contents:
        return max(contents, key=len)
    return entry.get("summary") or entry.get("description") or ""


def _entry_image(entry: Any) -> str | None:
    for media in entry.get("media_content") or []:
        url, medium, kind = web_url(media.get("url")), media.get("medium"), media.get("type") or ""
        if url and (medium == "image" or kind.startswith("image/") or (not medium and not kind)):
            return url
    for thumb in entry.get("media_thumbnail") or []:
        if url := web_url(thumb.get("url")):
            return url
    for enclosure in entry.get("enclosures") or []:
        if (enclosure.get("type") or "").startswith("image/") and (url := web_url(enclosure.get("href"))):
            return url
    return None


def _entry_published(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            try:
                return datetime(*value[:6], tzinfo=timezone.utc)
            except (TypeError, ValueError, OverflowError):
                continue
    return None


def entry_source(entry: Any) -> str:
    """An item's identity within its feed: GUID, else link, else a hash of title and date text."""
    guid = (entry.get("id") or "").strip()
    if guid:
        return guid[:2000]
    link = (entry.get("link") or "").strip()
    if link:
        return link[:2000]
    raw = _title(entry) + "\x00" + (entry.get("published") or entry.get("updated") or "")
    return "h:" + hashlib.blake2b(raw.encode("utf-8"), digest_size=12).hexdigest()


def entry_to_article(
    entry: Any, *, feed_id: int | None, feed_title: str = "", category: tuple[str, ...] = (), now: datetime,
) -> Article:
    """One feed item as an Article, through the same cleaner as posts. Pure. Raises RejectedPost.

    Categories: the item's tags, else the feed's configured category, else the feed's title.
    Published: the item's date (UTC), else `now` (flag date_guessed); dates over a day ahead become `now`.
    """
    body = _entry_html(entry)
    paragraphs = clean_html(body) if body.strip() else ()
    title = _title(entry)
    flags: set[str] = set()
    if not title:
        title = paragraphs[0][:200] if paragraphs else ""
        flags.add("title_guessed")
    if not title:
        raise RejectedPost("no_text", "item has no title and no text")
    if not paragraphs:
        flags.add("no_text")
    published = _entry_published(entry)
    if published is None:
        published = now
        flags.add("date_guessed")
    elif published > now + timedelta(days=1):  # a wrong clock would pin the item to the top for ever
        published = now
        flags.add("date_in_future")
    tags = _clean_category(
        t.get("term") or t.get("label") or "" for t in entry.get("tags") or [] if isinstance(t, dict)
    )
    tags = tuple(dict.fromkeys(tags))
    categories = tags or category or _clean_category([feed_title]) or ("未分类",)
    source = entry_source(entry)
    uid = article_uid(feed_id, source)
    return Article(
        uid=uid, feed_id=feed_id, source=source, title=title[:1000], categories=categories,
        author=_plain(entry.get("author") or "")[:200], published=published, image_url=_entry_image(entry),
        paragraphs=paragraphs, language=guess_language(title + "\n" + "\n".join(paragraphs[:5])),
        content_hash=content_hash(title[:1000], paragraphs), story_key="s:" + uid, ingested=now,
        url=web_url(entry.get("link")), flags=frozenset(flags),
    )


def _build_feed_articles(
    fetched: Fetched, *, feed: FeedInfo, now: datetime,
) -> tuple[int, list[Article], list[tuple[str, str]]]:
    """Parse the document and build every item (blocking: run in a thread)."""
    parsed = parse_feed(fetched.body, url=fetched.url, content_type=fetched.content_type)
    feed_title = _title(parsed.feed) or feed.name
    built: list[Article] = []
    rejected: list[tuple[str, str]] = []
    seen: set[str] = set()
    for entry in parsed.entries:
        try:
            article = entry_to_article(entry, feed_id=feed.id, feed_title=feed_title, category=feed.category, now=now)
        except RejectedPost as exc:
            rejected.append((entry.get("link") or entry.get("id") or fetched.url, str(exc)))
            continue
        if article.uid in seen:  # the same GUID twice in one document: keep the first
            continue
        seen.add(article.uid)
        built.append(article)
    return len(parsed.entries), built, rejected


def _summarise_all(articles: list[Article], summariser: Summariser) -> list[tuple[Article, tuple[list[str], int]]]:
    return [(a, summariser(a)) for a in articles]


async def _inspect_url(
    url: str, session: aiohttp.ClientSession | None, timeout: float, max_bytes: int
) -> tuple[int, str | None, str]:
    """(items, newest item title, feed title) for add_feed's answer."""
    async with _session(session, timeout) as s:
        fetched = await fetch_feed(s, url, timeout=timeout, max_bytes=max_bytes)
    parsed = await asyncio.to_thread(parse_feed, fetched.body, url=fetched.url, content_type=fetched.content_type)
    entries = list(parsed.entries)
    dated = [e for e in entries if _entry_published(e)]
    newest = max(dated, key=_entry_published) if dated else (entries[0] if entries else None)
    newest_title = (_title(newest) or None) if newest is not None else None
    return len(entries), newest_title, _title(parsed.feed)


async def _poll_rss(
    db: Database, feed: FeedInfo, result: PollResult, *, now: datetime, session: aiohttp.ClientSession,
    timeout: float, max_bytes: int, summariser: Summariser,
) -> Fetched:
    fetched = await fetch_feed(
        session, feed.location, etag=feed.etag, last_modified=feed.last_modified, timeout=timeout,
        max_bytes=max_bytes,
    )
    if fetched.status == 304:
        result.not_modified = True
        return fetched
    items, built, rejected = await asyncio.to_thread(_build_feed_articles, fetched, feed=feed, now=now)
    result.items = items
    result.rejected.extend(rejected)
    # A feed repeats its items on every poll: only new or rewritten ones are worth summarising.
    stored = await store.content_hashes(db, [a.uid for a in built])
    unchanged = [a for a in built if stored.get(a.uid) == a.content_hash]
    result.known += len(unchanged)
    changed = [a for a in built if stored.get(a.uid) != a.content_hash]
    for start in range(0, len(changed), BATCH_SIZE):
        batch = await asyncio.to_thread(_summarise_all, changed[start : start + BATCH_SIZE], summariser)
        result.add_report(await _store_built(db, batch))
    return fetched


class _session:
    """Use the caller's aiohttp session, or open (and close) one for this call."""

    def __init__(self, session: aiohttp.ClientSession | None, timeout: float, needed: bool = True) -> None:
        self.given, self.timeout, self.needed, self.own = session, timeout, needed, None

    async def __aenter__(self) -> Any:
        if self.given is not None or not self.needed:
            return self.given
        self.own = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        return self.own

    async def __aexit__(self, *exc: object) -> None:
        if self.own is not None:
            await self.own.close()


# ---------------------------------------------------------------- polling
_locks: "weakref.WeakKeyDictionary[Database, dict[int, asyncio.Lock]]" = weakref.WeakKeyDictionary()


def _feed_lock(db: Database, feed_id: int) -> asyncio.Lock:
    """One poll per feed at a time (the scheduler's round and an admin's /fetch may overlap)."""
    return _locks.setdefault(db, {}).setdefault(feed_id, asyncio.Lock())


async def poll_feed(
    db: Database,
    feed: FeedInfo,
    *,
    now: datetime,
    interval: int = DEFAULT_INTERVAL,
    session: aiohttp.ClientSession | None = None,
    http_timeout: float = DEFAULT_HTTP_TIMEOUT,
    max_bytes: int = MAX_FEED_BYTES,
    default_tz: ZoneInfo = ZoneInfo("Asia/Shanghai"),
    summariser: Summariser = default_summariser,
) -> PollResult:
    """Poll one feed now, store what is new, and record success or failure (backoff, notices).

    Never raises for a feed problem: the result carries `error`, and `notice` when the admins should
    hear about it (the 5th consecutive failure, once; the first success after that).
    """
    result = PollResult(feed.id, feed.name, feed.kind)
    fetched: Fetched | None = None
    async with _feed_lock(db, feed.id):
        try:
            if feed.kind == "folder":
                await _poll_folder(db, feed, result, now=now, default_tz=default_tz, summariser=summariser)
            else:
                async with _session(session, http_timeout) as s:
                    fetched = await _poll_rss(db, feed, result, now=now, session=s, timeout=http_timeout,
                                              max_bytes=max_bytes, summariser=summariser)
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
            )
            if was_notified:
                result.notice = FeedNotice("recovered", feed.id, feed.name, feed.location, 0)
        else:
            result.failures, notify = await store.record_failure(
                db, feed.id, now=now, error=str(result.error),
                delay_for=lambda n: backoff_delay(interval, n), notify_after=NOTIFY_AFTER_FAILURES,
            )
            result.next_poll_at = now + timedelta(seconds=backoff_delay(interval, result.failures))
            if notify:
                result.notice = FeedNotice("failing", feed.id, feed.name, feed.location, result.failures,
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
    session: aiohttp.ClientSession | None = None,
    http_timeout: float = DEFAULT_HTTP_TIMEOUT,
    max_bytes: int = MAX_FEED_BYTES,
    default_tz: ZoneInfo = ZoneInfo("Asia/Shanghai"),
    summariser: Summariser = default_summariser,
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
    async with _session(session, http_timeout, needed=any(f.kind == "rss" for f in feeds)) as s:
        async def one_feed(feed: FeedInfo) -> PollResult:
            async with limit:
                try:
                    return await poll_feed(
                        db, feed, now=now, interval=interval, session=s, http_timeout=http_timeout,
                        max_bytes=max_bytes, default_tz=default_tz, summariser=summariser,
                    )
                except Exception as exc:  # even recording the outcome failed (database trouble)
                    log.exception("feed poll could not be recorded feed_id=%s", feed.id)
                    failed = PollResult(feed.id, feed.name, feed.kind)
                    failed.error = FeedError("internal", exc.__class__.__name__)
                    return failed

        results = list(await asyncio.gather(*(one_feed(f) for f in feeds)))
    await store.mark_polled(db, now)
    return PollRound(results, [r.notice for r in results if r.notice is not None])
