"""End-to-end harness: the local sandbox + the real bot (BotRuntime) + a real SQLite file.

    async with BotHarness.running(tmp_path, admins=(42,)) as h:
        ann = h.sb.add_user("Ann", language_code="zh-hans")
        chat = h.sb.private_chat(ann)
        replies = await h.say(chat, ann, "/start")

Sends are unpaced unless a test is about pacing: Telegram's limits (bot/delivery/pacing.py) would make
every reply to one chat wait about a second, which no test asserts on. Tests of flood limits, 429s and
retry_after pass `limiter=SendLimiter()`; a sandbox that enforces flood limits (`sandbox_options=
{"limits": ...}`) gets the real pacing by default, as the bot would meet Telegram.
"""
from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from pathlib import Path

from bot.app.config import load_settings
from bot.app.runtime import BotRuntime
from bot.delivery.pacing import Limits, SendLimiter
from sandbox import Sandbox
from storage.db import Database, open_db


class BotHarness:
    def __init__(self, sb: Sandbox, runtime: BotRuntime, db: Database) -> None:
        self.sb, self.runtime, self.db = sb, runtime, db

    @classmethod
    @asynccontextmanager
    async def running(cls, tmp_path: Path, *, admins: tuple[int, ...] = (), env: dict[str, str] | None = None,
                      clock: Callable[[], datetime] | None = None, jobs: bool = False,
                      sandbox_options: dict | None = None,
                      limiter: SendLimiter | None = None, webhook: bool = False) -> AsyncIterator[BotHarness]:
        """`webhook=True`: the bot takes updates from its own webhook server (the sandbox POSTs them)."""
        if limiter is None:
            limiter = SendLimiter() if (sandbox_options or {}).get("limits") else unpaced()
        async with Sandbox.running(port=0, **(sandbox_options or {})) as sb:
            settings = load_settings({
                "TELEGRAM_BOT_TOKEN": sb.token, "TELEGRAM_API_URL": sb.base_url,
                "NEWSBOT_ADMIN_IDS": ",".join(map(str, admins)), "NEWSBOT_DB": str(tmp_path / "bot.sqlite3"),
                **(webhook_env() if webhook else {}),
                **(env or {}),
            }, dotenv=None)
            async with open_db(settings.db_path) as db:
                runtime = BotRuntime(settings, db=db, clock=clock, jobs=jobs, limiter=limiter)
                await runtime.start(polling_timeout=1)
                try:
                    yield cls(sb, runtime, db)
                finally:
                    await runtime.stop()

    async def say(self, chat, user, text: str, *, expect: int = 1, thread_id: int | None = None,
                  timeout: float = 10.0) -> list[dict]:
        """Send `text` as `user` and return the `expect` new messages the chat received."""
        before = len(self.sb.messages(chat))
        self.sb.send_text(chat, user, text, thread_id=thread_id)
        got = await self.sb.wait_for(chat, before + expect, timeout=timeout)
        return got[before:]

    async def press(self, chat, user, message_id: int, data: str, timeout: float = 10.0, forge: bool = False) -> dict:
        """Press an inline button and wait until the bot answered the callback query."""
        answered = len(self.sb.callback_answers)
        q = self.sb.press(chat, user, message_id, data, forge=forge)
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.sb.callback_answers) <= answered:
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"callback {data!r} not answered")
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.05)  # let the follow-up edit land
        return q

    async def quiet(self, chat, seconds: float = 0.3) -> list[dict]:
        """Wait and return whatever the chat received meanwhile (to assert that nothing was sent)."""
        before = len(self.sb.messages(chat))
        await asyncio.sleep(seconds)
        return self.sb.messages(chat)[before:]


def webhook_env(secret: str = "harness-webhook-secret-0123") -> dict[str, str]:
    """Settings for webhook mode on a free loopback port (the sandbox only posts to loopback)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return {"NEWSBOT_WEBHOOK_URL": f"http://127.0.0.1:{port}/newsbot/webhook",
            "NEWSBOT_WEBHOOK_LISTEN": f"127.0.0.1:{port}", "NEWSBOT_WEBHOOK_SECRET": secret}


def unpaced() -> SendLimiter:
    """No rate to wait for; a 429's retry_after still holds every send, as with real pacing."""
    return SendLimiter(Limits.off())


def buttons(message: dict) -> list[tuple[str, str]]:
    """(text, callback_data) of every inline button of a received message."""
    markup = message.get("reply_markup") or {}
    return [(b["text"], b.get("callback_data", "")) for row in markup.get("inline_keyboard", []) for b in row]


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class FakeClock:
    """An injectable wall clock for schedules, digests and quiet hours (the event loop keeps real time)."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def set(self, when: datetime) -> None:
        self.now = when
