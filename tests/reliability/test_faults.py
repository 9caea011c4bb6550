"""Things breaking while the bot works: the Bot API failing at random, feeds vanishing or hanging, a full disk.

- A fan-out while the sandbox answers 429 storms, 5xx, slow answers past the send timeout, blocked,
  kicked and vanished chats and group migrations, all seeded: every chat still reachable gets every
  story (migrated groups under their new id), the unreachable ones become inactive, no 429 is ignored.
- The feed poller facing a folder renamed away between polls, files vanishing in the middle of a scan,
  and an HTTP feed that never answers (or drips bytes): each poll ends in bounded time with an error
  value, and the next good poll picks up where it left off without duplicates.
- A database that refuses writes (full disk via PRAGMA max_page_count, or read-only via query_only):
  the bot logs it, its jobs survive, it keeps answering, and once writes work again it delivers
  everything that arrived meanwhile.
"""
from __future__ import annotations

import asyncio
import logging
import random
import re
import shutil
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from aiohttp import web

from bot.delivery.pacing import SendLimiter
from bot.feeds import folder as folder_mod
from bot.feeds.egress import EgressPolicy
from bot.feeds.ingest import ingest_paths
from bot.feeds.manage import add_feed, get_feed
from bot.feeds.poller import poll_due_feeds, poll_feed
from storage.chats import get_chat, list_subscriptions, register_chat, subscribe
from storage.outbox import outbox_counts
from tests.support.harness import BotHarness
from tests.support.posts import write_post

UTC = timezone.utc
CATEGORY = ("新闻",)


class OffsetClock:
    """Real time plus an offset the test can move forward (to make backed-off retries due)."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


def read_ids(messages) -> set[int]:
    return {int(x) for m in messages for x in re.findall(r"/read_(\d+)", m.get("text") or m.get("caption") or "")}


async def deliver_everything(h: BotHarness, clock: OffsetClock, rounds: int = 20) -> None:
    """Dispatch and drain; when messages wait in backoff, move the clock past it and drain again."""
    await h.runtime.delivery.dispatch()
    for _ in range(rounds):
        await h.runtime.delivery.drain(timeout=120)
        row = await h.db.fetchone("SELECT MAX(next_attempt_at) FROM sends WHERE state IN ('planned', 'in_flight')")
        if row[0] is None:
            return
        clock.offset += timedelta(seconds=max(1, row[0] - int(clock().timestamp()) + 1))
    raise AssertionError("messages still waiting after repeated backoff")


class SendProbe:
    """Watches the delivery engine's pacing and its Bot: when each send was cleared by the limiter and
    when each 429 reached the bot.

    The sandbox records a violation for any request that reaches it inside a retry_after window, even
    one the bot had already cleared to go before the 429 reached it (up to 16 sends are in flight at
    once). The probe tells the two apart: a send cleared *after* the bot had been told to wait ignored
    Telegram; one already on its way did not.
    """

    def __init__(self, engine) -> None:
        self.bot, self.limiter = engine.bot, engine.limiter
        self.cleared: list[tuple[float, int]] = []    # (monotonic time, chat id) a send got its slot
        self.told: list[float] = []                   # monotonic times a 429 reached the bot
        acquire = self.limiter.acquire

        async def recording_acquire(chat_id: int, chat_type: str, *, bulk: bool = False) -> None:
            await acquire(chat_id, chat_type, bulk=bulk)
            self.cleared.append((time.monotonic(), int(chat_id)))

        self.limiter.acquire = recording_acquire
        engine.bot = self

    async def _send(self, method: str, chat_id, *args, **kwargs):
        from telegram.error import RetryAfter

        try:
            return await getattr(self.bot, method)(chat_id, *args, **kwargs)
        except RetryAfter:
            self.told.append(time.monotonic())
            raise

    async def send_message(self, chat_id, *args, **kwargs):
        return await self._send("send_message", chat_id, *args, **kwargs)

    async def send_photo(self, chat_id, *args, **kwargs):
        return await self._send("send_photo", chat_id, *args, **kwargs)

    def ignored(self, violations, retry_after: float) -> list:
        """Violations by sends the limiter cleared after the bot had been told to wait."""
        out = []
        for v in violations:
            cleared = [t for t, c in self.cleared if c == v.chat_id and t <= v.at + 0.001]
            if cleared and any(told <= cleared[-1] and v.at - told < retry_after for told in self.told):
                out.append(v)
        return out


async def add_chat(h: BotHarness, chat, kind: str, lang: str = "zh") -> None:
    await register_chat(h.db, chat_id=chat.id, type=kind, title=chat.title or "", is_forum=False,
                        client_language=lang, timezone="Asia/Shanghai", now=datetime.now(UTC))
    await subscribe(h.db, chat.id, 0, CATEGORY, datetime.now(UTC))


async def new_stories(h: BotHarness, folder: Path, label: str, n: int) -> set[int]:
    for k in range(n):
        write_post(folder, f"{label}：故障期间也要送达的第{k}条新闻", (*CATEGORY, f"源{k}", "要闻"))
    report = await ingest_paths(h.db, [folder])
    assert report.new == n
    return set(report.new_ids)


@pytest.mark.slow
@pytest.mark.timeout(180)
@pytest.mark.parametrize("seed", [11, 12])
async def test_fanout_survives_random_api_faults(tmp_path, seed):
    rng = random.Random(seed)
    clock = OffsetClock()
    async with BotHarness.running(tmp_path, clock=clock, limiter=SendLimiter()) as h:  # Telegram's pacing
        h.runtime.delivery.send_timeout = 0.3
        probe = SendProbe(h.runtime.delivery)
        owner = h.sb.add_user("Owner", language_code="en")
        privates = [h.sb.private_chat(h.sb.add_user(f"P{i}", language_code="zh")) for i in range(48)]
        groups = [h.sb.group(f"G{i}", members=[owner], admins=[owner], owner=owner) for i in range(8)]
        for c in privates:
            await add_chat(h, c, "private")
        for g in groups:
            await add_chat(h, g, "group", "en")

        # Which chats meet which fate is seeded; so is every random failure below.
        blocked = rng.sample(privates, 4)
        vanished = rng.sample([c for c in privates if c not in blocked], 3)
        deactivated = rng.choice([c for c in privates if c not in blocked + vanished])
        kicked = rng.choice(groups)
        migrate_first, migrate_later = rng.sample([g for g in groups if g is not kicked], 2)
        gone = {c.id for c in (*blocked, *vanished, deactivated, kicked)}
        for c in blocked:
            h.sb.fault("blocked", chat=c.id, methods=["sendMessage"], times=None)
        for c in vanished:
            h.sb.fault("chat_not_found", chat=c.id, methods=["sendMessage"], times=None)
        h.sb.fault("deactivated", chat=deactivated.id, methods=["sendMessage"], times=None)
        h.sb.fault("kicked", chat=kicked.id, methods=["sendMessage"], times=None)
        send = ["sendMessage"]
        h.sb.fault("flood", methods=send, probability=0.04, seed=seed, retry_after=1, times=6)  # 429 storm
        h.sb.fault("server_error", methods=send, probability=0.06, seed=seed + 1, times=None)
        h.sb.fault("bad_gateway", methods=send, probability=0.04, seed=seed + 2, times=None)
        # Past the 0.3 s timeout: delivered anyway but answered late (maybe-delivered), or lost (504).
        h.sb.fault("slow", methods=send, probability=0.05, seed=seed + 3, delay=0.45, deliver=True, times=None)
        h.sb.fault("slow", methods=send, probability=0.03, seed=seed + 4, delay=0.45, deliver=False, times=None)
        migrated = {migrate_first.id: h.sb.migrate(migrate_first)}

        first = await new_stories(h, tmp_path / "round1", f"种子{seed}第一轮", 3)
        await deliver_everything(h, clock)
        migrated[migrate_later.id] = h.sb.migrate(migrate_later)  # between two fan-outs
        second = await new_stories(h, tmp_path / "round2", f"种子{seed}第二轮", 3)
        await deliver_everything(h, clock)
        stories = first | second

        for c in privates + groups:
            target = migrated.get(c.id, c)
            got = read_ids(h.sb.messages(target))
            stored = await get_chat(h.db, c.id)
            if c.id in gone:
                assert stored is not None and not stored.active and stored.inactive_reason, c.id
                assert not got, (c.id, got)
                assert len(await list_subscriptions(h.db, c.id)) == 1  # settings kept for a later /start
            elif c.id in migrated:
                assert stored is None, "the old group id should be gone"
                moved = await get_chat(h.db, target.id)
                assert moved is not None and moved.active and moved.type == "supergroup"
                before_move = read_ids(h.sb.messages(c))
                if c is migrate_first:
                    assert got == stories and not before_move, (c.id, stories - got, before_move)
                else:  # round one reached the basic group, round two its supergroup
                    assert before_move == first and got == second, (c.id, before_move, got)
            else:
                assert stored.active and got == stories, (c.id, stories - got)
        # No send was cleared to go inside a retry_after the bot had been told about; the ones already
        # on their way when a 429 was answered are bounded by what can be in flight at once.
        assert probe.ignored(h.sb.violations, retry_after=1.0) == []
        assert len(h.sb.violations) <= h.runtime.delivery.concurrency * len(probe.told), h.sb.violations
        fired = {f.kind: f.fired for f in h.sb.faults}
        counts = await outbox_counts(h.db)
        assert counts.get("pending", 0) == counts.get("planned", 0) == 0, counts
        assert counts.get("sends_planned", 0) == counts.get("sends_in_flight", 0) == 0, counts
        stats = h.runtime.delivery.stats
        # The storm really happened: every kind of trouble was met at least once.
        assert stats.rate_limited >= 1 and stats.retried >= 3, (stats, fired)
        assert stats.chats_deactivated == len(gone), (stats, fired)
        assert stats.migrated == 2


# ---------------------------------------------------------------- feeds that vanish or hang


async def article_count(db) -> int:
    return (await db.fetchone("SELECT COUNT(*) FROM articles"))[0]


async def test_folder_feed_renamed_away_and_back(db, tmp_path):
    folder = tmp_path / "posts"
    for n in range(3):
        write_post(folder, f"改名之前的第{n}篇")
    feed = (await add_feed(db, str(folder))).feed
    now = datetime.now(UTC)
    first = await poll_feed(db, feed, now=now, interval=60)
    assert first.ok and first.new == 3

    folder.rename(tmp_path / "moved")
    notices = []
    for k in range(1, 6):  # gone for five rounds: an error value each time, one notice for the admins
        rnd = await poll_due_feeds(db, now=now + timedelta(minutes=k), force=True, interval=60)
        (result,) = rnd.results
        assert result.error is not None and result.error.reason == "not_found", result.error
        assert result.failures == k
        notices += rnd.notices
    assert [n.kind for n in notices] == ["failing"]
    assert await article_count(db) == 3  # what was ingested stays

    write_post(tmp_path / "moved", "改名期间新增的一篇")
    (tmp_path / "moved").rename(folder)
    rnd = await poll_due_feeds(db, now=now + timedelta(minutes=10), force=True, interval=60)
    (back,) = rnd.results
    assert back.ok and back.new == 1 and back.files_read == 1, back  # only the new file is read
    assert [n.kind for n in rnd.notices] == ["recovered"]
    assert (await get_feed(db, feed.id)).failures == 0
    assert await article_count(db) == 4


async def test_folder_vanishing_in_the_middle_of_a_scan(db, tmp_path, monkeypatch):
    folder = tmp_path / "posts"
    sources = [write_post(folder, f"扫描途中消失的第{n}篇", ("新闻", "源", "要闻")) for n in range(6)]
    saved = {p: p.read_bytes() for p in sources}
    feed = (await add_feed(db, str(folder))).feed
    listed = folder_mod.scan_folder

    def scan_then_vanish(root):
        # The folder is deleted after the poller listed it and before the workers read the files.
        scan = listed(root)
        shutil.rmtree(folder)
        return scan

    monkeypatch.setattr(folder_mod, "scan_folder", scan_then_vanish)
    now = datetime.now(UTC)
    result = await poll_feed(db, feed, now=now, interval=60)
    monkeypatch.setattr(folder_mod, "scan_folder", listed)
    assert result.ok and result.new == 0, result
    assert len(result.rejected) == 6 and all("unreadable" in reason for _, reason in result.rejected), result

    gone = await poll_feed(db, await get_feed(db, feed.id), now=now + timedelta(minutes=1), interval=60)
    assert gone.error is not None and gone.error.reason == "not_found"

    for path, data in saved.items():  # the folder comes back with the same files
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    again = await poll_feed(db, await get_feed(db, feed.id), now=now + timedelta(minutes=2), interval=60)
    assert again.ok and again.new == 6, again  # unreadable files were not remembered: all read now
    assert await article_count(db) == 6


@pytest.fixture
async def stuck_server():
    """An HTTP server whose /hang never answers and whose /drip sends a byte every 0.1 s for ever."""
    async def hang(request):
        await asyncio.sleep(3600)
        return web.Response(text="never")

    async def drip(request):
        resp = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        await resp.prepare(request)
        await resp.write(b'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title>')
        while True:
            await asyncio.sleep(0.1)
            await resp.write(b" ")

    app = web.Application()
    app.router.add_get("/hang", hang)
    app.router.add_get("/drip", drip)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


@pytest.mark.parametrize("path", ["/hang", "/drip"])
async def test_feed_server_that_never_finishes_answering(db, tmp_path, stuck_server, path):
    folder = tmp_path / "posts"
    write_post(folder, "挂起的源不该拖住别的源")
    local = EgressPolicy.allowing("127.0.0.1/32")  # the stuck server is on loopback: allowed explicitly
    stuck = (await add_feed(db, stuck_server + path, validate=False, egress=local)).feed
    await add_feed(db, str(folder))
    started = time.monotonic()
    rnd = await poll_due_feeds(db, now=datetime.now(UTC), force=True, http_timeout=0.5, egress=local)
    elapsed = time.monotonic() - started
    by_id = {r.feed_id: r for r in rnd.results}
    assert by_id[stuck.id].error is not None and by_id[stuck.id].error.reason == "timeout"
    assert elapsed < 3.0, elapsed
    assert [r.new for r in rnd.results if r.feed_id != stuck.id] == [1]  # the folder feed went on
    assert (await get_feed(db, stuck.id)).failures == 1


# ---------------------------------------------------------------- a database that refuses writes


@pytest.mark.timeout(90)
@pytest.mark.parametrize("how", ["disk_full", "read_only"])
async def test_database_refusing_writes_is_reported_survived_and_recovered(tmp_path, caplog, how):
    caplog.set_level(logging.WARNING)
    folder = tmp_path / "feed"
    write_post(folder, "写入故障之前的种子文章")
    env = {"NEWSBOT_FEEDS": str(folder), "NEWSBOT_POLL_SECONDS": "1", "NEWSBOT_DISPATCH_SECONDS": "1"}
    async with BotHarness.running(tmp_path, env=env, jobs=True) as h:
        ann = h.sb.add_user("Ann", language_code="en")
        chat = h.sb.private_chat(ann)
        await h.say(chat, ann, "/start")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 15
        while await article_count(h.db) == 0:  # the bot's own poll ingests the seed post
            assert loop.time() < deadline, "the poll job never ingested the folder"
            await asyncio.sleep(0.1)
        (reply,) = await h.say(chat, ann, "/subscribe 新闻")
        assert "Subscribed" in reply["text"]
        others = [h.sb.private_chat(h.sb.add_user(f"O{i}", language_code="zh")) for i in range(10)]
        for c in others:
            await add_chat(h, c, "private")
        base = {c.id: len(h.sb.messages(c)) for c in [chat, *others]}

        if how == "disk_full":
            pages = (await h.db.fetchone("PRAGMA page_count"))[0]
            await h.db.conn.execute(f"PRAGMA max_page_count = {pages}")
        else:
            await h.db.conn.execute("PRAGMA query_only = 1")
        caplog.clear()
        for n in range(3):
            write_post(folder, f"写入故障期间到达的第{n}篇",
                       paragraphs=tuple(f"第{n}篇第{k}段很长的正文。" * 300 for k in range(4)))  # needs new pages
        await asyncio.sleep(3.5)  # several poll and dispatch rounds fail meanwhile

        errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert errors, "a database refusing writes must be logged"
        reported = [r for r in errors if ("poll" in r.getMessage() or "dispatch" in r.getMessage()) and r.exc_info
                    and ("full" in str(r.exc_info[1]) or "readonly" in str(r.exc_info[1]))]
        assert reported, [(r.getMessage(), r.exc_info and r.exc_info[1]) for r in errors]
        (answer,) = await h.say(chat, ann, "/help")
        assert "/subscribe" in answer["text"] and "went wrong" not in answer["text"]
        assert {j.name for j in h.runtime.app.job_queue.jobs()} >= {"poll", "dispatch"}
        assert not any(read_ids(h.sb.messages(c)[base[c.id]:]) for c in [chat, *others])  # nothing half-done

        if how == "disk_full":
            await h.db.conn.execute("PRAGMA max_page_count = 1073741823")
        else:
            await h.db.conn.execute("PRAGMA query_only = 0")
        deadline = loop.time() + 30
        while not all(len(read_ids(h.sb.messages(c)[base[c.id]:])) == 3 for c in [chat, *others]):
            assert loop.time() < deadline, ("delivery did not resume after the database recovered",
                                            await article_count(h.db), await outbox_counts(h.db),
                                            [r.getMessage()[:300] for r in caplog.records][-10:])
            await asyncio.sleep(0.2)
        await h.runtime.delivery.drain(timeout=30)
        assert await article_count(h.db) == 4
        for c in [chat, *others]:
            got = h.sb.messages(c)[base[c.id]:]
            ids = [int(x) for m in got for x in re.findall(r"/read_(\d+)", m["text"])]
            assert len(ids) == len(set(ids)) == 3, (c.id, ids)  # each story once: nothing lost or doubled
