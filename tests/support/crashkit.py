"""Crash-test kit: the bot as a subprocess against an in-process sandbox, killed with SIGKILL at will.

Each crash test runs a few seeds by default; NEWSBOT_CRASH_SEEDS=N runs N seeds in every one of them:

    NEWSBOT_CRASH_SEEDS=10 .venv/bin/python -m pytest -q -n 2 tests/reliability
"""
from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

from storage.chats import register_chat, subscribe
from storage.db import open_db
from tests.support.paths import ROOT


def crash_seeds(default: int) -> list[int]:
    """Seeds 1..N for a crash test: N = NEWSBOT_CRASH_SEEDS, else the test's own default."""
    raw = os.environ.get("NEWSBOT_CRASH_SEEDS", "").strip()
    count = int(raw) if raw else default
    if count < 1:
        raise ValueError(f"NEWSBOT_CRASH_SEEDS: expected a positive number, got {raw!r}")
    return list(range(1, count + 1))


def bot_env(sb, db_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSBOT_", "TELEGRAM_"))}
    env.update({
        "TELEGRAM_BOT_TOKEN": sb.token, "TELEGRAM_API_URL": sb.base_url, "NEWSBOT_DB": str(db_path),
        "NEWSBOT_DISPATCH_SECONDS": "1", "NEWSBOT_POLL_SECONDS": "1", "NEWSBOT_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    })
    env.update(extra)
    return env


def start_bot(env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "bot", "run"], cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                            stdout=log.open("ab"), stderr=subprocess.STDOUT)


def kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)


async def make_subscribers(sb, db_path: Path, n: int, category: tuple[str, ...]) -> list[int]:
    """n private chats in the sandbox and in the database, each subscribed to `category`."""
    now = datetime.now(timezone.utc)
    ids = []
    async with open_db(db_path) as db:
        for i in range(n):
            user = sb.add_user(f"user{i}", language_code="zh")
            chat = sb.private_chat(user)
            await register_chat(db, chat_id=chat.id, type="private", title="", is_forum=False,
                                client_language="zh", timezone="Asia/Shanghai", now=now)
            await subscribe(db, chat.id, 0, category, now)
            ids.append(chat.id)
    return ids


def delivered(sb, chat_ids: list[int]) -> tuple[dict[int, Counter], int]:
    """Per chat, how often each article id arrived; and the number of messages received in all."""
    per_chat: dict[int, Counter] = {}
    messages = 0
    for cid in chat_ids:
        c: Counter = Counter()
        for m in sb.messages(cid):
            messages += 1
            for x in re.findall(r"/read_(\d+)", m.get("text") or m.get("caption") or ""):
                c[int(x)] += 1
        per_chat[cid] = c
    return per_chat, messages


async def wait_until(predicate, timeout: float, step: float = 0.2) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if predicate():
            return True
        await asyncio.sleep(step)
    return predicate()
