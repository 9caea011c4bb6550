"""The bot end to end through the local sandbox over HTTP, with a real SQLite file."""
from __future__ import annotations

import asyncio

import pytest

from bot.feeds.ingest import ingest_paths
from sandbox.entities import parse_html
from storage.chats import get_chat, list_subscriptions
from tests.support.harness import BotHarness, buttons
from tests.support.paths import REAL


@pytest.fixture(params=["polling", "webhook"])
async def h(tmp_path, request):
    """The whole conversation suite runs twice: updates by long polling, and POSTed to the bot's webhook."""
    async with BotHarness.running(tmp_path, admins=(999,), webhook=request.param == "webhook") as harness:
        await ingest_paths(harness.db, [REAL])
        yield harness


def _valid_html(msg: dict) -> None:
    assert len(msg["text"]) <= 4096
    parse_html(msg.get("source") or msg["text"])


async def test_start_registers_explains_and_offers_buttons(h):
    ann = h.sb.add_user("Ann", language_code="zh-hans")
    chat = h.sb.private_chat(ann)
    (msg,) = await h.say(chat, ann, "/start")
    assert "新闻推送机器人" in msg["text"]
    labels = [b[0] for b in buttons(msg)]
    assert any(label.startswith("二次元 (") for label in labels)  # tree order, with counts
    assert any(data.startswith("sub:p:") for _, data in buttons(msg))  # paged
    stored = await get_chat(h.db, chat.id)
    assert stored is not None and stored.active and stored.lang == "zh"
    commands = h.sb.commands()
    assert {c["command"] for c in commands} >= {"start", "help", "subscribe", "search", "settings"}
    assert h.sb.commands(language_code="zh")[0]["description"] != commands[0]["description"]


async def test_help_in_english_lists_every_command_and_admin_extra(h):
    bob = h.sb.add_user("Bob", language_code="en")
    (msg,) = await h.say(h.sb.private_chat(bob), bob, "/help")
    for cmd in ("/subscribe", "/unsubscribe", "/subscriptions", "/categories", "/latest", "/search", "/settings"):
        assert cmd in msg["text"]
    assert "/addfeed" not in msg["text"]
    admin = h.sb.add_user("Root", user_id=999, language_code="en")
    (msg,) = await h.say(h.sb.private_chat(admin), admin, "/help")
    assert "/addfeed" in msg["text"] and "/stats" in msg["text"]


async def test_categories_tree_with_counts(h):
    u = h.sb.add_user("U", language_code="zh")
    (msg,) = await h.say(h.sb.private_chat(u), u, "/categories")
    assert "金融 (9)" in msg["text"] and "新浪财经－国內 (9)" in msg["text"]
    _valid_html(msg)


@pytest.mark.parametrize("name", ["新浪财经", "金融/新浪财经", "ＣＮＢＥＴＡ", "cnbeta", "金融 › 新浪财经 › 新浪财经－国內"])
async def test_subscribe_by_name_any_level_nfkc_case_insensitive(h, name):
    u = h.sb.add_user("U", language_code="zh")
    chat = h.sb.private_chat(u)
    (msg,) = await h.say(chat, u, f"/subscribe {name}")
    assert "已订阅" in msg["text"] and "/latest" in msg["text"]
    (sub,) = await list_subscriptions(h.db, chat.id)
    assert sub.since_article_id > 0  # no backfill: only articles stored after now
    (msg,) = await h.say(chat, u, "/subscriptions")
    assert sub.categories[-1] in msg["text"]


async def test_unknown_category_suggests_close_names(h):
    u = h.sb.add_user("U", language_code="en")
    (msg,) = await h.say(h.sb.private_chat(u), u, "/subscribe 新浪")
    assert "No category" in msg["text"] and "新浪财经" in msg["text"]


@pytest.mark.parametrize("arg", ["<b>x</b> & <script>", "😀" * 50, "x" * 5000, "\"' ; DROP TABLE chats; --", "a/b/c/d/e/f/g"])
async def test_odd_arguments_get_a_clear_valid_reply(h, arg):
    u = h.sb.add_user("U", language_code="en")
    chat = h.sb.private_chat(u)
    for cmd in ("/subscribe", "/unsubscribe", "/settings"):
        (msg,) = await h.say(chat, u, f"{cmd} {arg}")
        _valid_html(msg)
        assert "wrong" not in msg["text"]  # not the generic error reply
    assert await list_subscriptions(h.db, chat.id) == []


async def test_keyboard_toggle_pages_and_stale_buttons(h):
    u = h.sb.add_user("U", language_code="zh")
    chat = h.sb.private_chat(u)
    (msg,) = await h.say(chat, u, "/subscribe")
    toggles = [b for b in buttons(msg) if b[1].startswith("sub:t:")]
    label, data = toggles[0]
    await h.press(chat, u, msg["message_id"], data)
    edited = h.sb.messages(chat)[-1]
    assert any(b[0].startswith(label.strip("　")[:1]) or "✅" in b[0] for b in buttons(edited))
    assert any("✅" in b[0] for b in buttons(edited))
    assert len(await list_subscriptions(h.db, chat.id)) == 1
    await h.press(chat, u, msg["message_id"], data)  # toggles off again
    assert await list_subscriptions(h.db, chat.id) == []
    nxt = [b for b in buttons(h.sb.messages(chat)[-1]) if b[1].startswith("sub:p:")]
    assert nxt
    await h.press(chat, u, msg["message_id"], nxt[-1][1])
    assert buttons(h.sb.messages(chat)[-1]) != buttons(msg)
    await h.press(chat, u, msg["message_id"], "sub:t:deadbeef:0", forge=True)  # a category that does not exist
    assert h.sb.callback_answers[-1].get("show_alert") in (True, "true")
    await h.press(chat, u, msg["message_id"], "sub:zzz", forge=True)
    assert await list_subscriptions(h.db, chat.id) == []


def _answers_to(h, query: dict) -> list[dict]:
    """Every answerCallbackQuery the bot sent for this query, accepted or refused (a second one is refused)."""
    return [r for r in h.sb.requests
            if r["method"] == "answerCallbackQuery" and r["params"].get("callback_query_id") == query["id"]]


@pytest.mark.parametrize("lang, notice", [("zh", "这个按钮已失效"), ("en", "This button has expired")])
async def test_unknown_button_is_answered_once_with_a_notice(h, lang, notice):
    u = h.sb.add_user("U", language_code=lang)
    chat = h.sb.private_chat(u)
    (msg,) = await h.say(chat, u, "/settings")
    q = await h.press(chat, u, msg["message_id"], "zzz:1", timeout=3, forge=True)  # an old or forged keyboard
    await h.quiet(chat)
    (answer,) = [a for a in h.sb.callback_answers if a["callback_query_id"] == q["id"]]
    assert notice in answer["text"] and not answer["show_alert"]
    assert len(_answers_to(h, q)) == 1


async def test_known_buttons_are_answered_once_not_also_by_the_fallback(h):
    u = h.sb.add_user("U", language_code="en")
    chat = h.sb.private_chat(u)
    (settings,) = await h.say(chat, u, "/settings")
    (subscribe,) = await h.say(chat, u, "/subscribe")
    page = next(data for _, data in buttons(subscribe) if data.startswith("sub:p:"))
    pressed = [await h.press(chat, u, settings["message_id"], "set:len:+1"),
               await h.press(chat, u, subscribe["message_id"], page),
               await h.press(chat, u, subscribe["message_id"], "sub:zzz", forge=True)]  # stale, by the sub: handler
    await h.quiet(chat)
    for q in pressed:
        (request,) = _answers_to(h, q)
        assert request["status"] == 200, q["data"]
    answers = {a["data"]: a for a in h.sb.callback_answers}
    assert not answers["set:len:+1"]["text"] and not answers[page]["text"]
    assert answers["sub:zzz"]["show_alert"]  # the sub: handler's own alert, not the fallback's toast
    assert (await get_chat(h.db, chat.id)).summary_length == 3  # the real handler ran (default 2)


async def test_a_button_whose_handler_fails_is_still_answered(h, monkeypatch):
    """A failing button handler must not leave the client's spinner running: the error handler answers."""
    import handlers.settings

    async def broken(*args, **kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr(handlers.settings, "update_settings", broken)
    u = h.sb.add_user("U", language_code="en")
    chat = h.sb.private_chat(u)
    (settings,) = await h.say(chat, u, "/settings")
    query = await h.press(chat, u, settings["message_id"], "set:len:+1")
    await h.quiet(chat)
    (request,) = _answers_to(h, query)
    assert request["status"] == 200
    (answer,) = [a for a in h.sb.callback_answers if a["data"] == "set:len:+1"]
    assert "Something went wrong" in answer["text"] and answer["show_alert"]


async def test_group_admin_rule(h):
    owner = h.sb.add_user("Owner", language_code="en")
    member = h.sb.add_user("Member", language_code="en")
    group = h.sb.group("Team", members=[owner, member], admins=[owner], owner=owner)
    (msg,) = await h.say(group, member, "/subscribe cnBeta")
    assert "admins" in msg["text"]
    assert await list_subscriptions(h.db, group.id) == []
    (msg,) = await h.say(group, member, "/settings mode digest")
    assert "admins" in msg["text"]
    (msg,) = await h.say(group, member, "/categories")  # read commands are for everyone
    assert "cnBeta" in msg["text"]
    (msg,) = await h.say(group, owner, "/subscribe cnBeta")
    assert "Subscribed" in msg["text"]
    assert len(await list_subscriptions(h.db, group.id)) == 1


async def test_anonymous_group_admin_may_manage_the_group(h):
    owner = h.sb.add_user("Owner", language_code="en")
    member = h.sb.add_user("Member", language_code="en")
    group = h.sb.group("Team", members=[owner, member], admins=[owner], owner=owner)
    before = len(h.sb.messages(group))
    h.sb.send_text(group, owner, "/subscribe cnBeta", anonymous=True)  # from GroupAnonymousBot, as the group
    (msg,) = (await h.sb.wait_for(group, before + 1))[before:]
    assert "Subscribed" in msg["text"]
    assert len(await list_subscriptions(h.db, group.id)) == 1


async def test_forum_topic_subscription_is_per_topic(h):
    owner = h.sb.add_user("Owner", language_code="en")
    forum = h.sb.forum("News", topics=("Tech", "Money"), members=[owner], admins=[owner], owner=owner)
    tech = h.sb.topic_id(forum, "Tech")
    (msg,) = await h.say(forum, owner, "/subscribe cnBeta", thread_id=tech)
    assert msg.get("message_thread_id") == tech
    (sub,) = await list_subscriptions(h.db, forum.id)
    assert sub.thread_id == tech


async def test_settings_text_forms_buttons_and_bad_values(h):
    u = h.sb.add_user("U", language_code="en")
    chat = h.sb.private_chat(u)
    (msg,) = await h.say(chat, u, "/settings")
    assert "Mode" in msg["text"] and "instant" in msg["text"]
    for arg, expect in [("mode digest", "Saved"), ("time 08:00,20:00", "Saved"), ("quiet 23:00-07:00", "Saved"),
                        ("length 4", "Saved"), ("tz Europe/Berlin", "Saved"),
                        ("length 9", "1 to 5"), ("time 25:00", "HH:MM"), ("tz Mars/Base", "Unknown time zone"),
                        ("quiet 23:00", "23:00-07:00"), ("colour red", "Unknown setting"), ("mode", "give a value")]:
        (msg,) = await h.say(chat, u, f"/settings {arg}")
        assert expect in msg["text"], (arg, msg["text"])
    stored = await get_chat(h.db, chat.id)
    assert (stored.mode, stored.digest_times, stored.quiet_start, stored.quiet_end, stored.summary_length,
            stored.timezone) == ("digest", ("08:00", "20:00"), "23:00", "07:00", 4, "Europe/Berlin")
    (msg,) = await h.say(chat, u, "/settings")
    await h.press(chat, u, msg["message_id"], "set:len:+1")
    assert (await get_chat(h.db, chat.id)).summary_length == 5
    await h.press(chat, u, msg["message_id"], "set:mode")
    assert (await get_chat(h.db, chat.id)).mode == "instant"


async def test_language_switch(h):
    u = h.sb.add_user("U", language_code="en")
    chat = h.sb.private_chat(u)
    (msg,) = await h.say(chat, u, "/settings lang zh")
    assert "已保存" in msg["text"]
    (msg,) = await h.say(chat, u, "/help")
    assert "命令" in msg["text"]


async def test_stop_then_start(h):
    u = h.sb.add_user("U", language_code="en")
    chat = h.sb.private_chat(u)
    await h.say(chat, u, "/start")
    await h.say(chat, u, "/subscribe cnBeta")
    (msg,) = await h.say(chat, u, "/stop")
    assert "paused" in msg["text"]
    assert not (await get_chat(h.db, chat.id)).active
    (msg,) = await h.say(chat, u, "/start")
    assert "resumed" in msg["text"]
    assert (await get_chat(h.db, chat.id)).active
    assert len(await list_subscriptions(h.db, chat.id)) == 1


async def test_flood_of_commands_is_rate_limited_politely(h):
    u = h.sb.add_user("Noisy", language_code="en")
    chat = h.sb.private_chat(u)
    other = h.sb.add_user("Calm", language_code="en")
    for _ in range(30):
        h.sb.send_text(chat, u, "/help")
    (msg,) = await h.say(h.sb.private_chat(other), other, "/help")  # not held up by the noisy chat
    assert "/subscribe" in msg["text"]
    # The noisy chat's replies are paced at Telegram's per-chat rate: wait for the warning, then for quiet.
    for _ in range(600):
        if any("Too many" in m["text"] for m in h.sb.messages(chat)):
            break
        await asyncio.sleep(0.1)
    await h.quiet(chat, 1.5)
    texts = [m["text"] for m in h.sb.messages(chat)]
    assert sum("Too many" in x for x in texts) == 1
    assert len(texts) < 30
