"""The Bot API sandbox's own rules, over real HTTP, so the yardstick itself can be trusted."""
from __future__ import annotations

import asyncio
import html

import aiohttp
import pytest
import telegram
from hypothesis import given
from hypothesis import strategies as st
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from sandbox import FloodLimits, Rate, Sandbox
from sandbox.entities import EntityParseError, parse_html, utf16_len
from sandbox.faults import Fault
from sandbox.markdown import parse_markdown
from tests.sandbox.calls import call

# A 16x16 PNG header is all the sandbox reads to accept a photo.
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x02\x00\x00\x00"


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def private(sb, name="Ann"):
    user = sb.add_user(name)
    return user, sb.private_chat(user)


# --- the HTML parser ----------------------------------------------------------------------

def test_paragraph_tag_is_refused_with_telegrams_wording():
    with pytest.raises(EntityParseError) as err:
        parse_html("<p>Hello</p>")
    assert err.value.description == 'Unsupported start tag "p" at byte offset 0'


@pytest.mark.parametrize("html, wording", [
    ("Q&A", 'Character "&" at byte offset 1'),
    ("a < b", 'Unsupported start tag "" at byte offset 2'),
    ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
    ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
    ("x</b>", "Unexpected end tag at byte offset 1"),
    ("<span>x</span>", 'Tag "span" must have class "tg-spoiler"'),
    ("<b", "Unclosed start tag at byte offset 0"),
    ("&nbsp;", 'Character "&"'),
])
def test_malformed_html_is_refused(html, wording):
    with pytest.raises(EntityParseError) as err:
        parse_html(html)
    assert err.value.description.startswith(wording)


def test_nested_html_gives_utf16_offsets():
    text, entities = parse_html(
        '😀 <b>bold <i>both</i></b> <a href="https://example.com">link</a> &lt;&#33;&gt;')
    assert text == "😀 bold both link <!>"
    assert entities == [
        {"type": "bold", "offset": 3, "length": 9},
        {"type": "italic", "offset": 8, "length": 4},
        {"type": "text_link", "offset": 13, "length": 4, "url": "https://example.com/"},
    ]


def test_every_documented_tag_is_accepted():
    html = ('<b>b</b><strong>s</strong><i>i</i><em>e</em><u>u</u><ins>n</ins><s>s</s>'
            '<strike>k</strike><del>d</del><span class="tg-spoiler">p</span>'
            '<tg-spoiler>t</tg-spoiler><code>c</code><pre>p</pre>'
            '<pre><code class="language-python">x = 1</code></pre>'
            '<blockquote>q</blockquote><blockquote expandable>x</blockquote>'
            '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>'
            '<tg-time unix="1647531900" format="wDT">t</tg-time>'
            '<a href="tg://user?id=42">m</a>')
    _, entities = parse_html(html)
    kinds = [e["type"] for e in entities]
    assert kinds.count("bold") == 2 and kinds.count("strikethrough") == 3
    assert {"type": "pre", "offset": 13, "length": 5, "language": "python"} in entities
    assert {"expandable_blockquote", "custom_emoji", "date_time", "text_mention",
            "spoiler"} <= set(kinds)


def test_html_text_is_trimmed_and_entities_clipped_like_telegram():
    assert parse_html("  <b>hi </b>\n") == ("hi", [{"type": "bold", "offset": 0, "length": 2}])


@given(st.text())
def test_escaped_text_survives_parsing_with_utf16_offsets(text):
    stripped = text.strip(" \t\r\n\v\f")
    assert parse_html(html.escape(text)) == (stripped, [])
    if stripped:
        assert parse_html(f"<b>{html.escape(text)}</b>") == (
            stripped, [{"type": "bold", "offset": 0, "length": utf16_len(stripped)}])


def test_markdown_v2_reserved_characters_must_be_escaped():
    with pytest.raises(EntityParseError) as err:
        parse_markdown("Done.")
    assert "Character '.' is reserved" in err.value.description
    assert parse_markdown(r"*bold* done\.") == ("bold done.",
                                                [{"type": "bold", "offset": 0, "length": 4}])


# --- methods, parameters and errors over HTTP ----------------------------------------------

async def test_unknown_method_is_404_like_telegram(sb, http):
    assert await call(http, sb, "sendMesage", chat_id=1, text="x") == (
        404, {"ok": False, "error_code": 404, "description": "Not Found"})


async def test_unknown_token_is_401(sb, http):
    assert await call(http, sb, "getMe", token="999:WRONG") == (
        401, {"ok": False, "error_code": 401, "description": "Unauthorized"})


async def test_method_names_are_case_insensitive_and_get_works(sb, http):
    status, body = await call(http, sb, "GETME")
    assert status == 200 and body["result"]["username"] == "newsbot_test_bot"
    async with http.get(f"{sb.api_url}{sb.token}/getMe") as resp:
        assert (await resp.json())["result"]["id"] == 123456


async def test_missing_chat_id_is_400(sb, http):
    assert await call(http, sb, "sendMessage", text="hi") == (
        400, {"ok": False, "error_code": 400, "description": "Bad Request: chat_id is empty"})


async def test_missing_or_empty_text_is_400(sb, http):
    _, chat = private(sb)
    for params in ({}, {"text": ""}, {"text": "<b> </b>", "parse_mode": "HTML"}):
        status, body = await call(http, sb, "sendMessage", chat_id=chat.id, **params)
        assert (status, body["description"]) == (400, "Bad Request: message text is empty")


async def test_unknown_chat_is_chat_not_found(sb, http):
    status, body = await call(http, sb, "sendMessage", chat_id=-100777, text="hi")
    assert (status, body["description"]) == (400, "Bad Request: chat not found")


async def test_paragraph_reply_is_refused_over_http(sb, http):
    _, chat = private(sb)
    status, body = await call(http, sb, "sendMessage", form=True, chat_id=str(chat.id),
                              text="<p>Hello</p>", parse_mode="HTML")
    assert status == 400
    assert body["description"] == ("Bad Request: can't parse entities: "
                                   'Unsupported start tag "p" at byte offset 0')
    assert sb.messages(chat) == []


async def test_text_limit_counts_characters_after_parsing(sb, http):
    _, chat = private(sb)
    ok, _ = await call(http, sb, "sendMessage", chat_id=chat.id,
                       text="<b>" + "a" * 4096 + "</b>", parse_mode="HTML")
    escaped, _ = await call(http, sb, "sendMessage", chat_id=chat.id,
                            text="&lt;" * 4096, parse_mode="HTML")
    status, body = await call(http, sb, "sendMessage", chat_id=chat.id, text="a" * 4097)
    assert (ok, escaped) == (200, 200)
    assert (status, body["description"]) == (400, "Bad Request: message is too long")


async def test_caption_limit_is_1024(sb, http):
    _, chat = private(sb)
    url = f"{sb.api_url}{sb.token}/sendPhoto"
    for caption, expected in (("c" * 1024, 200), ("c" * 1025, 400)):
        form = aiohttp.FormData()
        form.add_field("chat_id", str(chat.id))
        form.add_field("caption", caption)
        form.add_field("photo", PNG, filename="p.png", content_type="image/png")
        async with http.post(url, data=form) as resp:
            body = await resp.json()
            assert resp.status == expected, body
    assert body["description"] == "Bad Request: message caption is too long"


async def test_more_than_100_entities_is_refused(sb, http):
    _, chat = private(sb)
    ok, _ = await call(http, sb, "sendMessage", chat_id=chat.id, text="<b>a</b> " * 100,
                       parse_mode="HTML")
    status, body = await call(http, sb, "sendMessage", chat_id=chat.id,
                              text="<b>a</b> " * 101, parse_mode="HTML")
    assert ok == 200
    assert (status, body["description"]) == (400, "Bad Request: too many entities")


async def test_callback_data_over_64_bytes_is_button_data_invalid(sb, http):
    _, chat = private(sb)

    def keyboard(data):
        return {"inline_keyboard": [[{"text": "Go", "callback_data": data}]]}
    ok, _ = await call(http, sb, "sendMessage", chat_id=chat.id, text="x",
                       reply_markup=keyboard("é" * 32))
    status, body = await call(http, sb, "sendMessage", chat_id=chat.id, text="x",
                              reply_markup=keyboard("a" * 65))
    assert ok == 200
    assert (status, body["description"]) == (400, "Bad Request: BUTTON_DATA_INVALID")


@pytest.mark.parametrize("button, wording", [
    ({"text": "plain"}, "Text buttons are unallowed in the inline keyboard"),
    ({"callback_data": "x"}, 'Field "text" must be of type String'),
    ({"text": "two", "callback_data": "x", "url": "https://example.com"}, "exactly one"),
    ({"text": "bad", "url": "not a url"}, "BUTTON_URL_INVALID"),
])
async def test_inline_buttons_are_validated(sb, http, button, wording):
    _, chat = private(sb)
    status, body = await call(http, sb, "sendMessage", chat_id=chat.id, text="x",
                              reply_markup={"inline_keyboard": [[button]]})
    assert status == 400 and wording in body["description"]


async def test_unsupported_parse_mode_and_unknown_parameter(sb, http):
    _, chat = private(sb)
    status, body = await call(http, sb, "sendMessage", chat_id=chat.id, text="x",
                              parse_mode="BBCode")
    assert (status, body["description"]) == (400, "Bad Request: unsupported parse_mode")
    status, body = await call(http, sb, "sendMessage", chat_id=chat.id, text="x",
                              parse_mod="HTML")
    assert status == 400 and "parse_mod" in body["description"]


async def test_edit_rules(sb, http):
    _, chat = private(sb)
    _, sent = await call(http, sb, "sendMessage", chat_id=chat.id, text="<b>v1</b>",
                         parse_mode="HTML")
    mid = sent["result"]["message_id"]
    same = await call(http, sb, "editMessageText", chat_id=chat.id, message_id=mid,
                      text="<b>v1</b>", parse_mode="HTML")
    assert same[0] == 400 and same[1]["description"].startswith(
        "Bad Request: message is not modified")
    missing = await call(http, sb, "editMessageText", chat_id=chat.id, message_id=99, text="x")
    assert missing[1]["description"] == "Bad Request: message to edit not found"
    status, edited = await call(http, sb, "editMessageText", chat_id=chat.id, message_id=mid,
                                text="v2")
    assert status == 200 and edited["result"]["text"] == "v2"
    [record] = sb.messages(chat)
    assert (record["text"], record["edits"]) == ("v2", 1)
    assert [e["method"] for e in sb.log(chat)] == ["sendMessage", "editMessageText"]


async def test_message_ids_increase_per_chat(sb, http):
    _, a = private(sb, "A")
    _, b = private(sb, "B")
    ids = []
    for chat in (a, a, b, a):
        _, body = await call(http, sb, "sendMessage", chat_id=chat.id, text="x")
        ids.append((chat.id, body["result"]["message_id"]))
    assert ids == [(a.id, 1), (a.id, 2), (b.id, 1), (a.id, 3)]


async def test_group_admins_are_visible_through_get_chat_member(sb, http):
    owner, admin, member = sb.add_user("O"), sb.add_user("A"), sb.add_user("M")
    group = sb.group("Team", members=[member], admins=[admin], owner=owner)
    statuses = []
    for user in (owner, admin, member, sb.add_user("Stranger")):
        _, body = await call(http, sb, "getChatMember", chat_id=group.id, user_id=user.id)
        statuses.append(body["result"]["status"])
    assert statuses == ["creator", "administrator", "member", "left"]


async def test_forum_topics(sb, http):
    user = sb.add_user("Ann")
    forum = sb.forum("News", topics=("Tech",), members=[user])
    tech = sb.topic_id(forum, "Tech")
    msg = sb.send_text(forum, user, "/digest", thread_id=tech)
    assert msg["message_thread_id"] == tech and msg["is_topic_message"]
    status, body = await call(http, sb, "sendMessage", chat_id=forum.id, text="x",
                              message_thread_id=tech)
    assert status == 200 and body["result"]["message_thread_id"] == tech
    status, body = await call(http, sb, "sendMessage", chat_id=forum.id, text="x",
                              message_thread_id=4242)
    assert (status, body["description"]) == (400, "Bad Request: message thread not found")


# --- flood limits and violations ----------------------------------------------------------

async def test_429_carries_retry_after_and_early_retries_are_violations(http):
    clock = FakeClock()
    limits = FloodLimits(overall=Rate(100, 1.0), private=Rate(1, 1.0, burst=2),
                         group=Rate(2, 60.0))
    async with Sandbox.running(limits=limits, clock=clock) as sb:
        _, chat = private(sb)
        statuses = [(await call(http, sb, "sendMessage", chat_id=chat.id, text="x"))[0]
                    for _ in range(2)]
        status, body = await call(http, sb, "sendMessage", chat_id=chat.id, text="x")
        assert statuses == [200, 200] and status == 429
        assert body == {"ok": False, "error_code": 429,
                        "description": "Too Many Requests: retry after 1",
                        "parameters": {"retry_after": 1}}
        assert sb.violations == []
        clock.t += 0.5  # the client did not wait
        status, _ = await call(http, sb, "sendMessage", chat_id=chat.id, text="x")
        assert status == 429 and len(sb.violations) == 1
        assert sb.violations[0].chat_id == chat.id
        clock.t += 0.5  # now it waited retry_after
        status, _ = await call(http, sb, "sendMessage", chat_id=chat.id, text="x")
        assert status == 200 and len(sb.violations) == 1

        group = sb.group("G")
        for _ in range(2):
            assert (await call(http, sb, "sendMessage", chat_id=group.id, text="x"))[0] == 200
        status, body = await call(http, sb, "sendMessage", chat_id=group.id, text="x")
        assert status == 429 and body["parameters"]["retry_after"] == 30
        assert len(sb.violations) == 1


async def test_limits_are_off_by_default(sb, http):
    _, chat = private(sb)
    for _ in range(10):
        assert (await call(http, sb, "sendMessage", chat_id=chat.id, text="x"))[0] == 200


# --- faults -------------------------------------------------------------------------------

async def test_blocked_and_chat_not_found_faults(sb, http):
    _, chat = private(sb)
    sb.fault("blocked", chat=chat)
    status, body = await call(http, sb, "sendMessage", chat_id=chat.id, text="x")
    assert (status, body["description"]) == (403, "Forbidden: bot was blocked by the user")
    assert (await call(http, sb, "sendMessage", chat_id=chat.id, text="x"))[0] == 200  # one-shot
    sb.fault("chat_not_found", chat=chat, times=None)
    for _ in range(2):
        status, body = await call(http, sb, "sendMessage", chat_id=chat.id, text="x")
        assert (status, body["description"]) == (400, "Bad Request: chat not found")
    sb.clear_faults()
    assert (await call(http, sb, "sendMessage", chat_id=chat.id, text="x"))[0] == 200
    assert len(sb.messages(chat)) == 2


async def test_migrated_group_answers_with_new_id(sb, http):
    group = sb.group("Old")
    supergroup = sb.migrate(group)
    status, body = await call(http, sb, "sendMessage", chat_id=group.id, text="x")
    assert status == 400 and body == {
        "ok": False, "error_code": 400,
        "description": "Bad Request: group chat was upgraded to a supergroup chat",
        "parameters": {"migrate_to_chat_id": supergroup.id}}
    assert (await call(http, sb, "sendMessage", chat_id=supergroup.id, text="x"))[0] == 200
    async with telegram.Bot(sb.token, base_url=sb.api_url) as bot:
        with pytest.raises(telegram.error.ChatMigrated) as err:
            await bot.send_message(group.id, "x")
    assert err.value.new_chat_id == supergroup.id


async def test_flood_fault_then_violation_when_ignored(sb, http):
    _, chat = private(sb)
    sb.fault("flood", chat=chat, retry_after=7)
    status, body = await call(http, sb, "sendMessage", chat_id=chat.id, text="x")
    assert status == 429 and body["parameters"] == {"retry_after": 7}
    status, _ = await call(http, sb, "sendMessage", chat_id=chat.id, text="x")
    assert status == 429 and len(sb.violations) == 1


async def test_server_errors_and_slow_but_delivered(sb, http):
    _, chat = private(sb)
    sb.fault("server_error", chat=chat)
    sb.fault("bad_gateway", chat=chat)
    assert (await call(http, sb, "sendMessage", chat_id=chat.id, text="x"))[0] == 500
    assert (await call(http, sb, "sendMessage", chat_id=chat.id, text="x"))[0] == 502
    sb.fault("slow", chat=chat, delay=0.6, deliver=True)
    async with telegram.Bot(sb.token, base_url=sb.api_url) as bot:
        with pytest.raises(telegram.error.TimedOut):
            await bot.send_message(chat.id, "late", read_timeout=0.2)
    assert [m["text"] for m in sb.messages(chat)] == ["late"]


def test_random_faults_are_reproducible_with_a_seed():
    def pattern():
        fault = Fault("server_error", times=None, probability=0.5, seed=42)
        return [fault.matches("sendMessage", 1) and fault.roll() for _ in range(40)]
    first = pattern()
    assert first == pattern() and 5 < sum(first) < 35


# --- updates ------------------------------------------------------------------------------

async def test_long_polling_wakes_when_a_message_arrives(sb, http):
    user, chat = private(sb)
    poll = asyncio.create_task(call(http, sb, "getUpdates", timeout=10))
    await asyncio.sleep(0.2)
    assert not poll.done()
    sb.send_text(chat, user, "/start")
    status, body = await asyncio.wait_for(poll, 2)
    [update] = body["result"]
    assert update["message"]["text"] == "/start"
    assert update["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    # not confirmed yet: delivered again; an offset past it confirms it
    assert len((await call(http, sb, "getUpdates"))[1]["result"]) == 1
    _, body = await call(http, sb, "getUpdates", offset=update["update_id"] + 1)
    assert body["result"] == [] and sb.pending_updates() == []


async def test_second_poller_terminates_the_first_with_409(sb, http):
    first = asyncio.create_task(call(http, sb, "getUpdates", timeout=10))
    await asyncio.sleep(0.2)
    second = asyncio.create_task(call(http, sb, "getUpdates", timeout=1))
    status, body = await asyncio.wait_for(first, 2)
    assert status == 409 and body["description"].startswith("Conflict: terminated by other")
    assert (await second)[0] == 200


async def test_privacy_mode_hides_plain_group_chatter(sb, http):
    user = sb.add_user("Ann")
    group = sb.group("G", members=[user])
    sb.send_text(group, user, "just chatting")
    sb.send_text(group, user, "/help")
    assert [u["message"]["text"] for u in sb.pending_updates()] == ["/help"]


# --- python-telegram-bot against the sandbox -----------------------------------------------

async def test_ptb_bot_round_trip(sb):
    user, chat = private(sb)
    async with telegram.Bot(sb.token, base_url=sb.api_url) as bot:
        me = await bot.get_me()
        assert (me.id, me.username) == (123456, "newsbot_test_bot")
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("More", callback_data="more")]])
        sent = await bot.send_message(chat.id, "<b>Digest</b>", parse_mode="HTML",
                                      reply_markup=keyboard)
        assert sent.text == "Digest" and sent.entities[0].type == "bold"
        edited = await bot.edit_message_text("Digest, page 2", chat_id=chat.id,
                                             message_id=sent.message_id, reply_markup=keyboard)
        assert edited.edit_date is not None
        sb.press(chat, user, sent.message_id, "more")
        [update] = await bot.get_updates()
        assert update.callback_query.data == "more"
        assert await bot.answer_callback_query(update.callback_query.id, text="ok")
        with pytest.raises(telegram.error.BadRequest, match="[Qq]uery is too old"):
            await bot.answer_callback_query(update.callback_query.id)
        await bot.send_photo(chat.id, PNG, caption="<i>chart</i>", parse_mode="HTML")
        await bot.send_document(chat.id, b"a,b\n1,2\n", filename="digest.csv")
        await bot.send_chat_action(chat.id, "typing")
        await bot.set_my_commands([("start", "Start the bot")])
        assert [c.command for c in await bot.get_my_commands()] == ["start"]
    assert sb.callback_answers[0]["text"] == "ok"
    kinds = [m["method"] for m in sb.messages(chat)]
    assert kinds == ["sendMessage", "sendPhoto", "sendDocument"]
    assert sb.messages(chat)[1]["caption"] == "chart"


async def test_ptb_application_answers_start_by_polling(sb):
    user, chat = private(sb)

    async def start(update, context):
        await update.effective_message.reply_text(
            f"Hello, <b>{update.effective_user.first_name}</b>!", parse_mode="HTML",
            reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("Hi", callback_data="hi")]]))

    async def button(update, context):
        await update.callback_query.answer("pressed")
        await update.callback_query.edit_message_text("Pressed")

    app = Application.builder().token(sb.token).base_url(sb.api_url).build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(button))
    await app.initialize()
    await app.start()
    await app.updater.start_polling(poll_interval=0.0, timeout=1)
    try:
        sb.send_text(chat, user, "/start")
        [reply] = await sb.wait_for(chat, 1, timeout=10)
        assert reply["text"] == "Hello, Ann!" and reply["parse_mode"] == "HTML"
        sb.press(chat, user, reply["message_id"], "hi")
        for _ in range(200):
            if sb.messages(chat)[0]["edits"]:
                break
            await asyncio.sleep(0.02)
        assert sb.messages(chat)[0]["text"] == "Pressed"
        assert sb.callback_answers[0]["text"] == "pressed"
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()


# --- the HTTP control API and the spec fallback --------------------------------------------

async def test_http_control_api_drives_a_chat(sb, http):
    base = f"{sb.base_url}/sandbox"
    async with http.post(f"{base}/add_user", json={"first_name": "Ann"}) as resp:
        user = (await resp.json())["result"]
    async with http.post(f"{base}/private_chat", json={"user": user["id"]}) as resp:
        chat = (await resp.json())["result"]
    async with http.post(f"{base}/send_text",
                         json={"chat": chat["id"], "user": user["id"], "text": "/start"}) as resp:
        assert (await resp.json())["result"]["entities"][0]["type"] == "bot_command"
    await call(http, sb, "sendMessage", chat_id=chat["id"], text="welcome")
    async with http.get(f"{base}/wait_for", params={"chat": chat["id"], "count": 1}) as resp:
        assert [m["text"] for m in (await resp.json())["result"]] == ["welcome"]
    async with http.post(f"{base}/fault", json={"kind": "blocked", "chat": chat["id"]}) as resp:
        assert (await resp.json())["result"]["kind"] == "blocked"
    assert (await call(http, sb, "sendMessage", chat_id=chat["id"], text="x"))[0] == 403
    async with http.get(f"{base}/requests") as resp:
        assert [r["status"] for r in (await resp.json())["result"]] == [200, 403]
    async with http.get(f"{base}/nope") as resp:
        assert resp.status == 404


async def test_required_parameters_hold_without_the_spec_file(http):
    async with Sandbox.running(spec_path=None) as sb:
        assert "built-in" in sb.spec.version
        assert (await call(http, sb, "sendMessage", text="x"))[1]["description"] == \
            "Bad Request: chat_id is empty"
        assert (await call(http, sb, "sendPoll", chat_id=1, question="q"))[0] == 404
        # the methods it implements are built in, webhooks and inline answers included
        assert (await call(http, sb, "setWebhook", url="https://x.org"))[1]["description"] == \
            "Bad Request: bad webhook: the sandbox connects to loopback addresses only " \
            "(127.0.0.0/8, ::1, localhost)"
        assert (await call(http, sb, "answerInlineQuery", results=[]))[1]["description"] == \
            "Bad Request: QUERY_ID_INVALID"


def test_text_limit_counts_utf16_code_units_as_telegram_does():
    from sandbox.errors import ApiError
    from sandbox.markup import MAX_TEXT, formatted

    plain, _ = formatted("😀" * (MAX_TEXT // 2), "HTML", None)  # 2,048 emoji = 4,096 units: the most allowed
    assert len(plain) == MAX_TEXT // 2
    with pytest.raises(ApiError, match="message is too long"):
        formatted("😀" * (MAX_TEXT // 2) + "a", "HTML", None)
