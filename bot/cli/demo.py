"""The offline demo: the local Bot API sandbox, the real bot against it, the sample posts, and a chat.

`run_demo` plays a short scripted conversation and prints both sides like a transcript;
`run_chat` lets a person type the user's side (press a button by typing its number).
"""
from __future__ import annotations

import asyncio
import html
import re
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TextIO

from bot.app.runtime import BotRuntime
from bot.core.script import TW, to_script
from bot.core.settings import Settings
from bot.feeds.ingest import ingest_paths, iter_post_files
from sandbox import Sandbox
from storage.db import open_db
from storage.search import matching_ids

_TAG = re.compile(r"<[^>]+>")


def as_terminal_text(message: dict) -> str:
    """A received message as plain text: HTML tags dropped, entities unescaped."""
    text = message.get("text") or message.get("caption") or ""
    if message.get("method") == "sendPhoto":
        text = "[photo] " + text
    return html.unescape(_TAG.sub("", text)) if message.get("parse_mode") == "HTML" else text


def button_rows(message: dict) -> list[tuple[str, str]]:
    markup = message.get("reply_markup") or {}
    return [(b["text"], b.get("callback_data", "")) for row in markup.get("inline_keyboard", []) for b in row]


class Transcript:
    def __init__(self, out: TextIO) -> None:
        self.out = out

    def user(self, name: str, text: str) -> None:
        print(f"\n👤 {name}: {text}", file=self.out)

    def bot(self, message: dict) -> None:
        body = as_terminal_text(message)
        print("🤖 bot: " + body.replace("\n", "\n         "), file=self.out)
        for n, (label, _) in enumerate(button_rows(message), start=1):
            print(f"         [{n}] {label}", file=self.out)

    def note(self, text: str) -> None:
        print(f"\n— {text}", file=self.out)

    def channel(self, title: str, message: dict) -> None:
        body = as_terminal_text(message)
        print(f"📢 {title}: " + body.replace("\n", "\n         "), file=self.out)

    def inline(self, answer: dict) -> None:
        for n, r in enumerate(answer["results"], start=1):
            line = f"{r.get('title', '')} — {(r.get('description') or '').splitlines()[0] if r.get('description') else ''}"
            print(f"         ({n}) {line}", file=self.out)
        if answer.get("next_offset"):
            print(f"         … more (next_offset {answer['next_offset']})", file=self.out)


@asynccontextmanager
async def offline_bot(settings: Settings, workdir: Path) -> AsyncIterator[tuple[Sandbox, BotRuntime]]:
    async with Sandbox.running(port=0) as sb:
        assert sb.base_url is not None  # set once the server is listening
        local = replace(settings, token=sb.token, api_url=sb.base_url, db_path=workdir / "demo.sqlite3",
                        feeds=())
        async with open_db(local.db_path) as db:
            runtime = BotRuntime(local, db=db, jobs=False)
            await runtime.start(polling_timeout=1)
            try:
                yield sb, runtime
            finally:
                await runtime.stop()


async def _exchange(sb: Sandbox, chat, user, text: str, t: Transcript, name: str, wait: float = 5.0) -> list[dict]:
    t.user(name, text)
    before = len(sb.messages(chat))
    sb.send_text(chat, user, text)
    try:
        await sb.wait_for(chat, before + 1, timeout=wait)
    except TimeoutError:
        pass
    await asyncio.sleep(0.2)
    new = sb.messages(chat)[before:]
    for m in new:
        t.bot(m)
    return new


async def run_demo(settings: Settings, posts: Path, out: TextIO = sys.stdout) -> int:
    t = Transcript(out)
    files = [p for p, _ in iter_post_files([posts])]
    if not files:
        print(f"no posts under {posts}", file=out)
        return 1
    # Hold back a few posts of the busiest folder: they arrive "later" and are pushed to the subscriber.
    by_dir: dict[Path, list[Path]] = {}
    for p in files:
        by_dir.setdefault(p.parent, []).append(p)
    busiest = max(by_dir, key=lambda d: (len(by_dir[d]), str(d)))
    later = by_dir[busiest][-min(3, max(1, len(by_dir[busiest]) - 1)):]
    first = [p for p in files if p not in later]
    subscribe_to = busiest.parent.name if busiest.parent != posts and busiest != posts else busiest.name
    with tempfile.TemporaryDirectory(prefix="newsbot-demo-") as tmp:
        async with offline_bot(settings, Path(tmp)) as (sb, runtime):
            report = await ingest_paths(runtime.db, first, default_tz=settings.timezone)
            t.note(f"local Bot API sandbox at {sb.base_url}; ingested {len(first)} posts from {posts}: "
                   f"{report.summary_line()}")
            ann = sb.add_user("Ann", username="ann", language_code="zh-hans")
            chat = sb.private_chat(ann)
            await _exchange(sb, chat, ann, "/start", t, "Ann")
            await _exchange(sb, chat, ann, "/categories", t, "Ann")
            await _exchange(sb, chat, ann, f"/subscribe {subscribe_to}", t, "Ann")
            await _exchange(sb, chat, ann, "/settings length 2", t, "Ann")
            await _exchange(sb, chat, ann, "/settings", t, "Ann")
            t.note("Ann adds the bot to her channel “示例频道” as an administrator who may post")
            before = len(sb.messages(chat))
            channel = sb.channel("示例频道", username="demo_news", owner=ann)
            await sb.wait_for(chat, before + 1, timeout=5)
            for m in sb.messages(chat)[before:]:
                t.bot(m)
            await _exchange(sb, chat, ann, f"/subscribe @demo_news {subscribe_to}", t, "Ann")
            # A Traditional-script reader (Taiwan) of the same category, typing its name her way.
            mei = sb.add_user("Mei", username="mei", language_code="zh-tw")
            mei_chat = sb.private_chat(mei)
            await _exchange(sb, mei_chat, mei, f"/subscribe {to_script(subscribe_to, TW)}", t, "Mei")
            mei_before = len(sb.messages(mei_chat))
            later_report = await ingest_paths(runtime.db, later, default_tz=settings.timezone)
            t.note(f"{later_report.new + later_report.same_story} new posts arrive; the dispatcher runs")
            before = len(sb.messages(chat))
            await runtime.delivery.dispatch()
            await runtime.delivery.drain(timeout=30)
            for m in sb.messages(chat)[before:]:
                t.bot(m)
            for m in sb.messages(channel):
                t.channel("示例频道", m)
            t.note("the same digest, as Mei reads it")
            for m in sb.messages(mei_chat)[mei_before:]:
                t.bot(m)
            query = await _demo_query(runtime)
            await _exchange(sb, chat, ann, f"/search {query}", t, "Ann")
            await _exchange(sb, mei_chat, mei, f"/search {to_script(query, TW)}", t, "Mei")
            bob = sb.add_user("Bob", username="bob", language_code="en")
            await _exchange(sb, sb.private_chat(bob), bob, "/latest 2", t, "Bob")
            friends = sb.group("Friends", members=[bob])
            t.user("Bob", f"@{sb.bot.username} {query}   (inline, in the group “Friends”)")
            asked = sb.inline_query(bob, query, chat=friends)
            answer = await sb.wait_inline_answer(asked["id"])
            t.inline(answer)
            if answer["results"]:
                t.note("Bob picks the first result; it is posted in “Friends” via the bot")
                t.bot(sb.choose_inline_result(asked["id"], answer["results"][0]["id"]))
            t.note("demo finished; run `newsbot chat` to type commands yourself")
    return 0


async def _demo_query(runtime: BotRuntime) -> str:
    """A two-character Chinese word the sample posts contain (the demo shows short CJK search working)."""
    assert runtime.db is not None
    for word in ("海关", "知网", "芯片", "疫情", "Apple"):
        found = await matching_ids(runtime.db, word, now=datetime.now(timezone.utc))
        if isinstance(found, list) and found:
            return word
    return "news"


async def run_chat(settings: Settings, posts: Path, stdin: TextIO = sys.stdin, out: TextIO = sys.stdout) -> int:
    """Interactive: type commands as a user; a number presses that button of the bot's last message."""
    t = Transcript(out)
    with tempfile.TemporaryDirectory(prefix="newsbot-chat-") as tmp:
        async with offline_bot(settings, Path(tmp)) as (sb, runtime):
            report = await ingest_paths(runtime.db, [posts], default_tz=settings.timezone)
            t.note(f"ingested {posts}: {report.summary_line()}. Type /help; a number presses a button; "
                   "Ctrl-D quits.")
            you = sb.add_user("You", username="you", language_code="zh-hans")
            chat = sb.private_chat(you)
            last: dict | None = None
            loop = asyncio.get_running_loop()
            while True:
                print("> ", end="", file=out, flush=True)
                line = await loop.run_in_executor(None, stdin.readline)
                if not line:
                    break
                line = line.strip()
                if not line:
                    continue
                if line.isdigit() and last is not None:
                    rows = button_rows(last)
                    n = int(line)
                    if 1 <= n <= len(rows):
                        answered = len(sb.callback_answers)
                        sb.press(chat, you, last["message_id"], rows[n - 1][1])
                        for _ in range(100):
                            if len(sb.callback_answers) > answered:
                                break
                            await asyncio.sleep(0.05)
                        await asyncio.sleep(0.2)
                        last = next(m for m in sb.messages(chat) if m["message_id"] == last["message_id"])
                        note = sb.callback_answers[-1].get("text") if sb.callback_answers else None
                        if note:
                            t.note(note)
                        t.bot(last)
                        continue
                new = await _exchange(sb, chat, you, line, t, "You")
                if new:
                    last = new[-1]
    return 0
