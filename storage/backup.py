"""Consistent copies of the database while the bot runs (SQLite's online backup API), checked, and rotated.

The copy is taken in one step: a read transaction on a WAL database does not block the bot's writers,
and a one-step copy is never restarted by them (a step-wise backup restarts whenever another connection
writes, and under steady writes may never finish). The copy is written next to its destination, switched
to a single-file journal, checked with `PRAGMA integrity_check`, fsynced, and only then renamed into place.
Plain sqlite3 in a worker thread: no event loop is held up, and storage.db can use it before migrating.
"""
from __future__ import annotations

import os
import re
import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path


class BackupError(RuntimeError):
    """A copy could not be made, or a file is not a usable newsbot database (one line, for the CLI)."""


@dataclass(frozen=True, slots=True)
class BackupReport:
    path: Path
    bytes: int
    seconds: float
    schema_version: int


def check_database(path: Path | str, *, quick: bool = False) -> int:
    """Open `path` read-only and run integrity_check (quick_check when `quick`); returns its schema version.

    BackupError when the file is missing, not SQLite, damaged, or not a newsbot database."""
    if not Path(path).is_file():
        raise BackupError(f"{path}: no such file")
    try:
        conn = sqlite3.connect(f"file:{Path(path).resolve()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise BackupError(f"{path}: cannot open: {exc}") from exc
    try:
        rows = conn.execute("PRAGMA quick_check" if quick else "PRAGMA integrity_check").fetchall()
        if [r[0] for r in rows] != ["ok"]:
            raise BackupError(f"{path}: integrity check failed: {rows[0][0]}")
        if conn.execute("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'articles'").fetchone() is None:
            raise BackupError(f"{path}: not a newsbot database (no articles table)")
        return int(conn.execute("PRAGMA user_version").fetchone()[0])
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path}: not a usable SQLite database: {exc}") from exc
    finally:
        conn.close()


def backup_database(source: Path | str, dest: Path | str, *, check: bool = True) -> BackupReport:
    """Copy the live database `source` to `dest` (replaced atomically). Blocking: run it in a thread."""
    source, dest = Path(source), Path(dest)
    if not source.is_file():
        raise BackupError(f"{source}: no such database")
    if dest.resolve() == source.resolve():
        raise BackupError(f"{dest}: is the database itself")
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(f".{dest.name}.partial")
    partial.unlink(missing_ok=True)
    started = time.monotonic()
    try:
        src = sqlite3.connect(source, timeout=30)
        try:
            out = sqlite3.connect(partial)
            try:
                src.backup(out)  # pages=-1: the whole file in one step, under one read snapshot
                out.execute("PRAGMA journal_mode = DELETE")  # one self-contained file, no -wal beside it
                version = int(out.execute("PRAGMA user_version").fetchone()[0])
            finally:
                out.close()
        finally:
            src.close()
        if check:
            check_database(partial)
        with open(partial, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(partial, dest)
        _fsync_dir(dest.parent)
    except sqlite3.Error as exc:
        partial.unlink(missing_ok=True)
        raise BackupError(f"backup of {source} failed: {exc}") from exc
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return BackupReport(dest, dest.stat().st_size, time.monotonic() - started, version)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


BACKUP_NAME = re.compile(r"^newsbot-(\d{8}-\d{6})\.sqlite3$")


def scheduled_backup(source: Path | str, folder: Path | str, keep: int, now: datetime) -> BackupReport:
    """The daily backup (NEWSBOT_BACKUP_DIR): `newsbot-YYYYmmdd-HHMMSS.sqlite3` in `folder`, then only the
    newest `keep` such files stay. Other files in the folder are never touched."""
    folder = Path(folder)
    report = backup_database(source, folder / f"newsbot-{now.astimezone(timezone.utc):%Y%m%d-%H%M%S}.sqlite3")
    ours = sorted(p for p in folder.iterdir() if BACKUP_NAME.match(p.name))
    for old in ours[:-keep] if keep > 0 else []:
        old.unlink(missing_ok=True)
    return report


def pre_migration_backup(source: Path | str, from_version: int, to_version: int) -> Path:
    """Before an older database is migrated: a checked copy beside it, named for the versions. Blocking."""
    source = Path(source)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    dest = source.with_name(f"{source.name}.v{from_version}-before-v{to_version}-{stamp}.bak")
    return backup_database(source, dest).path
