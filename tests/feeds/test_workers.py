"""Parsing and cleaning of fetched items off the event loop (bot/feeds/workers.py, bot/feeds/tasks.py).

A task over its time budget is rejected "took too long" and its worker replaced; a poll of a hostile feed
leaves the event loop free (bench/stall.py measures the longest stall); credentials never reach a chat.
"""
from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest

from bench.stall import Probe, hostile_feed
from bot.feeds import tasks as tasks_mod
from bot.feeds.manage import get_feed, list_feeds
from bot.feeds.poller import Limits
from bot.feeds.workers import TookTooLong, WorkerFailed, WorkerPool
from storage.feeds import record_failure
from tests.feeds.test_rss import T0, add_url, db, poll, server  # noqa: F401 -- fixtures


@pytest.fixture
async def pool():
    p = WorkerPool(2)
    try:
        yield p
    finally:
        p.close()


async def test_a_task_over_its_budget_is_killed_and_the_worker_replaced(pool):
    assert await pool.run(30, sum, [1, 2, 3]) == 6
    started = time.monotonic()
    with pytest.raises(TookTooLong, match="took too long"):
        await pool.run(0.5, time.sleep, 30)
    assert time.monotonic() - started < 5 and pool.killed == 1
    assert await pool.run(30, sum, [4, 5]) == 9  # a fresh worker took its place
    with pytest.raises(WorkerFailed, match="ZeroDivisionError"):
        await pool.run(30, divmod, 1, 0)
    assert await pool.run(30, max, [1, 7]) == 7  # an exception in a task does not cost the worker


async def test_many_tasks_share_a_small_pool(pool):
    got = await asyncio.gather(*(pool.run(30, pow, i, 2) for i in range(40)))
    assert got == [i * i for i in range(40)]


async def test_an_item_over_its_budget_is_rejected_with_a_reason_once(db, server, monkeypatch):  # noqa: F811
    monkeypatch.setattr(tasks_mod, "ITEM_BUDGET", 0.0)  # nothing can be built in no time
    feed = await add_url(db, server.url("/rss"))
    r = await poll(db, feed.id)
    assert r.error is None and r.new == 0 and len(r.rejected) == 3
    assert all(why.startswith("took too long") for _, why in r.rejected)
    again = await poll(db, feed.id, T0 + timedelta(minutes=5))  # remembered: not tried (or reported) again
    assert again.error is None and again.rejected == [] and again.new == 0


async def test_the_event_loop_keeps_running_while_a_hostile_feed_is_polled(db, server):  # noqa: F811
    server.docs["hostile"] = hostile_feed(32 * 1024, 256 * 1024)
    feed = await add_url(db, server.url("/hostile"))
    probe = Probe()
    probe.start()
    r = await poll(db, feed.id)
    await probe.stop()
    assert r.error is None and r.items == 10 and r.new + r.same_story + r.duplicate + len(r.rejected) == 10
    assert probe.samples > 10
    assert probe.longest < 2.0, probe.longest  # generous under a loaded test run; bench.stall measures it


async def test_caps_are_recorded_for_the_feed_list(db, server):  # noqa: F811
    from tests.feeds.test_rss import many_items

    server.docs["many"] = many_items(30)
    feed = await add_url(db, server.url("/many"))
    r = await poll(db, feed.id, limits=Limits(items_per_fetch=10, new_per_day=6))
    assert (r.over_cap, r.deferred, r.new) == (20, 4, 6)
    info = await get_feed(db, feed.id)
    assert info.capped_at == T0 and (info.capped_skipped, info.capped_deferred) == (20, 4)
    assert info.capped_since(T0 - timedelta(days=1)) and not info.capped_since(T0 + timedelta(seconds=1))


async def test_credentials_in_an_old_feed_row_never_reach_errors_or_notices(db):  # noqa: F811
    """Feeds with credentials are refused now; a row from before (or written by hand) is polled without
    showing them: the stored error, the notice and the listing carry the URL without user name and password."""
    from bot.core.feed_items import redact_url
    from bot.feeds.poller import poll_feed

    await db.write("INSERT INTO feeds (name, kind, location, created_at) VALUES "
                   "('old', 'rss', 'https://ann:s3cret@feeds.example.com/x.xml', 0)")
    (feed,) = await list_feeds(db)
    for k in range(5):
        r = await poll_feed(db, await get_feed(db, feed.id), now=T0 + timedelta(hours=k))
        assert r.error is not None and "s3cret" not in str(r.error)
    assert r.notice is not None and "s3cret" not in r.notice.location and "ann" not in r.notice.location
    await record_failure(db, feed.id, now=T0, error="GET https://ann:s3cret@feeds.example.com/x.xml failed",
                         delay_for=lambda n: 60, notify_after=99)
    info = await get_feed(db, feed.id)
    assert "s3cret" not in redact_url(info.last_error) and "s3cret" not in redact_url(info.location)
