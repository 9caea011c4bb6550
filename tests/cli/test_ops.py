"""`newsbot purge | backup | restore | stats` as an operator runs them (subprocesses, real files)."""
from __future__ import annotations

import asyncio
import sqlite3
from datetime import datetime, timezone

from storage.backup import backup_database
from storage.db import LATEST_VERSION, open_db
from storage.lock import RunnerLock
from tests.cli.test_cli import newsbot
from tests.support.posts import write_post

OLD = datetime(2020, 1, 1, tzinfo=timezone.utc)


def articles(db: str) -> list[str]:
    con = sqlite3.connect(db)
    rows = [r[0] for r in con.execute("SELECT title FROM articles ORDER BY id")]
    con.close()
    return rows


def test_purge_dry_run_reports_then_purge_frees(tmp_path):
    feed = tmp_path / "feed"
    for i in range(3):
        write_post(feed, f"很久以前的新闻第{i}篇：港口", date=OLD)
    write_post(feed, "今天的新闻：机场", date=datetime.now(timezone.utc))
    db = str(tmp_path / "ops.sqlite3")
    assert newsbot("--db", db, "ingest", str(feed), "--workers", "0").returncode == 0
    r = newsbot("--db", db, "purge", "--older-than", "90d", "--dry-run")
    assert r.returncode == 0, r.stderr
    assert "would purge 3 articles" in r.stdout and "would free about" in r.stdout
    assert len(articles(db)) == 4
    r = newsbot("--db", db, "purge", "--older-than", "90d")
    assert r.returncode == 0, r.stderr
    assert "purged 3 articles" in r.stdout and "freed" in r.stdout
    assert articles(db) == ["今天的新闻：机场"]
    r = newsbot("--db", db, "purge", "--older-than", "soon")
    assert r.returncode == 2 and "--older-than" in r.stderr and r.stderr.count("\n") == 1


def test_backup_then_restore_refused_while_a_bot_runs_then_restored(tmp_path):
    feed = tmp_path / "feed"
    write_post(feed, "备份之前的文章：数据")
    db = tmp_path / "live.sqlite3"
    assert newsbot("--db", str(db), "ingest", str(feed), "--workers", "0").returncode == 0
    r = newsbot("--db", str(db), "backup", str(tmp_path / "b" / "copy.sqlite3"))
    assert r.returncode == 0, r.stderr
    assert "integrity ok" in r.stdout and (tmp_path / "b" / "copy.sqlite3").is_file()
    write_post(feed, "备份之后的文章：会被还原掉")
    assert newsbot("--db", str(db), "ingest", str(feed), "--workers", "0").returncode == 0
    assert len(articles(str(db))) == 2

    lock = RunnerLock(db)  # a running bot holds this
    assert lock.try_acquire()
    try:
        r = newsbot("--db", str(db), "restore", str(tmp_path / "b" / "copy.sqlite3"))
        assert r.returncode == 2 and "is running" in r.stderr and r.stderr.count("\n") == 1
        assert len(articles(str(db))) == 2
    finally:
        lock.release()
    r = newsbot("--db", str(db), "restore", str(tmp_path / "b" / "copy.sqlite3"))
    assert r.returncode == 0, r.stderr
    assert articles(str(db)) == ["备份之前的文章：数据"]
    (kept,) = tmp_path.glob("live.sqlite3.before-restore-*")
    assert len(articles(str(kept))) == 2
    r = newsbot("--db", str(db), "articles")
    assert r.returncode == 0 and "备份之前的文章" in r.stdout


def test_restore_checks_the_copy_and_migrates_an_older_one(tmp_path):
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"not a database at all" * 200)
    db = tmp_path / "live.sqlite3"
    r = newsbot("--db", str(db), "restore", str(junk))
    assert r.returncode == 2 and "not restored" in r.stderr and not db.exists()

    older = tmp_path / "older.sqlite3"

    async def make_older() -> None:
        async with open_db(older, migrate_to=LATEST_VERSION - 1) as d:
            await d.write("INSERT INTO meta (key, value) VALUES ('marker', 'from an older release')")

    asyncio.run(make_older())
    copy = backup_database(older, tmp_path / "older-copy.sqlite3").path
    r = newsbot("--db", str(db), "restore", str(copy))
    assert r.returncode == 0, r.stderr
    assert f"migrated from schema version {LATEST_VERSION - 1} to {LATEST_VERSION}" in r.stdout
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA user_version").fetchone()[0] == LATEST_VERSION
    assert con.execute("SELECT value FROM meta WHERE key = 'marker'").fetchone()[0] == "from an older release"
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()

    newer = tmp_path / "newer.sqlite3"
    backup_database(older, newer)
    con = sqlite3.connect(newer)
    con.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
    con.close()
    r = newsbot("--db", str(db), "restore", str(newer))
    assert r.returncode == 2 and "newer than this newsbot knows" in r.stderr


def test_a_newer_database_is_refused_with_one_line_and_an_older_one_upgraded_with_a_backup(tmp_path):
    db = tmp_path / "db.sqlite3"

    async def make(version: int) -> None:
        async with open_db(db, migrate_to=version):
            pass

    asyncio.run(make(LATEST_VERSION - 1))
    r = newsbot("--db", str(db), "stats")
    assert r.returncode == 0, r.stderr
    assert list(tmp_path.glob(f"db.sqlite3.v{LATEST_VERSION - 1}-before-v{LATEST_VERSION}-*.bak"))
    con = sqlite3.connect(db)
    con.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
    con.close()
    r = newsbot("--db", str(db), "stats")
    assert r.returncode == 1 and r.stderr.count("\n") == 1 and "newer than this newsbot knows" in r.stderr


def test_stats_prints_the_operating_numbers(tmp_path):
    feed = tmp_path / "feed"
    write_post(feed, "统计测试：一篇文章")
    db = str(tmp_path / "s.sqlite3")
    assert newsbot("--db", db, "ingest", str(feed), "--workers", "0").returncode == 0
    r = newsbot("--db", db, "stats")
    assert r.returncode == 0, r.stderr
    assert "articles        1 (1 stories; 0 purged stories remembered)" in r.stdout
    assert "messages due" in r.stdout and "in backoff" in r.stdout
    assert "counters unavailable (NEWSBOT_METRICS_LISTEN not set)" in r.stdout
