"""storage/db.py: migrations from empty and from every earlier version, WAL, refusal of newer schemas."""
from __future__ import annotations

import sqlite3
from datetime import datetime, timezone

import pytest

from bot.feeds.ingest import ingest_paths
from storage.articles import count_articles, get_article, latest
from storage.db import LATEST_VERSION, SchemaTooNew, migrations, open_db, schema_version
from storage.index import index_article
from storage.search import matching_ids
from tests.support.posts import write_post


async def test_empty_file_migrates_to_latest_with_wal_and_foreign_keys(db_path):
    async with open_db(db_path) as db:
        assert await schema_version(db.conn) == LATEST_VERSION
        (mode,) = await db.fetchone("PRAGMA journal_mode")
        (fk,) = await db.fetchone("PRAGMA foreign_keys")
        assert mode == "wal" and fk == 1


@pytest.mark.parametrize("start", range(1, LATEST_VERSION))
async def test_every_earlier_version_upgrades_and_keeps_data(db_path, start):
    """An article stored at an earlier schema (the articles and summaries tables are unchanged since
    0001; the search index came with 0003) is kept, and found by search, after upgrading."""
    async with open_db(db_path, migrate_to=start) as db:
        assert await schema_version(db.conn) == start
        await db.write(
            "INSERT INTO articles (uid, source, title, categories, category_key, published, ingested, body, "
            "language, content_hash, story_key) VALUES ('u1', 'a.md', ?, '[\"科技\"]', '科技\x1f', 1700000000, "
            "1700000000, ?, 'zh', 'h1', 's:u1')",
            ("迁移测试文章：数据要保留", "海关总署公布了新的统计数据。"),
        )
        await db.write("INSERT INTO summaries (article_id, version, sentences) VALUES (1, 1, '[\"摘要\"]')")
        if start >= 6:  # from 0006 on the store indexes a new article itself (no insert trigger)
            await db.run_in_transaction(lambda c: index_article(c, 1, "迁移测试文章：数据要保留",
                                                                "海关总署公布了新的统计数据。", "科技\x1f", 1700000000))
    async with open_db(db_path) as db:
        assert await schema_version(db.conn) == LATEST_VERSION
        (stored,) = await latest(db)
        assert stored.article.title == "迁移测试文章：数据要保留"
        assert (await get_article(db, stored.id)).summary == ["摘要"]
        now = datetime(2024, 1, 1, tzinfo=timezone.utc)
        assert await matching_ids(db, "海关", now=now) == [stored.id]
        assert await matching_ids(db, "迁移", now=now) == [stored.id]
        # And what the current version stores next is indexed once, alongside it.
        write_post(db_path.parent / "feed", "升级之后的文章", paragraphs=("海关又发布了数据。",))
        report = await ingest_paths(db, [db_path.parent / "feed"])
        assert report.new == 1
        assert len(await matching_ids(db, "海关", now=now)) == 2


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


async def test_0007_moves_rss_item_fingerprints_out_of_feed_files(db_path):
    """Before 0007 an RSS feed's items borrowed feed_files (identity in `path`, fingerprint in size/mtime_ns,
    a refused item as size -(size + 1)); they move to feed_items in the same "size:digest" form that
    bot.core.feed_items.entry_fingerprint gives now, so no known item is built again after the upgrade."""
    from bot.core.feed_items import entry_fingerprint
    from storage.feed_items import SeenItem, known_items
    from storage.feeds import get_feed

    entry = {"id": "tag:x,2024:1", "title": "An item", "summary": "<p>Text.</p>"}
    size, digest = (int(p) for p in entry_fingerprint(entry).split(":"))
    async with open_db(db_path, migrate_to=6) as db:
        for fid, kind, loc in ((1, "rss", "https://example.com/rss"), (2, "folder", "/srv/posts")):
            await db.write("INSERT INTO feeds (id, name, kind, location, created_at) VALUES (?,?,?,?,1700000000)",
                           (fid, loc, kind, loc))
        rows = [(1, "tag:x,2024:1", size, digest), (1, "tag:x,2024:2", -41, 77), (2, "a/post.md", 120, 1700000000123)]
        for row in rows:
            await db.write("INSERT INTO feed_files (feed_id, path, size, mtime_ns) VALUES (?,?,?,?)", row)
    async with open_db(db_path, migrate_to=7) as db:
        assert await known_items(db, 1) == {
            "tag:x,2024:1": SeenItem(entry_fingerprint(entry)), "tag:x,2024:2": SeenItem("40:77", refused=True)}
        assert await known_items(db, 2) == {}
        files = await db.fetchall("SELECT feed_id, path, size, mtime_ns FROM feed_files")
        assert [tuple(r) for r in files] == [(2, "a/post.md", 120, 1700000000123)]
        feed = await get_feed(db, 1)
        assert feed is not None and feed.capped_at is None and (feed.capped_skipped, feed.capped_deferred) == (0, 0)
        plan = await db.fetchall("EXPLAIN QUERY PLAN SELECT item_key, fingerprint, refused FROM feed_items "
                                 "WHERE feed_id = ?", (1,))
        assert any("feed_items_by_feed_item_key" in r["detail"] for r in plan)
        await db.write("DELETE FROM feeds WHERE id = 1")  # a removed feed takes its items with it
        assert await known_items(db, 1) == {}
