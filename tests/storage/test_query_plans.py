"""Query plans of the statements the SQL audit flagged (migration 0005, storage/outbox.py, feeds.py, watches.py).

Each test runs the real storage function on a real SQLite file made by open_db (foreign keys on, no
ANALYZE, as in production), records the statements it executes with their parameters, and checks
EXPLAIN QUERY PLAN for them: they seek by the intended index and do not read the whole outbox or sends
table (which grow with every message ever sent). Foreign-key cascades show up in those plans too.
"""
from __future__ import annotations

import random
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.feeds.manage import (
    AddResult,
    add_feed,
    get_feed,
    list_feeds,
    remove_feed,
)
from bot.feeds.poller import poll_feed
from storage import db as storage_db
from storage import outbox
from storage.chats import migrate_chat, register_chat, set_active, subscribe
from storage.db import open_db, schema_version
from storage.feeds import due_feeds
from storage.outbox import (
    PlannedMessage,
    chats_with_due_sends,
    drop_chat_backlog,
    due_sends,
    plan_sends,
)
from storage.watches import Watch, add_watch, load_matcher
from tests.support.posts import write_post

NOW = datetime(2024, 5, 20, 8, 0, tzinfo=timezone.utc)


# ---------------------------------------------------------------- helpers
@contextmanager
def recording(db):
    """Collect (sql, params) of every statement run on the connection inside the block."""
    ran: list[tuple[str, tuple]] = []
    real = db.conn.execute

    def spy(sql, parameters=None):
        ran.append((sql, tuple(parameters or ())))
        return real(sql, parameters)

    real_fetch = storage_db._fetch  # Database.fetchall/fetchone run their statement on the thread in one call

    def fetch_spy(conn, sql, parameters, *, all_rows):
        ran.append((sql, tuple(parameters or ())))
        return real_fetch(conn, sql, parameters, all_rows=all_rows)

    db.conn.execute = spy
    storage_db._fetch = fetch_spy
    try:
        yield ran
    finally:
        del db.conn.execute
        storage_db._fetch = real_fetch


def the(ran: list[tuple[str, tuple]], start: str) -> tuple[str, tuple]:
    """The one recorded statement beginning with `start`."""
    found = [s for s in ran if s[0].lstrip().startswith(start)]
    assert len(found) == 1, (start, [s[0] for s in ran])
    return found[0]


async def plan(db, statement: tuple[str, tuple]) -> list[str]:
    sql, params = statement
    return [r[3] for r in await db.fetchall("EXPLAIN QUERY PLAN " + sql, params)]


def no_full_read(lines: list[str], table: str) -> None:
    """No step reads all of `table` (nor all of one of its indexes)."""
    assert not [p for p in lines if p.startswith(f"SCAN {table}")], lines


async def add_chat(db, chat_id: int) -> None:
    await register_chat(db, chat_id=chat_id, type="group", title=f"chat {chat_id}", is_forum=False,
                        client_language="en", timezone="UTC", now=NOW)


async def add_sends(db, chat_id: int, n: int) -> list[int]:
    return await plan_sends(db, chat_id, [PlannedMessage(0, f"message {k} to {chat_id}", (), ()) for k in range(n)],
                            NOW)


async def polled_folder(db, root: Path, titles: list[str]):
    for t in titles:
        write_post(root, t, paragraphs=(f"{t}：今天的报道正文。", f"关于{t}的第二段，细节不同。"))
    got = await add_feed(db, str(root), now=NOW)
    assert isinstance(got, AddResult), got
    result = await poll_feed(db, await get_feed(db, got.feed.id), now=NOW, interval=300)
    assert result.error is None and result.new == len(titles)
    return got.feed


async def two_feeds_delivered_to_two_chats(db, tmp_path):
    """Feeds `gone` (3 articles) and `kept` (2); chats 1 and 2 subscribe to both, so each article has
    two outbox rows; chat 1 has one planned message holding an item of each feed."""
    for chat in (1, 2):
        await add_chat(db, chat)
        assert await subscribe(db, chat, 0, ("新闻",), NOW)
    gone = await polled_folder(db, tmp_path / "gone", ["海关发布进出口数据", "央行宣布下调准备金率", "台风今晨登陆沿海地区"])
    kept = await polled_folder(db, tmp_path / "kept", ["高铁新线今日开通运营", "多所大学公布招生计划"])
    assert (await outbox.match_new_articles(db, NOW)).queued == 10
    items = await outbox.pending_items(db, 1)
    mixed = [next(i for i in items if i.stored.article.feed_id == f.id) for f in (gone, kept)]
    (send_id,) = await plan_sends(db, 1, [PlannedMessage(
        0, "两条新闻", tuple(i.outbox_id for i in mixed), tuple(i.stored.id for i in mixed))], NOW)
    return gone, kept, send_id


# ---------------------------------------------------------------- 1: feed purge → outbox cascade
async def test_purging_a_feed_cascades_to_the_outbox_through_its_article_index(db, tmp_path):
    gone, _, _ = await two_feeds_delivered_to_two_chats(db, tmp_path)
    with recording(db) as ran:
        await remove_feed(db, gone.id, purge=True)
    lines = await plan(db, the(ran, "DELETE FROM articles"))
    assert "SEARCH outbox USING COVERING INDEX outbox_by_article (article_id=?)" in lines
    no_full_read(lines, "outbox")


async def test_purging_a_feed_deletes_its_articles_and_only_their_outbox_rows(db, tmp_path):
    gone, kept, send_id = await two_feeds_delivered_to_two_chats(db, tmp_path)
    gone_ids = [r[0] for r in await db.fetchall("SELECT id FROM articles WHERE feed_id = ?", (gone.id,))]
    kept_ids = [r[0] for r in await db.fetchall("SELECT id FROM articles WHERE feed_id = ?", (kept.id,))]

    got = await remove_feed(db, gone.id, purge=True)

    assert got.purged == 3 and got.feed.articles == 3
    assert [f.id for f in await list_feeds(db)] == [kept.id]
    assert [r[0] for r in await db.fetchall("SELECT id FROM articles ORDER BY id")] == kept_ids
    marks = ",".join("?" * len(gone_ids))
    assert (await db.fetchone(f"SELECT COUNT(*) FROM outbox WHERE article_id IN ({marks})", gone_ids))[0] == 0
    assert (await db.fetchone(f"SELECT COUNT(*) FROM summaries WHERE article_id IN ({marks})", gone_ids))[0] == 0
    rows = await db.fetchall("SELECT chat_id, article_id, state, send_id FROM outbox ORDER BY chat_id, article_id")
    assert [(r["chat_id"], r["article_id"]) for r in rows] == [(c, a) for c in (1, 2) for a in kept_ids]
    # the planned message stays (it may already be on its way); its remaining item still points at it
    assert [(r["state"], r["send_id"]) for r in rows if r["chat_id"] == 1] == [("planned", send_id), ("pending", None)]
    assert (await db.fetchone("SELECT state FROM sends WHERE id = ?", (send_id,)))[0] == "planned"
    assert await db.fetchall("PRAGMA foreign_key_check") == []


# ---------------------------------------------------------------- 2: one chat's sends
async def test_a_chats_due_sends_and_backlog_drop_seek_by_chat(db):
    for chat in (1, 2, 3):
        await add_chat(db, chat)
    ones = await add_sends(db, 1, 3)
    twos = await add_sends(db, 2, 2)
    threes = await add_sends(db, 3, 2)

    with recording(db) as ran:
        got = await due_sends(db, 1, NOW)
    assert [s.id for s in got] == ones and {s.chat_type for s in got} == {"group"}
    lines = await plan(db, the(ran, "SELECT s.*"))
    assert "SEARCH s USING INDEX sends_by_chat (chat_id=? AND state=? AND next_attempt_at<?)" in lines
    no_full_read(lines, "s")

    with recording(db) as ran:
        await drop_chat_backlog(db, 2, "forbidden: bot was blocked")
    lines = await plan(db, the(ran, "UPDATE sends"))
    assert lines == ["SEARCH sends USING INDEX sends_by_chat (chat_id=? AND state=?)"]
    states = {r[0]: r[1] for r in await db.fetchall("SELECT id, state FROM sends")}
    assert [states[i] for i in twos] == ["failed", "failed"]
    assert [states[i] for i in ones + threes] == ["planned"] * 5


@pytest.mark.parametrize("new_id_known", [False, True], ids=["moved", "merged"])
async def test_migrating_a_chat_moves_its_sends_by_chat(db, new_id_known):
    await add_chat(db, -100)
    await add_chat(db, -7)
    if new_id_known:
        await add_chat(db, -1007)
    moved = await add_sends(db, -100, 2)
    other = await add_sends(db, -7, 1)

    with recording(db) as ran:
        await migrate_chat(db, -100, -1007, NOW)
    writes = [s for s in ran if s[0].startswith(("UPDATE sends", "UPDATE chats", "DELETE FROM chats"))]
    assert len(writes) == (2 if new_id_known else 1)
    for statement in writes:
        lines = await plan(db, statement)
        assert "SEARCH sends USING COVERING INDEX sends_by_chat (chat_id=?)" in lines, statement[0]
        no_full_read(lines, "sends")
    rows = await db.fetchall("SELECT id, chat_id FROM sends ORDER BY id")
    assert [(r[0], r[1]) for r in rows] == [(i, -1007) for i in moved] + [(i, -7) for i in other]


# ---------------------------------------------------------------- 3: which chats the sender serves next
async def test_chats_with_due_sends_walks_open_sends_in_id_order(db):
    for chat in (1, 2, 3):
        await add_chat(db, chat)
        await add_sends(db, chat, 2)
    with recording(db) as ran:
        assert await chats_with_due_sends(db, NOW, {2}, 5) == [1, 3]
    assert len(ran) == 1
    lines = await plan(db, ran[0])
    assert lines == ["SEARCH sends USING COVERING INDEX sends_open (id>?)"]  # no grouping, no sort


async def grouped(db, now: datetime, exclude: set[int], limit: int) -> list[int]:
    """The query chats_with_due_sends replaced: group every open due send by chat."""
    where = f"AND chat_id NOT IN ({','.join('?' * len(exclude))})" if exclude else ""
    rows = await db.fetchall(
        "SELECT chat_id, MIN(id) AS first FROM sends WHERE state IN ('planned', 'in_flight') "
        f"AND next_attempt_at <= ? {where} GROUP BY chat_id ORDER BY first LIMIT ?",
        (int(now.timestamp()), *exclude, limit),
    )
    return [r[0] for r in rows]


@pytest.mark.parametrize("chunk", [1, 3, outbox.DUE_SENDS_CHUNK])
async def test_chats_with_due_sends_gives_what_grouping_the_backlog_gave(db, monkeypatch, chunk):
    monkeypatch.setattr(outbox, "DUE_SENDS_CHUNK", chunk)
    rnd = random.Random(chunk)
    chats = list(range(1, 13))
    ts = int(NOW.timestamp())
    async with db.transaction() as conn:
        await conn.executemany(
            "INSERT INTO chats (id, type, timezone, created_at, updated_at) VALUES (?, 'private', 'UTC', 0, 0)",
            [(c,) for c in chats])
        await conn.executemany(
            "INSERT INTO sends (chat_id, state, next_attempt_at, body, created_at) VALUES (?, ?, ?, 'x', 0)",
            [(rnd.choice(chats[:4] * 4 + chats),  # a few chats with long backlogs
              rnd.choice(["planned", "planned", "in_flight", "sent", "failed"]),
              rnd.choice([0, 0, ts - 5, ts + 60])) for _ in range(300)])
    for _ in range(60):
        exclude = set(rnd.sample(chats, rnd.randint(0, 5)))
        limit = rnd.randint(1, 14)
        now = NOW + timedelta(seconds=rnd.choice([0, 0, 120]))
        expected = await grouped(db, now, exclude, limit)
        assert await chats_with_due_sends(db, now, exclude, limit) == expected, (exclude, limit, now)


# ---------------------------------------------------------------- 4: watches of active chats
async def test_load_matcher_reads_watches_in_id_order_without_probing_every_chat(db):
    for chat in (1, 2, 3):
        await add_chat(db, chat)
        assert isinstance(await add_watch(db, chat, "海关", now=NOW), Watch)
    await set_active(db, 2, False, "stopped", NOW)
    with recording(db) as ran:
        assert len(await load_matcher(db)) == 2  # chat 2's watch is skipped
    lines = await plan(db, the(ran, "SELECT w.id"))
    assert lines == ["SCAN w", "SEARCH c USING INTEGER PRIMARY KEY (rowid=?)"]  # no chats_by_active, no sort


# ---------------------------------------------------------------- 5: the poll round's feed list
async def test_due_feeds_does_not_count_articles_but_listings_do(db, tmp_path):
    feed = await polled_folder(db, tmp_path / "feed", ["博物馆举办青铜器新展览", "城市地铁延长夜间运营时间"])
    await db.write("UPDATE feeds SET next_poll_at = NULL")
    with recording(db) as ran:
        (due,) = await due_feeds(db, NOW)
    assert due.id == feed.id and due.articles is None
    lines = await plan(db, the(ran, "SELECT f.*"))
    assert not [p for p in lines if "articles" in p or "SUBQUERY" in p], lines
    # where people see the count, it is still there
    assert [f.articles for f in await list_feeds(db)] == [2]
    assert (await get_feed(db, feed.id)).articles == 2


# ---------------------------------------------------------------- upgrade
async def test_upgrade_from_version_4_builds_the_indexes_over_existing_rows(db_path):
    async with open_db(db_path, migrate_to=4) as db:
        await add_chat(db, 1)
        await add_sends(db, 1, 2)
    async with open_db(db_path) as db:
        assert await schema_version(db.conn) >= 5
        names = {r[0] for r in await db.fetchall("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert {"outbox_by_article", "sends_by_chat", "sends_open"} <= names
        assert await chats_with_due_sends(db, NOW, set(), 5) == [1]
        assert len(await due_sends(db, 1, NOW)) == 2
        assert [tuple(r) for r in await db.fetchall("PRAGMA integrity_check")] == [("ok",)]
