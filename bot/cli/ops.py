"""`newsbot purge | backup | restore | stats`: the operator's commands (README "Operating newsbot").

`purge` and `backup` work while the bot runs (short write batches; SQLite's online backup). `restore`
refuses while a bot holds the database, checks the copy, migrates it when it is older, and keeps the
file it replaces. `stats` prints the numbers `/stats` and `/metrics` show; the running bot's own
counters come from its `/metrics` when NEWSBOT_METRICS_LISTEN is set.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import urllib.error
import urllib.request
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from bot.cli.args import db_path
from bot.core.errors import CliError
from bot.core.settings import Settings
from storage.backup import BackupError, backup_database, check_database
from storage.db import LATEST_VERSION, open_db
from storage.lock import RunnerLock
from storage.retention import parse_age, purge
from storage.stats import collect_stats


def _fail(text: str) -> CliError:
    return CliError("usage", text)


def _now() -> datetime:
    return datetime.now(timezone.utc)


# ---------------------------------------------------------------- purge
async def cmd_purge(args: argparse.Namespace, settings: Settings) -> int:
    try:
        age = parse_age(args.older_than)
    except ValueError as exc:
        raise _fail(f"--older-than: {exc}") from exc
    path = db_path(args, settings)
    if not path.is_file():
        raise _fail(f"no database at {path}")
    now = _now()
    async with open_db(path) as db:
        report = await purge(db, older_than=now - age, now=now, dry_run=args.dry_run)
    print(report.summary_line())
    if not args.dry_run:
        print(f"  {report.batches} batches in {report.seconds:.1f} s, longest {report.longest_batch * 1000:.0f} ms; "
              f"{report.tombstones} story fingerprints kept so none is pushed twice")
    return 0


# ---------------------------------------------------------------- backup / restore
async def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    source = db_path(args, settings)
    dest = Path(args.path)
    if dest.is_dir():
        dest = dest / f"newsbot-{_now():%Y%m%d-%H%M%S}.sqlite3"
    try:
        report = await asyncio.to_thread(backup_database, source, dest)
    except BackupError as exc:
        raise _fail(str(exc)) from exc
    print(f"backup written to {report.path}: {report.bytes / 1e6:.1f} MB, schema version {report.schema_version}, "
          f"integrity ok, {report.seconds:.1f} s")
    return 0


async def cmd_restore(args: argparse.Namespace, settings: Settings) -> int:
    target = db_path(args, settings)
    copy = Path(args.path)
    lock = RunnerLock(target)
    if not lock.try_acquire():  # held until the restore is done, so no bot starts half-way
        raise _fail(f"a bot (pid {lock.holder()}) is running on {target}: stop it first (systemctl stop newsbot)")
    try:
        try:
            version = await asyncio.to_thread(check_database, copy)
        except BackupError as exc:
            raise _fail(f"not restored: {exc}") from exc
        if version > LATEST_VERSION:
            raise _fail(f"not restored: {copy} has schema version {version}, newer than this newsbot knows "
                        f"({LATEST_VERSION}); upgrade newsbot first")
        staging = target.with_name(f".{target.name}.restoring")
        for leftover in _family(staging):
            leftover.unlink(missing_ok=True)
        await asyncio.to_thread(shutil.copyfile, copy, staging)
        # Migrates an older copy (the copy itself is its backup), and leaves one file without a -wal.
        async with open_db(staging, backup_first=False) as db:
            await db.conn.execute("PRAGMA journal_mode = DELETE")
        await asyncio.to_thread(check_database, staging, quick=True)
        kept = None
        if target.exists():
            kept = target.with_name(f"{target.name}.before-restore-{_now():%Y%m%d-%H%M%S}")
            for part in _family(target):
                os.replace(part, Path(f"{kept}{str(part)[len(str(target)):]}"))
        os.replace(staging, target)
    finally:
        lock.release()
    migrated = f", migrated from schema version {version} to {LATEST_VERSION}" if version < LATEST_VERSION else ""
    print(f"restored {target} from {copy}{migrated}")
    if kept is not None:
        print(f"  the database it replaced is kept as {kept}")
    return 0


def _family(path: Path) -> list[Path]:
    """The database file and its -wal / -shm, those that exist."""
    return [p for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()]


# ---------------------------------------------------------------- stats
LIVE_COUNTERS = (("newsbot_messages_sent_total", "sent"), ("newsbot_messages_failed_total", "failed"),
                 ("newsbot_messages_retried_total", "retried"), ("newsbot_telegram_429_total", "429s"),
                 ("newsbot_telegram_held_seconds_total", "held s"))


def scrape(listen: tuple[str, int], timeout: float = 3.0) -> dict[str, float] | None:
    """The running bot's /metrics as {name: value} of unlabelled samples; None when it does not answer."""
    host, port = listen
    host = f"[{host}]" if ":" in host else host
    try:
        with urllib.request.urlopen(f"http://{host}:{port}/metrics", timeout=timeout) as r:  # loopback only (settings)
            text = r.read().decode()
    except (OSError, urllib.error.URLError):
        return None
    return {s.name: s.value for f in text_string_to_metric_families(text) for s in f.samples if not s.labels}


def _when(dt: datetime | None, settings: Settings) -> str:
    return dt.astimezone(settings.timezone).strftime("%Y-%m-%d %H:%M") if dt else "never"


async def cmd_stats(args: argparse.Namespace, settings: Settings) -> int:
    path = db_path(args, settings)
    async with open_db(path) as db:
        s = await collect_stats(db, path, _now())
    print(f"articles        {s.articles} ({s.stories} stories; {s.tombstones} purged stories remembered)")
    print(f"chats           {s.chats_active} active, {s.chats_inactive} inactive")
    print(f"subscriptions   {s.subscriptions}")
    print(f"watches         {s.watches}")
    print(f"outbox          {s.outbox_pending} pending, {s.outbox_due} messages due "
          f"(oldest {s.oldest_due_seconds:.0f} s), {s.sends_failed} failed sends")
    print(f"feeds           {s.feeds} ({s.feeds_failing} failing, {s.feeds_backoff} in backoff, {s.feeds_paused} paused)")
    print(f"last poll       {_when(s.last_poll_at, settings)}")
    print(f"last dispatch   {_when(s.last_dispatch_at, settings)}")
    print(f"database        {s.db_bytes / 1024 / 1024:.1f} MB")
    live = await asyncio.to_thread(scrape, settings.metrics_listen) if settings.metrics_listen else None
    if live is not None:
        print("running bot     " + ", ".join(f"{label} {live.get(name, 0):.0f}" for name, label in LIVE_COUNTERS))
    else:
        why = "not answering" if settings.metrics_listen else "NEWSBOT_METRICS_LISTEN not set"
        print(f"running bot     counters unavailable ({why})")
    return 0


def add_commands(subparsers: Any) -> None:
    """Add `purge`, `backup`, `restore` and `stats` to the `newsbot` parser's subcommands."""
    p = subparsers.add_parser("purge", help="delete articles older than an age (and return the space)")
    p.add_argument("--older-than", required=True, metavar="AGE", help="e.g. 90d, 12w, 36h (a number alone: days)")
    p.add_argument("--dry-run", action="store_true", help="count and estimate only")
    p.set_defaults(func=cmd_purge)

    p = subparsers.add_parser("backup", help="copy the database while the bot runs (checked)")
    p.add_argument("path", metavar="PATH", help="file to write, or a folder for a dated file")
    p.set_defaults(func=cmd_backup)

    p = subparsers.add_parser("restore", help="replace the database with a backup (the bot must be stopped)")
    p.add_argument("path", metavar="PATH")
    p.set_defaults(func=cmd_restore)

    p = subparsers.add_parser("stats", help="counts, delivery and feed health, database size (as /stats)")
    p.set_defaults(func=cmd_stats)
