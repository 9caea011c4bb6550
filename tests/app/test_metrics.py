"""bot/app/metrics.py: /healthz and /metrics of a running bot (sandbox), scraped and parsed; 503 with a
reason when the dispatch job is stuck, the database is gone or Telegram is out of reach."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.app.metrics import Health
from bot.core.settings import SettingsError, settings_from
from tests.support.harness import BotHarness
from tests.support.posts import write_post

METRICS_ENV = {"NEWSBOT_METRICS_LISTEN": "127.0.0.1:0"}


async def get(h: BotHarness, path: str) -> tuple[int, str]:
    port = h.runtime._ops_server.port
    async with aiohttp.ClientSession() as s, s.get(f"http://127.0.0.1:{port}{path}") as r:
        return r.status, await r.text()


def samples(text: str) -> dict[tuple[str, tuple], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


async def until(check, timeout: float = 10.0):
    for _ in range(int(timeout / 0.05)):
        got = await check()
        if got:
            return got
        await asyncio.sleep(0.05)
    raise AssertionError("condition not reached")


async def test_metrics_are_scraped_and_parsed_and_match_stats(tmp_path):
    feed = tmp_path / "feed"
    write_post(feed, "指标测试：港口吞吐量创新高")
    env = {**METRICS_ENV, "NEWSBOT_FEEDS": str(feed), "NEWSBOT_POLL_SECONDS": "1"}
    async with BotHarness.running(tmp_path, env=env, jobs=True, admins=(42,)) as h:
        u = h.sb.add_user("U", language_code="zh")
        chat = h.sb.private_chat(u)

        async def ingested():
            _, text = await get(h, "/metrics")
            return samples(text).get(("newsbot_articles_ingested_total", (("feed", "1"), ("outcome", "new")))) == 1

        await until(ingested)
        await h.say(chat, u, "/search 港口")
        status, text = await get(h, "/metrics")
        assert status == 200
        got = samples(text)
        assert got[("newsbot_search_seconds_count", ())] == 1
        assert got[("newsbot_database_bytes", ())] > 0
        assert got[("newsbot_articles", ())] == 1
        assert got[("newsbot_feed_failures", (("feed", "1"),))] == 0
        for name in ("newsbot_messages_sent_total", "newsbot_messages_failed_total", "newsbot_messages_retried_total",
                     "newsbot_telegram_429_total", "newsbot_telegram_held_seconds_total", "newsbot_outbox_depth",
                     "newsbot_outbox_oldest_due_age_seconds"):
            assert (name, ()) in got, name
        # /stats reads the same numbers.
        admin = h.sb.add_user("Admin", user_id=42, language_code="en")
        (reply,) = await h.say(h.sb.private_chat(admin), admin, "/stats")
        assert "1" in reply["text"]
        status, body = await get(h, "/healthz")
        assert (status, body) == (200, "ok\n")


async def test_healthz_turns_503_while_the_dispatch_is_stuck(tmp_path):
    now = [datetime(2025, 3, 1, tzinfo=timezone.utc)]
    release = asyncio.Event()
    env = {**METRICS_ENV, "NEWSBOT_DISPATCH_SECONDS": "1"}
    async with BotHarness.running(tmp_path, env=env, jobs=True, clock=lambda: now[0]) as h:
        await until(lambda: _ok(h))
        calls = []

        async def stuck(**_kwargs):
            calls.append(1)
            await release.wait()

        h.runtime.delivery.dispatch = stuck
        await until(lambda: _true(bool(calls)))
        now[0] += timedelta(minutes=10)          # the round is still running ten minutes later
        status, body = await until(lambda: _status(h, 503))
        assert "dispatch: a round has been running for 600 s" in body
        release.set()                            # it finishes: healthy again
        await until(lambda: _ok(h))


async def _true(value: bool) -> bool:
    return value


async def _ok(h: BotHarness) -> bool:
    status, _ = await get(h, "/healthz")
    return status == 200


async def _status(h: BotHarness, want: int):
    status, body = await get(h, "/healthz")
    return (status, body) if status == want else None


class FakeDb:
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail

    async def fetchone(self, sql: str):
        if self.fail:
            raise RuntimeError("closed")
        return (1,)


async def test_health_reasons_for_the_database_and_telegram():
    now = [datetime(2025, 3, 1, tzinfo=timezone.utc)]
    health = Health(lambda: now[0], telegram_window=300, dispatch_stuck_after=120, expect_dispatch=False)
    health.telegram_reached()
    assert await health.problems(FakeDb()) == []
    assert await health.problems(FakeDb(fail=True)) == ["database: no answer (RuntimeError)"]
    now[0] += timedelta(seconds=301)
    assert await health.problems(FakeDb()) == ["telegram: Bot API not reached for 301 s"]
    health.expect_dispatch = True
    health.telegram_reached()
    assert await health.problems(FakeDb()) == ["dispatch: no round finished for 301 s"]
    health.dispatch_started()
    health.dispatch_finished()
    assert await health.problems(FakeDb()) == []


def test_metrics_listen_is_loopback_only():
    assert settings_from({"NEWSBOT_METRICS_LISTEN": "127.0.0.1:9464"}).metrics_listen == ("127.0.0.1", 9464)
    assert settings_from({"NEWSBOT_METRICS_LISTEN": "[::1]:9464"}).metrics_listen == ("::1", 9464)
    assert settings_from({}).metrics_listen is None
    for bad in ("0.0.0.0:9464", "192.168.1.5:9464", "example.com:80", "9464", "127.0.0.1:http"):
        with pytest.raises(SettingsError, match="NEWSBOT_METRICS_LISTEN"):
            settings_from({"NEWSBOT_METRICS_LISTEN": bad})
    s = settings_from({"NEWSBOT_RETENTION_DAYS": "0", "NEWSBOT_BACKUP_DIR": "/var/backups/newsbot",
                       "NEWSBOT_BACKUP_KEEP": "3"})
    assert (s.retention_days, str(s.backup_dir), s.backup_keep) == (0, "/var/backups/newsbot", 3)
    assert settings_from({}).retention_days == 180
    with pytest.raises(SettingsError, match="NEWSBOT_RETENTION_DAYS"):
        settings_from({"NEWSBOT_RETENTION_DAYS": "-1"})


def test_poll_results_count_by_feed_and_outcome():
    from bot.app.metrics import Metrics, Sources
    from bot.delivery.engine import SendStats
    from bot.delivery.pacing import SendLimiter

    m = Metrics(Sources(None, ":memory:", SendStats(), SendLimiter(), lambda: None))
    m.record_poll([SimpleNamespace(feed_id=3, new=2, same_story=1, updated=0, known=5, duplicate=0,
                                   rejected=[("a", "empty")], error=None),
                   SimpleNamespace(feed_id=4, new=0, same_story=0, updated=0, known=0, duplicate=0, rejected=[],
                                   error="timeout")])
    reg = m.registry
    assert reg.get_sample_value("newsbot_articles_ingested_total", {"feed": "3", "outcome": "new"}) == 2
    assert reg.get_sample_value("newsbot_articles_ingested_total", {"feed": "3", "outcome": "rejected"}) == 1
    assert reg.get_sample_value("newsbot_feed_fetch_errors_total", {"feed": "4"}) == 1
