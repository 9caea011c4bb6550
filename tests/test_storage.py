"""storage/db.py: migrations from empty and from every earlier version, WAL, refusal of newer schemas."""
from __future__ import annotations

import sqlite3

import pytest

from bot.ingest import ingest_paths
from storage.articles import count_articles, get_article, latest
from storage.db import LATEST_VERSION, SchemaTooNew, migrations, open_db, schema_version
from tests.posts import write_post


async def test_empty_file_migrates_to_latest_with_wal_and_foreign_keys(db_path):
    async with open_db(db_path) as db:
        assert await schema_version(db.conn) == LATEST_VERSION
        (mode,) = await db.fetchone("PRAGMA journal_mode")
        (fk,) = await db.fetchone("PRAGMA foreign_keys")
        assert mode == "wal" and fk == 1


@pytest.mark.parametrize("start", range(1, LATEST_VERSION))
async def test_every_earlier_version_upgrades_and_keeps_data(db_path, tmp_path, start):
    write_post(tmp_path / "feed", "迁移测试文章：数据要保留")
    async with open_db(db_path, migrate_to=start) as db:
        assert await schema_version(db.conn) == start
        if start >= 1:
            report = await ingest_paths(db, [tmp_path / "feed"], summariser=lambda a: (["摘要"], 1))
            assert report.new == 1
    async with open_db(db_path) as db:
        assert await schema_version(db.conn) == LATEST_VERSION
        (stored,) = await latest(db)
        assert stored.article.title == "迁移测试文章：数据要保留"
        assert (await get_article(db, stored.id)).summary == ["摘要"]


async def test_newer_schema_is_refused_with_a_clear_message(db_path):
    async with open_db(db_path):
        pass
    con = sqlite3.connect(db_path)
    con.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
    con.close()
    with pytest.raises(SchemaTooNew, match="newer than this newsbot knows"):
        async with open_db(db_path):
            pass


def test_migrations_are_numbered_without_gaps():
    assert [m.version for m in migrations()] == list(range(1, LATEST_VERSION + 1))


async def test_failed_transaction_rolls_back(db):
    with pytest.raises(RuntimeError):
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO meta (key, value) VALUES ('x', '1')")
            raise RuntimeError("boom")
    assert await db.fetchone("SELECT * FROM meta WHERE key = 'x'") is None
    assert await count_articles(db) == (0, 0)
