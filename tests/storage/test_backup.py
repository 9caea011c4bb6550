"""storage/backup.py: a copy taken while another process writes is intact and holds every committed row;
scheduled copies rotate; a damaged or foreign file is refused with one line."""
from __future__ import annotations

import asyncio
import multiprocessing
import sqlite3
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from storage.backup import BackupError, backup_database, check_database, scheduled_backup
from storage.db import LATEST_VERSION, open_db


def _writer(path: str, stop_at: float, committed) -> None:
    """Another process writing as fast as it can: one row per transaction, the last committed id shared."""
    con = sqlite3.connect(path, timeout=30, isolation_level=None)
    con.execute("PRAGMA busy_timeout = 30000")
    i = 0
    while time.time() < stop_at:
        i += 1
        con.execute("BEGIN IMMEDIATE")
        con.execute("INSERT INTO search_sessions (id, chat_id, query, created_at) VALUES (?, 1, ?, 0)",
                    (i, f"load {i} " + "x" * 200))
        con.execute("COMMIT")
        committed.value = i
    con.close()


async def test_backup_under_write_load_is_intact_and_holds_every_committed_row(tmp_path):
    db_path = tmp_path / "live.sqlite3"
    async with open_db(db_path) as db:  # some bulk, so that a copy takes a while
        await db.write("CREATE TABLE ballast (b BLOB)")
        for _ in range(40):
            await db.write("INSERT INTO ballast VALUES (randomblob(200000))")
    ctx = multiprocessing.get_context("spawn")
    committed = ctx.Value("q", 0)
    proc = ctx.Process(target=_writer, args=(str(db_path), time.time() + 6, committed))
    proc.start()
    try:
        for _ in range(3000):  # the writer is under way
            if committed.value >= 50:
                break
            await asyncio.sleep(0.01)
        copies = []
        for n in range(4):
            before = committed.value
            report = await asyncio.to_thread(backup_database, db_path, tmp_path / f"copy{n}.sqlite3")
            copies.append((before, committed.value, report))
            await asyncio.sleep(0.2)
    finally:
        proc.join(30)
    assert proc.exitcode == 0
    for before, after, report in copies:
        assert report.schema_version == LATEST_VERSION and report.bytes > 8_000_000
        con = sqlite3.connect(report.path)
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"   # one file, no -wal beside it
        ids = [r[0] for r in con.execute("SELECT id FROM search_sessions ORDER BY id")]
        con.close()
        # Every row committed before the copy started is there, and the copy is one consistent moment:
        # a prefix of the writer's sequence, nothing torn.
        assert len(ids) >= before and ids == list(range(1, len(ids) + 1)) and len(ids) <= after
    assert copies[-1][1] > copies[0][0]  # the writer kept going while copies were taken
    assert not list(tmp_path.glob(".*.partial"))


def test_scheduled_backups_keep_the_newest(tmp_path):
    src = tmp_path / "db.sqlite3"
    con = sqlite3.connect(src)
    con.execute("CREATE TABLE articles (id INTEGER PRIMARY KEY)")
    con.commit()
    con.close()
    folder = tmp_path / "backups"
    folder.mkdir()
    (folder / "notes.txt").write_text("not ours")
    start = datetime(2025, 1, 1, tzinfo=timezone.utc)
    for day in range(5):
        scheduled_backup(src, folder, keep=2, now=start + timedelta(days=day))
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["newsbot-20250104-000000.sqlite3", "newsbot-20250105-000000.sqlite3", "notes.txt"]


def test_damaged_or_foreign_files_are_refused(tmp_path):
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"this is not a database" * 100)
    with pytest.raises(BackupError, match="not a usable SQLite database"):
        check_database(junk)
    other = tmp_path / "other.sqlite3"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    with pytest.raises(BackupError, match="not a newsbot database"):
        check_database(other)
    with pytest.raises(BackupError, match="no such file"):
        check_database(tmp_path / "missing.sqlite3")


def test_a_damaged_copy_fails_its_check(tmp_path):
    db_path = tmp_path / "db.sqlite3"
    con = sqlite3.connect(db_path)
    con.executescript("CREATE TABLE articles (id INTEGER PRIMARY KEY, b BLOB);"
                      "CREATE INDEX articles_b ON articles (b);")
    con.executemany("INSERT INTO articles (b) VALUES (randomblob(?))", [(3000,)] * 100)
    con.commit()
    con.close()
    copy = backup_database(db_path, tmp_path / "copy.sqlite3").path
    data = bytearray(copy.read_bytes())
    for off in range(8192, len(data) - 4096, 4096):  # scribble over every page but the first two
        data[off + 8: off + 64] = b"\xff" * 56
    Path(copy).write_bytes(bytes(data))
    with pytest.raises(BackupError):
        check_database(copy)
