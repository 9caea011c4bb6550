"""Security and bad input, end to end through the sandbox: what a stranger, a noisy user or a modified
client can do to the bot — and what the bot must never say (its token).

- Every command's arguments, fuzzed (hypothesis): arbitrary Unicode, control characters, 10,000
  characters, HTML/Markdown/FTS/SQL syntax. Replies stay valid Telegram HTML under 4096 characters,
  no handler fails (the generic "went wrong" reply never appears, nothing is logged as an error).
- Authorisation: admin commands from non-admins in private chats, groups and channel posts change
  nothing; a group's subscriptions and settings can't be changed by a plain member (commands or
  buttons); forged callback data (another chat's search, a page never shown, a category that does
  not exist, garbage) is refused and changes nothing.
- Abuse: one user sending 100 commands in 10 s does not slow anyone else; the most expensive queries
  a user can type are bounded in time on a few thousand articles.
- Secrets: the token never appears in the logs (DEBUG, with handlers failing and sends refused), in
  /stats, in reprs, or in a subprocess bot's output.
"""
from __future__ import annotations

import asyncio
import logging
import random
import secrets
import statistics
import time
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bot.core.model import Article
from bot.feeds.ingest import ingest_paths, store_batch
from bot.feeds.manage import add_feed, classify_location, list_feeds
from sandbox import Chat
from sandbox.entities import parse_html
from storage.chats import get_chat, list_subscriptions
from storage.watches import list_watches
from tests.support.harness import BotHarness, buttons
from tests.support.posts import write_post

UTC = timezone.utc
ADMIN = 4242
GENERIC_ERROR = ("went wrong", "出错了")

# ---------------------------------------------------------------- helpers


class ErrorLog(logging.Handler):
    """Collects ERROR records from the bot and python-telegram-bot while a test runs."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def error_log():
    handler = ErrorLog()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)


def check_reply(m: dict) -> None:
    """A message the bot sent: valid Telegram HTML (as the sandbox's parser reads it), within limits."""
    text = m.get("text") if m.get("text") is not None else m.get("caption") or ""
    assert len(text) <= 4096, len(text)
    if m.get("parse_mode") in ("HTML", "html"):
        plain, entities = parse_html(m.get("source") or "")
        assert len(plain) <= 4096 and len(entities) <= 100
    assert not any(e in text for e in GENERIC_ERROR), text[:300]


async def seed(h: BotHarness) -> None:
    folder = Path(h.runtime.settings.db_path).parent / "seed"
    for n, cats in enumerate((("新闻", "源甲", "要闻"), ("金融", "新浪财经", "国內"), ("科技", "9To5", "分站"))):
        write_post(folder, f"种子文章{n}：海关发布数据 & <b>标签</b>", cats,
                   paragraphs=(f"第{n}篇正文提到海关、数据和 iPhone 13。", "第二段：上海 关于 5G 的消息。"))
    await ingest_paths(h.db, [folder])
    await add_feed(h.db, str(folder), validate=False)


async def ask(h: BotHarness, text: str, *, user=None, chat=None, settle: float = 0.05) -> list[dict]:
    """Send `text` as a fresh user (no rate limit history) and return every reply."""
    if user is None:
        user = h.sb.add_user("F", language_code=random.choice(("zh", "en")))
        chat = h.sb.private_chat(user)
    before = len(h.sb.messages(chat))
    h.sb.send_text(chat, user, text)
    await h.sb.wait_for(chat, before + 1, timeout=15)
    await asyncio.sleep(settle)
    return h.sb.messages(chat)[before:]


@pytest.fixture
async def h(tmp_path):
    async with BotHarness.running(tmp_path, admins=(ADMIN,)) as harness:
        await seed(harness)
        harness.admin = harness.sb.add_user("Root", user_id=ADMIN, language_code="en")
        yield harness


# ---------------------------------------------------------------- fuzzed arguments, end to end

NASTY = [
    "<b>", "</i>", "<a href=\"javascript:alert(1)\">x</a>", "&", "&amp;", "&#0;", "&lt;", "<<>>",
    "*bold* _it_ `code` [l](http://x) ~s~ ||sp|| \\", "'; DROP TABLE articles; --", "\" OR 1=1 --", "%", "_",
    'NEAR(a b)', '"unclosed', "a OR b", "NOT x", "col:term", "^start", "*", "-", "--", "-\"\"", "cat:", "since:0d",
    "since:99999y", "sort:", "-since:1d", "\x00", "\x1b[31m", "\u202e", "\u200b", "🏳️‍🌈", "𠀀𪚥", "ｃａｔ：金融",
    "“”「」『』", "@newsbot_test_bot", "#tag", "/read_1", "1", "0", "-1", "99999999999999999999", "１２",
    "mode digest", "time 25:00", "quiet 23:00-23:00", "tz ../../etc/passwd", "lang xx", "purge", "海关",
]
argument_text = st.one_of(
    st.text(max_size=60),
    st.sampled_from(NASTY),
    st.lists(st.sampled_from(NASTY) | st.text(max_size=6), min_size=1, max_size=8).map(" ".join),
    st.integers(1, 10_000).map(lambda n: "字" * n),
    st.text(min_size=1, max_size=5).map(lambda s: (s * 10_000)[:10_000]),
)
USER_COMMANDS = ["start", "help", "stop", "categories", "subscribe", "unsubscribe", "subscriptions", "settings",
                 "latest", "read", "search", "watch", "watches", "unwatch", "digest", "no_such_command"]
ADMIN_COMMANDS = ["addfeed", "removefeed", "feeds", "pausefeed", "resumefeed", "fetchnow", "stats", "export",
                  "import"]


def _touches_outside(arg: str) -> bool:
    """/addfeed arguments an admin may legitimately give but a fuzzer must not: existing folders (scanning
    / takes minutes) and http(s) URLs (network)."""
    words = arg.split()
    if not words:
        return False
    found = classify_location(words[0].strip("\"'"))
    if not isinstance(found, tuple):
        return False
    try:
        return found[0] == "rss" or Path(found[1]).exists()
    except OSError:  # a name too long for the file system: the bot answers "no such folder"
        return False


@pytest.mark.parametrize("command", USER_COMMANDS)
@settings(settings.get_profile("end-to-end"), suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(arg=argument_text)
async def test_user_command_arguments_never_break_a_reply(h, command, arg):
    with error_log() as errors:
        replies = await ask(h, f"/{command} {arg}")
    for m in replies:
        check_reply(m)
    assert not errors.records, [r.getMessage() for r in errors.records]


@pytest.mark.parametrize("command", ADMIN_COMMANDS)
@settings(settings.get_profile("end-to-end"), suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(arg=argument_text)
async def test_admin_command_arguments_never_break_a_reply(h, command, arg):
    if command == "addfeed":
        assume(not _touches_outside(arg))
    with error_log() as errors:  # the admin is exempt from the per-user rate limit
        replies = await ask(h, f"/{command} {arg}", user=h.admin, chat=h.sb.private_chat(h.admin))
    for m in replies:
        check_reply(m)
    assert not errors.records, [r.getMessage() for r in errors.records]


@settings(settings.get_profile("end-to-end"), suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(suffix=st.text(max_size=30))
async def test_read_shortcut_with_any_suffix(h, suffix):
    with error_log() as errors:
        replies = await ask(h, f"/read_{random.choice(('1', '2', '999999999999', '0'))}{suffix}")
    for m in replies:
        check_reply(m)
    assert not errors.records


# ---------------------------------------------------------------- authorisation


def channel(h: BotHarness, title: str = "Channel") -> Chat:
    """The sandbox has no channels of its own: one made in its World (the bot can post there)."""
    chat = Chat(-(1_002_000_000_000 + random.randrange(10**6)), "channel", title=title)
    return h.sb.world._add_chat(chat)


def channel_post(h: BotHarness, chat: Chat, text: str, document: dict | None = None) -> None:
    """A channel post as Telegram delivers it: no `from`, the channel as `sender_chat`."""
    from sandbox.entities import detect_bot_commands

    msg = {"message_id": chat.next_message_id(), "sender_chat": chat.to_api(), "date": h.sb.world.date(),
           "chat": chat.to_api()}
    if document is not None:
        msg["document"] = document
        msg["caption"] = text
        msg["caption_entities"] = detect_bot_commands(text)
    else:
        msg["text"] = text
        if detect_bot_commands(text):
            msg["entities"] = detect_bot_commands(text)
    h.sb.world.messages[(chat.id, msg["message_id"])] = msg
    h.sb.world.updates.push("channel_post", msg)


async def feed_state(h: BotHarness) -> list[tuple]:
    return [(f.id, f.location, f.paused, f.category) for f in await list_feeds(h.db)]


ADMIN_ATTEMPTS = ["/addfeed {folder}", "/removefeed 1", "/removefeed 1 purge", "/feeds", "/pausefeed 1",
                  "/resumefeed 1", "/fetchnow", "/fetchnow 1", "/stats", "/export", "/import"]


async def test_admin_commands_as_channel_posts_change_nothing(h, tmp_path):
    folder = tmp_path / "would-be-feed"
    write_post(folder, "不应被添加")
    before = await feed_state(h)
    articles = (await h.db.fetchone("SELECT COUNT(*) FROM articles"))[0]
    news = channel(h, "News channel")
    with error_log() as errors:
        for text in ADMIN_ATTEMPTS:
            channel_post(h, news, text.format(folder=folder))
        # /import with an OPML file attached, as a channel post's caption
        opml = '<opml version="2.0"><body><outline type="rss" xmlUrl="https://evil.example/feed"/></body></opml>'
        entry = h.sb.world.store_file("document", {"file_name": "x.opml", "file_size": len(opml),
                                                   "data": opml.encode(), "mime_type": "text/xml"})
        channel_post(h, news, "/import", document={"file_id": entry["file_id"],
                                                   "file_unique_id": entry["file_unique_id"],
                                                   "file_name": "x.opml", "file_size": len(opml)})
        deadline = time.monotonic() + 10
        while h.sb.pending_updates() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)
    assert not h.sb.pending_updates(), "the bot stopped taking updates"
    assert await feed_state(h) == before
    assert (await h.db.fetchone("SELECT COUNT(*) FROM articles"))[0] == articles
    for m in h.sb.messages(news):  # whatever the bot says there is a refusal, never a feed list or a file
        check_reply(m)
        assert m["method"] == "sendMessage" and ("admins only" in m["text"] or "仅限" in m["text"]), m
    assert not errors.records, [r.getMessage() for r in errors.records]


@pytest.mark.parametrize("where", ["private", "group", "supergroup"])
async def test_admin_commands_from_non_admins_change_nothing(h, tmp_path, where):
    folder = tmp_path / "would-be-feed"
    write_post(folder, "不应被添加")
    before = await feed_state(h)
    mallory = h.sb.add_user("Mallory", language_code="en")
    owner = h.sb.add_user("Owner", language_code="en")
    chat = {"private": lambda: h.sb.private_chat(mallory),
            "group": lambda: h.sb.group("G", members=[mallory, owner], admins=[mallory], owner=owner),
            "supergroup": lambda: h.sb.supergroup("S", members=[mallory, owner], admins=[mallory], owner=owner),
            }[where]()
    for text in ADMIN_ATTEMPTS:
        (msg,) = await h.say(chat, mallory, text.format(folder=folder))
        assert "admins only" in msg["text"], (text, msg["text"])
    opml = '<opml version="2.0"><body><outline type="rss" xmlUrl="https://evil.example/feed"/></body></opml>'
    sent = len(h.sb.messages(chat))
    h.sb.send_document(chat, mallory, "feeds.opml", opml, caption="/import")
    (msg,) = (await h.sb.wait_for(chat, sent + 1))[sent:]
    assert "admins only" in msg["text"]
    assert await feed_state(h) == before


async def group_with_keyboard(h: BotHarness):
    owner = h.sb.add_user("Owner", language_code="en")
    member = h.sb.add_user("Member", language_code="en")
    group = h.sb.supergroup("Team", members=[owner, member], admins=[owner], owner=owner)
    (ok,) = await h.say(group, owner, "/subscribe 新闻")
    assert "Subscribed" in ok["text"]
    await h.say(group, owner, "/watch 海关")
    (keyboard,) = await h.say(group, owner, "/subscribe")
    (settings_msg,) = await h.say(group, owner, "/settings")
    return owner, member, group, keyboard, settings_msg


async def snapshot(h: BotHarness, chat_id: int) -> tuple:
    chat = await get_chat(h.db, chat_id)
    return (chat, [s.category_key for s in await list_subscriptions(h.db, chat_id)],
            [w.query for w in await list_watches(h.db, chat_id)])


async def test_group_subscriptions_and_settings_only_change_by_group_admins(h):
    owner, member, group, keyboard, settings_msg = await group_with_keyboard(h)
    before = await snapshot(h, group.id)
    for text in ("/subscribe 金融", "/unsubscribe 新闻", "/settings mode digest", "/settings quiet 01:00-02:00",
                 "/watch 数据", "/unwatch 1", "/stop"):
        (msg,) = await h.say(group, member, text)
        assert "admins" in msg["text"], (text, msg["text"])
    for _, data in buttons(keyboard) + buttons(settings_msg):
        await h.press(group, member, keyboard["message_id"] if data.startswith("sub:") else settings_msg["message_id"],
                      data)
        answer = h.sb.callback_answers[-1]
        if data.startswith(("sub:t:", "set:")):  # changes: refused with the rule
            assert "admins" in (answer.get("text") or ""), (data, answer)
    assert await snapshot(h, group.id) == before
    # the same buttons do work for the group's admin
    (fresh,) = await h.say(group, owner, "/subscribe")
    toggle = next(d for _, d in buttons(fresh) if d.startswith("sub:t:"))
    await h.press(group, owner, fresh["message_id"], toggle)
    assert await snapshot(h, group.id) != before


FORGED = ["sub:t:deadbeef:0", "sub:t:deadbeef", "sub:t::0", "sub:p:abc", "sub:p:", "sub:", "sub:t:00000000:-1",
          "sub:p:1:2", "set:", "set:len:+5", "set:len:-1x", "set:mode:extra",
          "set:quiet:on", "set:lang:fr", "set:tz:UTC", "search:", "search:1", "search:abc:0", "search:-1:0",
          "search:999999:0", "search:1:999999", "search:" + "9" * 40 + ":0"]


async def test_forged_callback_data_is_refused_and_changes_nothing(h):

    h.runtime.services.user_rate_limit.burst = 1000  # one forger presses ~50 times
    a_user, b_user = h.sb.add_user("A", language_code="en"), h.sb.add_user("B", language_code="en")
    a, b = h.sb.private_chat(a_user), h.sb.private_chat(b_user)
    await h.say(a, a_user, "/subscribe 新闻")
    for n in range(12):  # enough matches for a second page
        write_post(Path(h.runtime.settings.db_path).parent / "more", f"海关第{n}条补充新闻")
    await ingest_paths(h.db, [Path(h.runtime.settings.db_path).parent / "more"])
    (a_results,) = await h.say(a, a_user, "/search 海关")
    a_session = next(d for _, d in buttons(a_results) if d.startswith("search:")).split(":")[1]
    (b_msg,) = await h.say(b, b_user, "/settings")
    (b_results,) = await h.say(b, b_user, "/search 海关")
    b_session = next(d for _, d in buttons(b_results) if d.startswith("search:")).split(":")[1]
    before = {c.id: (await snapshot(h, c.id), h.sb.messages(c)) for c in (a, b)}

    forged = FORGED + [f"search:{a_session}:0", f"search:{a_session}:1", f"search:{b_session}:999"]
    for data in forged:
        for target in (b_msg, b_results):
            with error_log() as errors:
                q = await h.press(b, b_user, target["message_id"], data, forge=True)
            answer = next(x for x in h.sb.callback_answers if x.get("callback_query_id") == q["id"])
            assert answer.get("show_alert") in (True, "true"), (data, answer)
            assert not errors.records, (data, [r.getMessage() for r in errors.records])
    after = {c.id: (await snapshot(h, c.id), h.sb.messages(c)) for c in (a, b)}
    assert after == before  # no subscription, setting or message changed; A's results never shown to B


@settings(settings.get_profile("end-to-end"), suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.tuples(st.sampled_from(["sub:", "sub:t:", "sub:p:", "set:", "set:len:", "search:"]),
                      st.text(max_size=40)).map("".join).filter(lambda d: len(d.encode()) <= 64))
async def test_any_forged_callback_data_changes_nothing(h, data):
    user = h.sb.add_user("Forger", language_code="zh")
    chat = h.sb.private_chat(user)
    (msg,) = await h.say(chat, user, "/settings")
    assume(data not in {d for _, d in buttons(msg)})  # a real button is not a forgery
    before = await snapshot(h, chat.id)
    with error_log() as errors:
        await h.press(chat, user, msg["message_id"], data, forge=True)
    assert await snapshot(h, chat.id) == before
    assert not errors.records, [r.getMessage() for r in errors.records]
    for m in h.sb.messages(chat):
        check_reply(m)


# ---------------------------------------------------------------- abuse


async def test_one_user_flooding_does_not_slow_other_chats(h):
    noisy = h.sb.add_user("Noisy", language_code="en")
    noisy_chat = h.sb.private_chat(noisy)
    calm = [h.sb.add_user(f"Calm{i}", language_code="en") for i in range(3)]

    async def latency(i: int) -> float:
        started = time.monotonic()
        (msg,) = await ask(h, "/help", user=calm[i % 3], chat=h.sb.private_chat(calm[i % 3]), settle=0)
        assert "/subscribe" in msg["text"]
        return time.monotonic() - started

    baseline = [await latency(i) for i in range(6)]

    async def flood() -> None:
        for _ in range(100):  # 100 commands in 10 s, the expensive kind
            h.sb.send_text(noisy_chat, noisy, random.choice(("/search 海关 数据", "/latest 20", "/categories")))
            await asyncio.sleep(0.1)

    flooding = asyncio.create_task(flood())
    during = []
    while not flooding.done():
        during.append(await latency(len(during)))
        await asyncio.sleep(0.4)
    await flooding
    await h.quiet(noisy_chat, 1.0)
    print(f"/help latency: baseline median {statistics.median(baseline) * 1000:.0f} ms, during the flood median "
          f"{statistics.median(during) * 1000:.0f} ms, max {max(during) * 1000:.0f} ms ({len(during)} samples)")
    assert statistics.median(during) < max(3 * statistics.median(baseline), statistics.median(baseline) + 0.3)
    assert max(during) < 2.0
    texts = [m["text"] for m in h.sb.messages(noisy_chat)]
    assert 1 <= sum("Too many" in t for t in texts) <= 2  # told politely, once per window
    assert len([t for t in texts if "Too many" not in t]) <= 30  # most of the flood was dropped unanswered


def _worst_articles(n: int) -> list[Article]:
    """n articles of common characters and words, so the commonest query terms match nearly all."""
    rng = random.Random(3)
    # the 100 commonest characters: every one-character or bigram query matches most of these articles
    common = ("的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种"
              "面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本")
    words = ["海关", "数据", "上海", "iphone", "5g", "supply", "chain", "新闻", "市场", "发布"]
    base = datetime(2024, 1, 1, tzinfo=UTC)
    out = []
    for i in range(n):
        text = "".join(rng.choice(common) for _ in range(400)) + " " + " ".join(rng.sample(words, 5))
        title = "".join(rng.choice(common) for _ in range(20)) + rng.choice(words)
        paragraphs = (text[:200], text[200:])
        out.append(Article(
            uid=f"worst-{i}", feed_id=None, source=f"worst-{i}", title=title,
            categories=(rng.choice(("新闻", "金融", "科技")), f"源{i % 20}", "要闻"), author="", published=base
            + timedelta(hours=i), image_url=None, paragraphs=paragraphs, language="zh",
            content_hash=f"h{i}", story_key=f"s:worst-{i}", ingested=base + timedelta(hours=i)))
    return out


WORST_QUERIES = [
    "的 一 是 在 不 了 有 和 人 这",                    # ten single characters matching everything
    "的的 一一 是是 在在 不不 了了 有有 和和 人人 这这",  # ten bigrams
    '"的 一 是 在 不 了 有 和 人 这 中 大 为 上 个 国"',     # a long phrase of common characters
    "的 -一 -是 -在 -不 -了 -有 -和 -人 -这",
    "的 sort:new", "的 since:99999d", "cat:新闻 的 一", "-cat:新闻 的", "cat:新闻 cat:金融 cat:科技 的",
    "海关 数据 上海 iphone 5g supply chain 新闻 市场 发布",
    "a" * 256, "的" * 64, "的" * 65, " ".join(["的"] * 300)[:256], '"' + "的 " * 60 + '"', "*" * 256,
    "NEAR(的 一) OR 是 AND 在", "海关" * 32,
]


async def test_worst_case_queries_and_watches_are_bounded_in_time(tmp_path):
    from storage.chats import register_chat
    from storage.db import open_db
    from storage.search import search
    from storage.watches import add_watch, match_new_articles

    async with open_db(tmp_path / "big.sqlite3") as db:
        arts = _worst_articles(2000)
        for i in range(0, len(arts), 500):
            await store_batch(db, arts[i:i + 500], summariser=lambda a: ([], 1))
        now = datetime(2024, 6, 1, tzinfo=UTC)
        timings = []
        for q in WORST_QUERIES:
            for page in (0, 7):
                started = time.perf_counter()
                await search(db, q, limit=5, offset=page * 5, now=now)
                timings.append((time.perf_counter() - started, q, page))
        worst = max(timings)
        print(f"slowest of {len(timings)} searches over 2000 articles: {worst[0] * 1000:.0f} ms ({worst[1]!r})")
        assert worst[0] < 1.5, worst

        await register_chat(db, chat_id=1, type="private", title="", is_forum=False, client_language="zh",
                            timezone="Asia/Shanghai", now=now)
        for q in WORST_QUERIES[:20]:
            await add_watch(db, 1, q, now=now - timedelta(days=365))
        ids = [r[0] for r in await db.fetchall("SELECT id FROM articles")]
        started = time.perf_counter()
        hits = await match_new_articles(db, ids)
        elapsed = time.perf_counter() - started
        print(f"20 worst-case watches against 2000 new articles: {elapsed:.2f} s, {len(hits)} matches")
        assert elapsed < 10.0


# ---------------------------------------------------------------- secrets


def realistic_token() -> str:
    return f"{random.randint(10**9, 10**10 - 1)}:AA{secrets.token_urlsafe(24)[:33]}"


def leaks(token: str, text: str) -> list[str]:
    secret = token.split(":", 1)[1]
    return [s for s in (token, secret, secret[:16]) if s in text]


async def test_token_never_logged_even_at_debug_when_things_fail(tmp_path, capfd):
    from bot.app.logs import setup_logging

    token = realistic_token()
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    quieted = {name: logging.getLogger(name).level for name in ("httpx", "apscheduler")}
    try:
        async with BotHarness.running(tmp_path, admins=(ADMIN,), sandbox_options={"token": token}) as h:
            setup_logging("DEBUG", token)
            await seed(h)
            user = h.sb.add_user("U", language_code="en")
            chat = h.sb.private_chat(user)
            await h.say(chat, user, "/subscribe 新闻")
            # a handler fails: its reply is refused twice (the answer and the error reply)
            h.sb.fault("server_error", chat=chat.id, methods=["sendMessage"], times=2)
            h.sb.send_text(chat, user, "/help")
            await asyncio.sleep(1.0)
            # deliveries fail: refused as HTML, then 5xx and a timeout
            h.sb.fault("custom", chat=chat.id, methods=["sendMessage"], status=400,
                       description=f"Bad Request: can't parse entities near {token}", times=1)
            h.sb.fault("bad_gateway", chat=chat.id, methods=["sendMessage"], times=1)
            write_post(tmp_path / "new", "泄密测试的新闻")
            await ingest_paths(h.db, [tmp_path / "new"])
            await h.runtime.delivery.dispatch()
            await h.runtime.delivery.drain(timeout=30)
            # an exception whose text carries the token, logged the way the bot logs errors
            logging.getLogger("newsbot.test").error("event=probe error=%r", RuntimeError(f"{h.sb.api_url}{token}/x"))
            try:
                raise ValueError(f"url=https://api.telegram.org/bot{token}/getMe")
            except ValueError:
                logging.getLogger("newsbot.test").exception("event=probe_traceback")
            admin = h.sb.add_user("Root", user_id=ADMIN, language_code="en")
            (stats,) = await h.say(h.sb.private_chat(admin), admin, "/stats")
            assert "articles" in stats["text"]
            assert not leaks(token, stats["text"])
            assert not leaks(token, repr(h.runtime.settings)) and not leaks(token, str(h.runtime.settings))
            everything = " ".join(m.get("text") or "" for c in h.sb.world.records for m in h.sb.messages(c))
            assert not leaks(token, everything)
    finally:  # setup_logging configured the root logger for a process: give pytest its own back
        root.handlers[:], root.level = saved
        for name, level in quieted.items():
            logging.getLogger(name).setLevel(level)
    out, err = capfd.readouterr()
    logged = out + err
    assert "event=handler_error" in logged and "event=probe" in logged and "Calling Bot API" in logged, logged[-2000:]
    assert not leaks(token, logged), [line for line in logged.splitlines() if leaks(token, line)][:5]


async def test_subprocess_bot_output_never_contains_the_token(tmp_path):
    from sandbox import Sandbox
    from tests.support.crashkit import (
        bot_env,
        kill,
        make_subscribers,
        start_bot,
        wait_until,
    )

    token = realistic_token()
    log = tmp_path / "bot.log"
    async with Sandbox.running(port=0, token=token) as sb:
        (subscriber,) = await make_subscribers(sb, tmp_path / "bot.sqlite3", 1, ("新闻",))
        feed = tmp_path / "feed"
        write_post(feed, "子进程泄密测试")
        sb.fault("server_error", chat=subscriber, methods=["sendMessage"], times=2)
        proc = start_bot(bot_env(sb, tmp_path / "bot.sqlite3", NEWSBOT_FEEDS=str(feed), NEWSBOT_LOG_LEVEL="DEBUG"),
                         log)
        try:
            assert await wait_until(lambda: bool(sb.messages(subscriber)), 30), log.read_text()[-2000:]
            user = sb.add_user("U", language_code="en")
            sb.fault("server_error", chat=user.id, methods=["sendMessage"], times=2)
            sb.send_text(sb.private_chat(user), user, "/help")  # a handler whose replies fail
            await asyncio.sleep(2)
        finally:
            kill(proc)
    # and a token the API refuses: one line, no token
    import subprocess
    import sys

    env = bot_env(sb, tmp_path / "other.sqlite3")
    async with Sandbox.running(port=0) as other:
        env.update(TELEGRAM_BOT_TOKEN=token, TELEGRAM_API_URL=other.base_url)
        refused = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "bot", "run"], env=env,
                                          capture_output=True, text=True, timeout=60)
    output = log.read_text(errors="replace")
    assert "level=debug" in output and "sendMessage" in output
    assert not leaks(token, output), [line for line in output.splitlines() if leaks(token, line)][:5]
    assert refused.returncode != 0 and "rejected" in refused.stderr, refused.stderr[-2000:]
    assert not leaks(token, refused.stdout + refused.stderr), refused.stderr[-2000:]


# ---------------------------------------------------------------- hostile world: feeds reaching outside
async def test_a_post_linking_to_the_env_file_is_never_searchable(tmp_path):
    """Hostile world #2: a folder-feed post that is a symbolic link to ../../.env is rejected, not ingested."""
    app = tmp_path / "app"
    posts = app / "blog" / "posts"
    write_post(posts, "一篇正常的文章：海关发布数据")
    (app / ".env").write_text("TELEGRAM_BOT_TOKEN=123456:zebrasecretvalue\nNEWSBOT_ADMIN_IDS=1\n", encoding="utf-8")
    (posts / "leak.md").symlink_to("../../.env")
    (posts / "leak-dir").symlink_to(app, target_is_directory=True)
    async with BotHarness.running(tmp_path, admins=(4242,)) as h:
        await add_feed(h.db, str(posts), validate=False)
        admin = h.sb.add_user("Root", user_id=4242, language_code="en")
        chat = h.sb.private_chat(admin)
        (msg,) = await h.say(chat, admin, "/fetchnow")
        assert "1 new" in msg["text"] and "2 rejected" in msg["text"], msg["text"]
        (msg,) = await h.say(chat, admin, "/search zebrasecretvalue")
        assert "Nothing found" in msg["text"]
        rows = await h.db.fetchall("SELECT body FROM articles WHERE body LIKE '%zebrasecret%' OR title LIKE '%TOKEN%'")
        assert rows == []


async def test_addfeed_never_reaches_the_cloud_metadata_service(tmp_path):
    """Hostile world #3: internal addresses in any spelling are refused before any connection."""
    async with BotHarness.running(tmp_path, admins=(4242,)) as h:
        admin = h.sb.add_user("Root", user_id=4242, language_code="en")
        chat = h.sb.private_chat(admin)
        for url in ("http://2852039166/latest/meta-data/", "http://0x7f.1/", "http://017700000001/",
                    "http://[::1]:6379/", "http://0.0.0.0:8080/", "http://user:pw@10.0.0.1/"):
            (msg,) = await h.say(chat, admin, f"/addfeed {url}")
            assert "Refused" in msg["text"], (url, msg["text"])
        assert await list_feeds(h.db) == []
