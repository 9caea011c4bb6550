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
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.core.errors import FeedError, RejectedPost
from bot.core.model import Article
from bot.core.parse import parse_post
from bot.feeds.ingest import (
    BATCH_SIZE,
    OUTSIDE,
    POST_SUFFIXES,
    IngestReport,
    Summariser,
    build_article,
    folder_categories,
    inside,
    read_post_bytes,
    store_batch,
)
from storage import feeds as store
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


@dataclass
class _Batch:
    built: list[tuple[Article, tuple[list[str], int]]] = field(default_factory=list)
    remember: list[tuple[str, int, int]] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)
    reads: int = 0


def _build_folder_batch(
    root: Path, real_root: str, items: list[tuple[str, tuple[int, int]]], *, feed: FeedInfo, default_tz: ZoneInfo,
    now: datetime, summariser: Summariser,
) -> _Batch:
    """Read, build and summarise changed files (blocking: run in a thread)."""
    out = _Batch()
    for rel, (size, mtime_ns) in items:
        path = root / rel
        out.reads += 1
        try:
            data = read_post_bytes(path, real_root)
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


async def store_built(db: Database, built: list[tuple[Article, tuple[list[str], int]]]) -> IngestReport:
    """Store articles already summarised (their summaries are not computed again)."""
    summaries = {a.uid: s for a, s in built}
    return await store_batch(db, [a for a, _ in built], summariser=lambda a: summaries[a.uid])


def _merge(into: IngestReport, report: IngestReport) -> None:
    for name in ("new", "known", "updated", "duplicate", "same_story"):
        setattr(into, name, getattr(into, name) + getattr(report, name))
    into.rejected.extend(report.rejected)
    into.new_ids.extend(report.new_ids)


async def poll_folder(
    db: Database, feed: FeedInfo, *, now: datetime, default_tz: ZoneInfo, summariser: Summariser,
) -> FolderPoll:
    """Scan the feed's folder, read what changed, store it, and forget deleted files. Raises FeedError."""
    root = Path(feed.location)
    scan = await asyncio.to_thread(scan_folder, root)
    known = await store.known_files(db, feed.id)
    done = FolderPoll(files_seen=len(scan.files))
    changed = [(rel, st) for rel, st in scan.files.items() if known.get(rel) != st]
    for start in range(0, len(changed), BATCH_SIZE):
        batch = await asyncio.to_thread(
            _build_folder_batch, root, scan.real_root, changed[start : start + BATCH_SIZE], feed=feed,
            default_tz=default_tz, now=now, summariser=summariser,
        )
        done.files_read += batch.reads
        done.report.rejected.extend(batch.rejected)
        if batch.built:
            _merge(done.report, await store_built(db, batch.built))
        await store.remember_files(db, feed.id, batch.remember)
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
