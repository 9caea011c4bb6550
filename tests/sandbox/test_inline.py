"""Inline mode in the sandbox: inline queries, answerInlineQuery checked like Telegram, chosen results."""
from __future__ import annotations

import pytest
import telegram
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InlineQueryResultPhoto,
    InputTextMessageContent,
)

from sandbox import Sandbox
from tests.sandbox.calls import call, control, updates_of


def article(rid="1", text="<b>Title</b> body", **extra):
    return {"type": "article", "id": rid, "title": "Title",
            "input_message_content": {"message_text": text, "parse_mode": "HTML"}, **extra}


def test_typing_at_bot_queues_an_inline_query(sb):
    ann = sb.add_user("Ann", language_code="zh-hans")
    q = sb.inline_query(ann, "金融 since:7d", chat=sb.private_chat(ann))
    assert q["query"] == "金融 since:7d" and q["offset"] == "" and q["chat_type"] == "sender"
    assert q["from"]["id"] == ann.id and q["from"]["language_code"] == "zh-hans"
    assert updates_of(sb, "inline_query") == [q]
    group = sb.supergroup("Team", members=[ann])
    assert sb.inline_query(ann, "x", chat=group)["chat_type"] == "supergroup"
    assert sb.inline_query(ann, "y", chat_type="private")["chat_type"] == "private"
    assert "chat_type" not in sb.inline_query(ann, "z")


async def test_get_me_says_inline_mode_is_on(sb, http):
    _, body = await call(http, sb, "getMe")
    assert body["result"]["supports_inline_queries"] is True
    sb.set_inline(enabled=False)
    _, body = await call(http, sb, "getMe")
    assert body["result"]["supports_inline_queries"] is False
    with pytest.raises(ValueError, match="inline mode is off"):
        sb.inline_query(sb.add_user("Ann"), "x")


async def test_an_answer_is_recorded_as_sent(sb, http):
    ann = sb.add_user("Ann")
    q = sb.inline_query(ann, "news")
    results = [article("a1", description="from Sina · 2024-05-01",
                       thumbnail_url="https://example.com/t.jpg", url="https://example.com/a1"),
               {"type": "photo", "id": "p1", "photo_url": "https://example.com/p.jpg",
                "thumbnail_url": "https://example.com/t.jpg", "caption": "<i>lead</i>",
                "parse_mode": "HTML"}]
    status, body = await call(http, sb, "answerInlineQuery", inline_query_id=q["id"],
                              results=results, cache_time=30, is_personal=True, next_offset="20")
    assert (status, body["result"]) == (200, True)
    answer = await sb.wait_inline_answer(q["id"])
    assert answer["results"] == results and answer["query"] == "news" and answer["from"] == ann.id
    assert (answer["cache_time"], answer["is_personal"], answer["next_offset"]) == (30, True, "20")
    assert sb.inline_answers == [answer]


@pytest.mark.parametrize("results, description", [
    ([article(str(n)) for n in range(51)], "Bad Request: RESULTS_TOO_MUCH"),
    ([article("x" * 65)], "Bad Request: RESULT_ID_INVALID"),
    ([article("")], "Bad Request: RESULT_ID_INVALID"),
    ([{**article(), "id": None}], 'Bad Request: can\'t parse inline query result: Can\'t find field "id"'),
    ([article("同" * 22)], "Bad Request: RESULT_ID_INVALID"),  # 66 bytes in UTF-8
    ([article("1"), article("1")], "Bad Request: RESULT_ID_DUPLICATE"),
    ([{"type": "banner", "id": "1"}],
     'Bad Request: can\'t parse inline query result: Unsupported inline query result type "banner"'),
    ([{"type": "article", "id": "1", "title": "T"}],
     'Bad Request: can\'t parse inline query result: Can\'t find field "input_message_content"'),
    ([{"type": "article", "id": "1", "input_message_content": {"message_text": "x"}}],
     'Bad Request: can\'t parse inline query result: Can\'t find field "title"'),
    ([{"type": "photo", "id": "1", "photo_url": "https://example.com/p.jpg"}],
     'Bad Request: can\'t parse inline query result: Can\'t find field "thumbnail_url"'),
    ([{"type": "photo", "id": "1", "photo_url": "ftp://example.com/p.jpg",
       "thumbnail_url": "https://example.com/t.jpg"}], "Bad Request: WEBDOCUMENT_URL_INVALID"),
    ([article(text="Q&A <p>")], "Bad Request: can't parse entities: "),
    ([article(text="<b>open")], "Bad Request: can't parse entities: Can't find end tag"),
    ([article(text="x" * 4097)], "Bad Request: message is too long"),
    ([article(text="   ")], "Bad Request: message text is empty"),
    ([article(reply_markup={"keyboard": [["a"]]})],
     "Bad Request: can't parse inline keyboard markup JSON object"),
])
async def test_answers_telegram_refuses(sb, http, results, description):
    q = sb.inline_query(sb.add_user("Ann"), "x")
    status, body = await call(http, sb, "answerInlineQuery", inline_query_id=q["id"], results=results)
    assert status == 400 and body["description"].startswith(description)
    assert sb.inline_answers == []
    # the query can still be answered properly
    status, _ = await call(http, sb, "answerInlineQuery", inline_query_id=q["id"], results=[article()])
    assert status == 200


async def test_every_result_type_of_the_spec_is_known(sb, http):
    q = sb.inline_query(sb.add_user("Ann"), "x")
    results = [
        {"type": "photo", "id": "1", "photo_file_id": "AgAD"},
        {"type": "gif", "id": "2", "gif_url": "https://e.com/a.gif", "thumbnail_url": "https://e.com/t.jpg"},
        {"type": "document", "id": "3", "title": "PDF", "document_url": "https://e.com/a.pdf",
         "mime_type": "application/pdf"},
        {"type": "location", "id": "4", "latitude": 31.2, "longitude": 121.5, "title": "Shanghai"},
        {"type": "venue", "id": "5", "latitude": 31.2, "longitude": 121.5, "title": "Bund",
         "address": "Zhongshan Rd"},
        {"type": "contact", "id": "6", "phone_number": "+8613800000000", "first_name": "Li"},
        {"type": "video", "id": "7", "video_url": "https://e.com/v.mp4", "mime_type": "video/mp4",
         "thumbnail_url": "https://e.com/t.jpg", "title": "V"},
        {"type": "article", "id": "8", "title": "Where",
         "input_message_content": {"latitude": 1.0, "longitude": 2.0}},
    ]
    status, body = await call(http, sb, "answerInlineQuery", inline_query_id=q["id"], results=results)
    assert status == 200, body


@pytest.mark.parametrize("params, description", [
    ({"next_offset": "o" * 65}, "Bad Request: NEXT_OFFSET_INVALID"),
    ({"button": {"text": "Settings", "start_parameter": "bad param!"}}, "Bad Request: START_PARAM_INVALID"),
    ({"button": {"text": "Settings"}}, "Bad Request: can't parse InlineQueryResultsButton"),
])
async def test_answer_options_are_checked(sb, http, params, description):
    q = sb.inline_query(sb.add_user("Ann"), "x")
    status, body = await call(http, sb, "answerInlineQuery", inline_query_id=q["id"],
                              results=[article()], **params)
    assert status == 400 and body["description"].startswith(description)
    status, _ = await call(http, sb, "answerInlineQuery", inline_query_id=q["id"], results=[],
                           next_offset="o" * 64, button={"text": "Subscribe", "start_parameter": "sub_abc-1"})
    assert status == 200


async def test_query_ids_are_checked(sb, http):
    clock = [1000.0]
    async with Sandbox.running(port=0, now=lambda: clock[0]) as sb:
        status, body = await call(http, sb, "answerInlineQuery", inline_query_id="12345", results=[])
        assert (status, body["description"]) == (400, "Bad Request: QUERY_ID_INVALID")
        ann = sb.add_user("Ann")
        q = sb.inline_query(ann, "late")
        clock[0] += 16
        status, body = await call(http, sb, "answerInlineQuery", inline_query_id=q["id"], results=[])
        assert body["description"] == ("Bad Request: query is too old and response timeout expired "
                                       "or query ID is invalid")
        q = sb.inline_query(ann, "twice")
        assert (await call(http, sb, "answerInlineQuery", inline_query_id=q["id"], results=[]))[0] == 200
        status, body = await call(http, sb, "answerInlineQuery", inline_query_id=q["id"], results=[])
        assert status == 400 and "query is too old" in body["description"]


async def test_telegram_serves_cached_answers_without_asking_the_bot(http):
    clock = [1000.0]
    async with Sandbox.running(port=0, now=lambda: clock[0]) as sb:
        ann, bob = sb.add_user("Ann"), sb.add_user("Bob")
        q = sb.inline_query(ann, "news")
        await call(http, sb, "answerInlineQuery", inline_query_id=q["id"], results=[article()],
                   cache_time=60)
        again = sb.inline_query(bob, "news")
        assert again["id"] == q["id"] and again["from_cache"] is True
        assert len(updates_of(sb, "inline_query")) == 1
        assert sb.inline_query(bob, "news", offset="20")["id"] != q["id"]  # another page
        clock[0] += 61
        assert "from_cache" not in sb.inline_query(bob, "news")
        # personal answers are cached per user
        p = sb.inline_query(ann, "mine")
        await call(http, sb, "answerInlineQuery", inline_query_id=p["id"], results=[article()],
                   cache_time=60, is_personal=True)
        assert sb.inline_query(ann, "mine").get("from_cache") is True
        assert "from_cache" not in sb.inline_query(bob, "mine")


async def test_choosing_a_result_posts_it_via_the_bot(sb, http):
    ann = sb.add_user("Ann")
    group = sb.supergroup("Team", members=[ann])
    q = sb.inline_query(ann, "news", chat=group)
    keyboard = {"inline_keyboard": [[{"text": "Read", "url": "https://example.com/a1"}]]}
    await call(http, sb, "answerInlineQuery", inline_query_id=q["id"],
               results=[article("a1", reply_markup=keyboard), article("a2", text="plain")])
    msg = sb.choose_inline_result(q["id"], "a1")
    assert msg["chat"]["id"] == group.id and msg["from"]["id"] == ann.id
    assert msg["via_bot"]["username"] == sb.bot.username
    assert msg["text"] == "Title body" and msg["entities"] == [{"type": "bold", "offset": 0, "length": 5}]
    assert msg["reply_markup"] == keyboard
    [rec] = sb.messages(group)
    assert rec["method"] == "chosenInlineResult" and rec["via_bot"] is True and rec["sender"] == ann.id
    assert rec["text"] == "Title body" and rec["result_id"] == "a1"
    # privacy mode lets messages via the bot through; feedback is off by default
    assert [u["message"]["via_bot"]["id"] for u in sb.pending_updates() if "message" in u] == [sb.bot.id]
    assert updates_of(sb, "chosen_inline_result") == []
    with pytest.raises(ValueError, match="no result"):
        sb.choose_inline_result(q["id"], "zzz")


async def test_chosen_inline_result_with_feedback_and_editing_by_inline_message_id(http):
    async with Sandbox.running(port=0, inline_feedback=True) as sb:
        ann = sb.add_user("Ann")
        chat = sb.private_chat(ann)
        q = sb.inline_query(ann, "news", chat=chat)
        keyboard = {"inline_keyboard": [[{"text": "More", "callback_data": "more"}]]}
        await call(http, sb, "answerInlineQuery", inline_query_id=q["id"],
                   results=[article("a1", reply_markup=keyboard), article("a2")])
        sb.choose_inline_result(q["id"], "a2")
        sb.choose_inline_result(q["id"], "a1")
        plain, keyed = updates_of(sb, "chosen_inline_result")
        assert plain == {"result_id": "a2", "from": ann.to_api(), "query": "news"}
        assert keyed["result_id"] == "a1" and keyed["inline_message_id"]
        status, body = await call(http, sb, "editMessageText", inline_message_id=keyed["inline_message_id"],
                                  text="edited")
        assert (status, body["result"]) == (200, True)
        assert sb.messages(chat)[-1]["text"] == "edited"
        status, body = await call(http, sb, "editMessageText", inline_message_id="nope", text="x")
        assert (status, body["description"]) == (400, "Bad Request: MESSAGE_ID_INVALID")


async def test_a_chosen_photo_carries_its_caption(sb, http):
    ann = sb.add_user("Ann")
    news = sb.channel("News", owner=ann)
    q = sb.inline_query(ann, "pics", chat=news)
    assert q["chat_type"] == "channel"
    await call(http, sb, "answerInlineQuery", inline_query_id=q["id"], results=[
        {"type": "photo", "id": "p", "photo_url": "https://example.com/p.jpg",
         "thumbnail_url": "https://example.com/t.jpg", "caption": "<b>lead</b>", "parse_mode": "HTML"}])
    msg = sb.choose_inline_result(q["id"], "p")
    assert msg["sender_chat"]["id"] == news.id and "from" not in msg
    assert msg["photo"][0]["file_id"] and msg["caption"] == "lead"
    assert msg["caption_entities"] == [{"type": "bold", "offset": 0, "length": 4}]
    assert updates_of(sb, "channel_post")[-1]["via_bot"]["id"] == sb.bot.id
    assert sb.messages(news)[0]["photo"]["url"] == "https://example.com/p.jpg"


async def test_python_telegram_bot_answers_and_pages(sb):
    ann = sb.add_user("Ann")
    q = sb.inline_query(ann, "金融")
    async with Bot(sb.token, base_url=sb.api_url) as bot:
        [update] = await bot.get_updates()
        iq = update.inline_query
        assert iq.query == "金融" and iq.from_user.id == ann.id
        results = [InlineQueryResultArticle(
            id=f"art{n}", title=f"Article {n}", description="Sina · 2024-05-01",
            input_message_content=InputTextMessageContent(f"<b>Article {n}</b>\nhttps://example.com/{n}",
                                                          parse_mode="HTML"),
            reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("Open", url=f"https://example.com/{n}")]]),
            thumbnail_url="https://example.com/t.jpg") for n in range(20)]
        results.append(InlineQueryResultPhoto(id="ph", photo_url="https://example.com/p.jpg",
                                              thumbnail_url="https://example.com/t.jpg"))
        assert await bot.answer_inline_query(iq.id, results, cache_time=10, next_offset="20")
        answer = await sb.wait_inline_answer(q["id"])
        assert len(answer["results"]) == 21 and answer["next_offset"] == "20"
        q2 = sb.inline_query(ann, "金融", offset="20")
        [*_, update2] = await bot.get_updates(offset=update.update_id + 1)
        assert update2.inline_query.offset == "20"
        with pytest.raises(telegram.error.BadRequest, match="(?i)RESULT_ID_DUPLICATE"):
            await bot.answer_inline_query(q2["id"], results + results[:1])
        with pytest.raises(telegram.error.BadRequest, match="(?i)QUERY_ID_INVALID"):
            await bot.answer_inline_query("424242", [])
    msg = sb.choose_inline_result(q["id"], "art3")
    assert msg["text"] == "Article 3\nhttps://example.com/3"


async def test_inline_over_the_control_api(sb, http):
    _, body = await control(http, sb, "add_user", first_name="Ann")
    ann = body["result"]["id"]
    _, body = await control(http, sb, "set_inline", feedback=True)
    assert body["result"] == {"enabled": True, "feedback": True}
    status, body = await control(http, sb, "inline_query", user=ann, query="news")
    assert status == 200
    qid = body["result"]["id"]
    await call(http, sb, "answerInlineQuery", inline_query_id=qid, results=[article("a")])
    status, body = await control(http, sb, "wait_inline_answer", query_id=qid, timeout=1)
    assert status == 200 and body["result"]["results"][0]["id"] == "a"
    async with http.get(f"{sb.base_url}/sandbox/inline_answers") as resp:
        assert len((await resp.json())["result"]) == 1
    status, body = await control(http, sb, "choose_inline_result", query_id=qid, result_id="a")
    assert status == 200 and body["result"]["chat"]["id"] == ann
    assert updates_of(sb, "chosen_inline_result")[0]["result_id"] == "a"
    status, body = await control(http, sb, "wait_inline_answer", query_id="999", timeout=0.1)
    assert status == 400
