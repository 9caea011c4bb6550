"""Folder feeds: scan a folder of Hexo posts with stat() and read only the files that changed.

An unchanged folder of 100,000 posts costs 100,000 stats and no reads (sizes and mtimes are kept in
`feed_files`). Nothing outside the folder's real path is ever read or descended into: a post that is a
symbolic link to ../../.env is reported as rejected, not ingested.
"""
from __future__ import annotations

import asyncio
import os
import stat
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.core.errors import FeedError, RejectedPost
from bot.core.parse import parse_post
from bot.feeds.ingest import (
    BATCH_SIZE,
    OUTSIDE,
    POST_SUFFIXES,
    IngestReport,
    Summariser,
    default_summariser,
    inside,
    read_post_bytes,
)
from bot.feeds.tasks import Built, Rejected, build_in_worker, build_post
from bot.feeds.workers import WorkerPool, shared_pool
from storage import feeds as store
from storage.articles import Outcome, StoreItem, store_articles
from storage.db import Database
from storage.feeds import FeedInfo


@dataclass
class FolderScan:
    files: dict[str, tuple[int, int]] = field(default_factory=dict)  # '/'-separated relative path → (size, mtime_ns)
    unreadable_dirs: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)     # (relative path, reason)
    real_root: str = ""


@dataclass
class FolderPoll:
    """What one poll of a folder feed did; the poller adds it to its PollResult."""

    report: IngestReport = field(default_factory=IngestReport)
    files_seen: int = 0
    files_read: int = 0
    files_deleted: int = 0


def check_folder(root: Path) -> None:
    """Raise FeedError unless `root` is a listable folder."""
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

    A symbolic link is followed only to a file inside the folder's real path; one that leads outside
    (file or folder) is listed in `skipped`. Raises FeedError when the root itself is missing or
    unreadable; an unreadable subfolder is noted in `unreadable_dirs` and the scan goes on.
    """
    check_folder(root)
    scan = FolderScan(real_root=os.path.realpath(root))
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
                if entry.is_symlink():
                    if not inside(os.path.realpath(entry.path), scan.real_root):
                        if entry.is_dir() or entry.name.lower().endswith(POST_SUFFIXES):
                            scan.skipped.append((_printable(rel), OUTSIDE))
                        continue
                    if entry.is_dir():  # a link to a folder inside: scanned under its own name
                        continue
                if not entry.name.lower().endswith(POST_SUFFIXES):
                    continue
                st = entry.stat()
            except OSError as exc:  # broken symlink, vanished meanwhile
                scan.skipped.append((_printable(rel), f"unreadable: {exc.strerror or exc}"))
                continue
            if not stat.S_ISREG(st.st_mode):  # never opened: a FIFO would block, a device never end
                scan.skipped.append((_printable(rel), f"not a regular file ({_kind(st.st_mode)})"))
                continue
            try:
                rel.encode("utf-8")
            except UnicodeEncodeError:
                scan.skipped.append((_printable(rel), "file name is not valid UTF-8"))
                continue
            scan.files[rel] = (st.st_size, st.st_mtime_ns)
        stack.extend(reversed(subdirs))
    return scan


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISDIR, "a folder")):
        if test(mode):
            return name
    return "not a file"


def _printable(rel: str) -> str:
    return rel.encode("utf-8", "backslashreplace").decode("utf-8")


def inspect_folder(root: Path) -> tuple[int, str | None]:
    """(post files, title of the most recently modified one) for add_feed's answer. Blocking."""

    scan = scan_folder(root)
    newest: str | None = None
    for rel, _ in sorted(scan.files.items(), key=lambda kv: kv[1][1], reverse=True)[:5]:
        try:
            newest = parse_post(read_post_bytes(root / rel, scan.real_root), name=Path(rel).stem).title
            break
        except RejectedPost:
            continue
    return len(scan.files), newest


async def store_built(db: Database, built: list[Built]) -> IngestReport:
    """Store articles built (and summarised, tokenised) in a worker, in one transaction."""
    report = IngestReport()
    items: list[StoreItem] = [(b.article, *(b.summary or ([], 0)), b.terms) for b in built]
    for stored in await store_articles(db, items):
        if stored.outcome in (Outcome.NEW, Outcome.SAME_STORY):
            report.new_ids.append(stored.article_id)
        setattr(report, stored.outcome.value, getattr(report, stored.outcome.value) + 1)
    return report


def summarise_all(built: list[Built], summariser: Summariser) -> list[Built]:
    return [Built(b.article, summariser(b.article), b.terms) for b in built]


def _merge(into: IngestReport, report: IngestReport) -> None:
    for name in ("new", "known", "updated", "duplicate", "same_story"):
        setattr(into, name, getattr(into, name) + getattr(report, name))
    into.rejected.extend(report.rejected)
    into.new_ids.extend(report.new_ids)


async def poll_folder(
    db: Database, feed: FeedInfo, *, now: datetime, default_tz: ZoneInfo, summariser: Summariser,
    workers: WorkerPool | None = None,
) -> FolderPoll:
    """Scan the feed's folder, read what changed, store it, and forget deleted files. Raises FeedError."""
    root = Path(feed.location)
    workers = workers or shared_pool()
    scan = await asyncio.to_thread(scan_folder, root)
    known = await store.known_files(db, feed.id)
    done = FolderPoll(files_seen=len(scan.files))
    changed = [(rel, st) for rel, st in scan.files.items() if known.get(rel) != st]
    here = summariser is default_summariser
    for start in range(0, len(changed), BATCH_SIZE):
        chunk = changed[start : start + BATCH_SIZE]
        # Reading, cleaning, summarising: in the workers, one post at a time, each within its budget.
        outcomes = await asyncio.gather(*(
            build_in_worker(workers, build_post, str(root), scan.real_root, rel, mtime_ns, feed.id, feed.category,
                            default_tz, now, here)
            for rel, (_, mtime_ns) in chunk))
        done.files_read += len(chunk)
        built: list[Built] = []
        remember: list[tuple[str, int, int]] = []
        for (rel, (size, mtime_ns)), outcome in zip(chunk, outcomes, strict=True):
            if isinstance(outcome, Rejected):
                done.report.rejected.append((str(root / rel), outcome.reason))
                if not outcome.remember:
                    continue
            else:
                built.append(outcome)
            remember.append((rel, size, mtime_ns))
        if built and not here:  # a summariser given by the caller runs in this process (tests)
            built = await asyncio.to_thread(summarise_all, built, summariser)
        if built:
            _merge(done.report, await store_built(db, built))
        await store.remember_files(db, feed.id, remember)
    # Deleted files leave their articles; only the index forgets them. Files under a subfolder that
    # could not be listed this time are not "deleted".
    hidden = tuple(d + "/" for d in scan.unreadable_dirs)
    gone = [rel for rel in known if rel not in scan.files and not rel.startswith(hidden)]
    await store.forget_files(db, feed.id, gone)
    done.files_deleted = len(gone)
    for rel_dir in scan.unreadable_dirs:
        done.report.rejected.append((str(root / rel_dir), "unreadable folder"))
    done.report.rejected.extend((str(root / rel), reason) for rel, reason in scan.skipped)
    return done
