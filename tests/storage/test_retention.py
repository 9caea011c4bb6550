"""storage/retention.py and storage/tombstones.py: old articles go with their index entries, summaries and
delivery records in short batches, the space is returned, and a purged story is never pushed twice."""
from __future__ import annotations

import asyncio
import sqlite3
import time
from dataclasses import replace
from datetime import timedelta

import pytest

from storage.articles import category_counts, count_articles, latest
from storage.chats import register_chat, subscribe
from storage.db import migrations, open_db, schema_version
from storage.feeds import delete_feed
from storage.outbox import match_new_articles
from storage.retention import parse_age, purge
from storage.search import matching_ids
from tests.storage.corpus import NOW, article, fts_integrity, store

CUTOFF = NOW - timedelta(days=180)
BODY = "海关总署今天发布了新的统计数据，进出口总额继续增长。"


def old_and_new(n_old: int, n_new: int, tag: str = "") -> list:
    olds = [article(f"old{tag}{i}", f"旧闻第{i}篇：关于港口的报道{tag}", f"旧港口{i}号码头的新闻{tag}。{BODY}",
                    days_ago=200 + i) for i in range(n_old)]
    news = [article(f"new{tag}{i}", f"新闻第{i}篇：关于机场的报道{tag}", f"新机场{i}号航站楼的新闻{tag}。{BODY}",
                    days_ago=10 + i) for i in range(n_new)]
    return olds + news


async def scalar(db, sql: str, params=()) -> int:
    row = await db.fetchone(sql, params)
    return int(row[0])


async def subscriber(db) -> None:
    """Chat 7 subscribed to 金融 since before any article."""
    await register_chat(db, chat_id=7, type="private", title="", is_forum=False, client_language="zh",
                        timezone="Asia/Shanghai", now=NOW - timedelta(days=400))
    await subscribe(db, 7, 0, ("金融",), NOW - timedelta(days=400))
    await db.write("UPDATE subscriptions SET since_article_id = 0")


async def test_purge_removes_old_articles_with_index_entries_and_summaries(db):
    await store(db, *old_and_new(40, 5))
    report = await purge(db, older_than=CUTOFF, now=NOW)
    assert report.articles == 40 and report.summaries == 40 and report.held_back == 0
    assert (await count_articles(db))[0] == 5
    assert await scalar(db, "SELECT COUNT(*) FROM summaries") == 5
    assert await matching_ids(db, "港口", now=NOW) == []            # the index forgot them (contentless FTS)
    assert len(await matching_ids(db, "海关", now=NOW)) == 5
    assert len(await matching_ids(db, "码", now=NOW)) == 0           # one-character table too
    await fts_integrity(db)
    assert report.batches > 1 and report.batch_sizes[0] <= 10     # bounded batches, not one long transaction
    assert report.tombstones >= 40 * 3


async def test_dry_run_counts_and_estimates_but_changes_nothing(db):
    await store(db, *old_and_new(12, 3))
    report = await purge(db, older_than=CUTOFF, now=NOW, dry_run=True)
    assert report.dry_run and report.articles == 12 and report.summaries == 12
    assert report.bytes_freed > 0
    assert (await count_articles(db))[0] == 15
    assert "would purge 12 articles" in report.summary_line()


async def test_space_goes_back_to_the_file_system(db_path):
    async with open_db(db_path) as db:
        assert await scalar(db, "PRAGMA auto_vacuum") == 2           # incremental, from the first table on
        await store(db, *[replace(a, paragraphs=a.paragraphs * 200) for a in old_and_new(150, 2)])
        await db.fetchall("PRAGMA wal_checkpoint(TRUNCATE)")
        before = db_path.stat().st_size
        report = await purge(db, older_than=CUTOFF, now=NOW)
        await db.fetchall("PRAGMA wal_checkpoint(TRUNCATE)")
        assert await scalar(db, "PRAGMA freelist_count") < 600
        assert report.incremental_vacuum and report.bytes_freed > before // 2
    assert db_path.stat().st_size < before // 2


async def test_articles_not_yet_delivered_are_kept_until_sent(db):
    await subscriber(db)
    await store(db, *old_and_new(3, 1))
    await match_new_articles(db, NOW)
    await db.write("UPDATE outbox SET state = 'sent' WHERE article_id IN (SELECT id FROM articles WHERE uid = 'old0')")
    report = await purge(db, older_than=CUTOFF, now=NOW)
    assert report.articles == 1 and report.held_back == 2 and report.outbox_rows == 1
    assert await scalar(db, "SELECT COUNT(*) FROM outbox WHERE state = 'pending'") == 3


async def _delivered_and_purged(db) -> None:
    """A chat subscribed to 金融 has received every old story; then retention purges them."""
    await subscriber(db)
    await store(db, *old_and_new(5, 0))
    assert (await match_new_articles(db, NOW)).queued == 5
    await db.write("UPDATE outbox SET state = 'sent'")
    assert (await purge(db, older_than=CUTOFF, now=NOW)).articles == 5
    assert await scalar(db, "SELECT COUNT(*) FROM outbox") == 0      # the ledger rows went with them


async def test_a_purged_story_served_again_is_not_pushed_twice(db):
    await _delivered_and_purged(db)
    again = old_and_new(5, 0)
    # The same items re-served (same uid), the same text under another uid, and a genuinely new story.
    await store(db, again[0], replace(again[1], uid="mirror-1", source="/mirror/1.md", story_key="s:mirror-1"),
            article("fresh", "全新的报道：关于铁路的消息", "铁路部门今天宣布了新的时刻表安排。", days_ago=1))
    report = await match_new_articles(db, NOW)
    assert report.queued == 1
    (row,) = await db.fetchall("SELECT a.uid FROM outbox o JOIN articles a ON a.id = o.article_id")
    assert row[0] == "fresh"


async def test_a_later_article_of_a_purged_story_is_not_pushed_again(db):
    """Story keys are kept, not only the purged article's own keys: an article of the same story that
    arrives later (here: sharing the surviving article's story key) is not queued either."""
    await _delivered_and_purged(db)
    (story,) = await db.fetchone("SELECT 's:old0'")
    late = article("late", "后续：关于港口的跟进报道", "港口码头今天有了后续进展。", days_ago=1)
    await store(db, replace(late, story_key=story))
    assert (await match_new_articles(db, NOW)).queued == 0


async def test_removing_a_feed_with_purge_then_adding_it_again_pushes_nothing_twice(db):
    await subscriber(db)
    feed = await db.write("INSERT INTO feeds (name, kind, location, created_at) VALUES ('f', 'folder', '/f', 0)")
    arts = [replace(a, feed_id=feed) for a in old_and_new(0, 4)]
    await store(db, *arts)
    assert (await match_new_articles(db, NOW)).queued == 4
    await db.write("UPDATE outbox SET state = 'sent'")
    assert (await delete_feed(db, feed, purge=True))[1] == 4
    feed2 = await db.write("INSERT INTO feeds (name, kind, location, created_at) VALUES ('f', 'folder', '/f', 1)")
    await store(db, *[replace(a, feed_id=feed2) for a in arts])
    assert (await count_articles(db))[0] == 4                       # stored again, searchable
    assert (await match_new_articles(db, NOW)).queued == 0           # but not pushed again


async def test_expired_tombstones_and_old_sent_messages_are_purged(db):
    await db.write("INSERT INTO story_tombstones (key, expires) VALUES (1, ?), (2, ?)",
                   (int(NOW.timestamp()) - 1, int(NOW.timestamp()) + 86400))
    await subscriber(db)
    for days, state in ((300, "sent"), (300, "failed"), (300, "planned"), (5, "sent")):
        await db.write("INSERT INTO sends (chat_id, state, body, created_at) VALUES (7, ?, 'x', ?)",
                       (state, int((NOW - timedelta(days=days)).timestamp())))
    report = await purge(db, older_than=CUTOFF, now=NOW)
    assert report.tombstones_expired == 1 and report.sends == 2
    assert await scalar(db, "SELECT COUNT(*) FROM story_tombstones") == 1
    assert await scalar(db, "SELECT COUNT(*) FROM sends") == 2


async def test_reads_go_on_while_a_purge_runs(db):
    """Each batch is a short transaction with a pause after it: a reader never waits long, and never reads
    a statement half done while a batch frees its pages (that failed as "database disk image is malformed")."""
    await store(db, *old_and_new(1500, 50))
    waits: list[float] = []
    errors: list[str] = []

    async def reader() -> None:
        while not task.done():
            for read in (lambda: latest(db, limit=5), lambda: category_counts(db),
                         lambda: matching_ids(db, "港口", now=NOW)):
                t0 = time.perf_counter()
                try:
                    await read()
                except Exception as exc:
                    errors.append(repr(exc))
                waits.append(time.perf_counter() - t0)
            await asyncio.sleep(0.002)

    task = asyncio.create_task(purge(db, older_than=CUTOFF, now=NOW))
    await reader()
    report = task.result()
    assert errors == []
    assert report.articles == 1500 and len(waits) > 30
    assert report.longest_batch < 0.5 and max(waits) < 0.5


def test_ages_parse():
    assert parse_age("90d") == timedelta(days=90) and parse_age("2w") == timedelta(days=14)
    assert parse_age("36h") == timedelta(hours=36) and parse_age("30") == timedelta(days=30)
    with pytest.raises(ValueError):
        parse_age("soon")


async def test_an_older_file_is_backed_up_then_switched_to_incremental_vacuum(db_path):
    """Upgrades: a database from before retention (auto_vacuum off) is copied, migrated and rewritten once."""
    retention = next(m.version for m in migrations() if m.name == "retention")
    con = sqlite3.connect(db_path)
    con.executescript("PRAGMA auto_vacuum = NONE; CREATE TABLE scratch (x); DROP TABLE scratch;")
    con.close()
    async with open_db(db_path, migrate_to=retention - 1) as db:
        assert await scalar(db, "PRAGMA auto_vacuum") == 0
        await store(db, *old_and_new(2, 2))
    async with open_db(db_path) as db:
        assert await scalar(db, "PRAGMA auto_vacuum") == 2
        assert (await count_articles(db))[0] == 4
        assert await schema_version(db.conn) >= retention
    (bak,) = db_path.parent.glob(f"{db_path.name}.v{retention - 1}-before-v*.bak")
    con = sqlite3.connect(bak)
    assert con.execute("PRAGMA user_version").fetchone()[0] == retention - 1
    assert con.execute("SELECT COUNT(*) FROM articles").fetchone()[0] == 4
    con.close()
