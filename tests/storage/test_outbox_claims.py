"""Two senders on one database (storage.outbox): an item is planned into one message only, and a planned
message is claimed by one sender only — real SQLite file, two connections as two processes would hold."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.feeds.ingest import ingest_paths
from storage import outbox
from storage.chats import register_chat, subscribe
from storage.db import open_db
from tests.support.posts import write_post

NOW = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)


async def _chat_with_pending_items(db, tmp_path) -> int:
    await register_chat(db, chat_id=7, type="private", title="", is_forum=False, client_language="zh",
                        timezone="Asia/Shanghai", now=NOW - timedelta(days=1))
    await subscribe(db, 7, 0, ("新闻",), NOW - timedelta(days=1))
    for n in range(3):
        write_post(tmp_path / "feed", f"认领测试第{n}条", date=NOW - timedelta(minutes=n))
    await ingest_paths(db, [tmp_path / "feed"], workers=0)
    await outbox.match_new_articles(db, NOW)
    return 7


async def test_items_read_by_two_planners_are_planned_once(tmp_path):
    path = tmp_path / "bot.sqlite3"
    async with open_db(path) as one, open_db(path) as two:
        chat = await _chat_with_pending_items(one, tmp_path)
        seen_by_one = await outbox.pending_items(one, chat)
        seen_by_two = await outbox.pending_items(two, chat)
        assert len(seen_by_one) == len(seen_by_two) == 3

        def message(items):
            return [outbox.PlannedMessage(0, "digest", tuple(i.outbox_id for i in items),
                                          tuple(i.stored.id for i in items))]

        assert len(await outbox.plan_sends(one, chat, message(seen_by_one), NOW)) == 1
        with pytest.raises(outbox.PlanConflict):
            await outbox.plan_sends(two, chat, message(seen_by_two), NOW)
        rows = await one.fetchall("SELECT id FROM sends WHERE chat_id = ?", (chat,))
        assert len(rows) == 1  # the refused plan left nothing behind


async def test_a_planned_message_is_claimed_by_one_sender(tmp_path):
    path = tmp_path / "bot.sqlite3"
    async with open_db(path) as one, open_db(path) as two:
        chat = await _chat_with_pending_items(one, tmp_path)
        items = await outbox.pending_items(one, chat)
        (send_id,) = await outbox.plan_sends(one, chat, [outbox.PlannedMessage(
            0, "digest", tuple(i.outbox_id for i in items), tuple(i.stored.id for i in items))], NOW)
        assert await outbox.claim_send(one, send_id) is True
        assert await outbox.claim_send(two, send_id) is False
        await outbox.mark_sent(one, send_id, 1234, NOW)
        assert await outbox.claim_send(two, send_id) is False
        # A crash leaves a claimed message behind: the next runner plans it again at start.
        (again,) = await outbox.plan_sends(one, chat, [outbox.PlannedMessage(0, "more", (), ())], NOW)
        assert await outbox.claim_send(one, again) is True
        assert await outbox.recover_in_flight(two) == 1
        assert await outbox.claim_send(two, again) is True
