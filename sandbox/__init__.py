"""A local Telegram Bot API for tests and demos: the real python-telegram-bot talks to it.

It answers the methods newsbot uses as strictly as Telegram (official 10.1 spec for method
names and parameters, Telegram's HTML/MarkdownV2 parsers and limits, Telegram's error
wording), and lets a test play the users, break things on purpose and read what each chat got.

Run it
    async with Sandbox.running(port=0, limits=False) as sb:      # in-process, for tests
        app = Application.builder().token(sb.token).base_url(sb.api_url).build()
    python -m sandbox --port 8081 [--limits]                  # standalone
    sandbox.server.serve_forever(port, host="127.0.0.1", limits=False)

    sb.base_url = "http://127.0.0.1:<port>", sb.api_url = sb.base_url + "/bot" (PTB base_url),
    sb.token = "123456:TEST-TOKEN" (bot id 123456, @newsbot_test_bot). Sandbox(...) options:
    token, extra_tokens, bot_username, limits (bool | FloodLimits), strict, privacy_mode,
    bot_is_admin, callback_ttl (callback and inline query answers), inline=True (getMe's
    supports_inline_queries), inline_feedback=False (chosen_inline_result updates),
    webhook_retry=(0.5, 8.0) (first and longest pause between webhook retries, seconds),
    webhook_timeout=10.0, spec_path, now (unix clock), clock (monotonic, flood control).

Play the users (Python; the same names over HTTP as /sandbox/<name>, see below)
    u = sb.add_user("Ann", username="ann", language_code="en")    -> User (.id, .to_api())
    chat = sb.private_chat(u)                                     -> Chat (id == user id)
    g = sb.group("Team", members=[u], admins=[...], owner=u)      -> Chat (basic group)
    s = sb.supergroup("Big", ...); f = sb.forum("News", topics=("Tech", "Art"))
    sb.topic_id(f, "Tech"), sb.add_topic(f, "Sport"), sb.add_member(g, u), sb.set_admin(g, u)
    new = sb.migrate(g)           # group -> supergroup; old id answers migrate_to_chat_id
    msg = sb.send_text(chat, u, "/start", thread_id=None)  # queues an update; "/cmd" gets
                                  # its bot_command entity. Privacy mode (default on): in groups
                                  # the bot only sees commands, replies to it and @mentions.
    q = sb.press(chat, u, message_id, "data")  # callback_query on a button the bot sent
    sb.add_member(chat, u, status="member"|"administrator"|"creator"|"kicked"|"left")
    sb.set_admin(chat, u, admin=True, rights={"can_post_messages": False})  # the bot: see below

Channels and the bot's own membership (each change queues my_chat_member with
old_chat_member/new_chat_member as Telegram sends them, "from" the admin who did it)
    ch = sb.channel("News", username="news_ch", owner=u, admins=[...], members=[...],
                    bot="administrator" | None, can_post_messages=True, bot_rights=None)
                                  -> Chat (type "channel", id -1002...); the owner (created if
                                  None) adds the bot, queueing my_chat_member left -> administrator
    sb.add_bot(chat, by=None, admin=True, can_post_messages=True, rights=None)   -> the update
    sb.promote_bot(chat, by=None, can_post_messages=True, rights=None)  # also: change rights
    sb.demote_bot(chat, by=None)                  # administrator -> member
    sb.remove_bot(chat, by=None, ban=False)       # -> left (ban=True: kicked)
    sb.set_bot_status(chat, "administrator"|"member"|"left"|"kicked", by=None, rights=None)
                                  by: an admin of the chat (default: the owner, else any admin)
    sb.channel_post(ch, "text", author=None, signature=None, entities=None)
                                  -> Message (sender_chat = the channel, no from); the bot gets
                                  channel_post while it is in the channel
    sb.chat_member(chat, u)       the ChatMember getChatMember would answer
  The bot's posts in a channel carry sender_chat, no from (sb.messages(ch) as for any chat).
  Refusals: sendMessage/sendPhoto/... to a channel where the bot is a member without
  can_post_messages, or was demoted: 400 "need administrator rights in the channel chat";
  removed: 403 "bot is not a member of the channel chat"; banned: 403 "bot was kicked from the
  channel chat" (groups: "... the group chat" / "supergroup chat"). A private channel the bot
  never joined is 400 "chat not found" by id; public ones resolve by @username (getChat works).
  getChatMember/getChatAdministrators in a channel need the bot to be an administrator (else
  400 "member list is inaccessible" / 403 not a member); administrators carry can_post_messages
  and can_edit_messages in channels, can_pin_messages in groups, can_manage_topics in forums.

Inline mode
    q = sb.inline_query(u, "query", offset="", chat=None, chat_type=None, use_cache=True)
                                  -> InlineQuery (id, from, query, offset, chat_type: "sender"
                                  in the user's private chat with the bot, else the chat's type);
                                  while Telegram caches an answer to the same query and offset
                                  (cache_time; per user when is_personal) nothing reaches the bot
                                  and the earlier query comes back with "from_cache": true
    answer = await sb.wait_inline_answer(q["id"], timeout=5.0)
                                  -> inline_query_id, query, offset, from, results (as sent),
                                  cache_time, is_personal, next_offset, button, date
    sb.inline_answers             every accepted answer
    msg = sb.choose_inline_result(q["id"], "result id", chat=None)
                                  the user picks a result: posted in `chat` (default: where they
                                  typed, else their private chat with the bot) with via_bot, in
                                  sb.messages(chat) as method "chosenInlineResult" (via_bot,
                                  sender, result_id); the bot sees it as a message (channel_post
                                  in channels); chosen_inline_result follows when feedback is on,
                                  with inline_message_id when the result has an inline keyboard
                                  (editMessageText/ReplyMarkup by inline_message_id answer True)
    sb.set_inline(enabled=None, feedback=None)
  answerInlineQuery is checked as Telegram does: at most 50 results (RESULTS_TOO_MUCH), ids of
  1-64 bytes (RESULT_ID_INVALID) and unique (RESULT_ID_DUPLICATE), required fields per type for
  all 20 result types ('can't parse inline query result: Can't find field "title"'), http(s)
  URLs (WEBDOCUMENT_URL_INVALID), input_message_content parsed like sendMessage (HTML, limits),
  inline keyboards only, next_offset <= 64 bytes (NEXT_OFFSET_INVALID), button start_parameter
  (START_PARAM_INVALID); an unknown id is QUERY_ID_INVALID, a late or second answer "query is
  too old and response timeout expired or query ID is invalid".

Webhooks
    setWebhook: https URLs, or http on loopback; the sandbox only ever connects to loopback
    (127.0.0.0/8, ::1, localhost: any other host is refused with "bad webhook: ...", and checked
    again before each connection; redirects are not followed); secret_token 1-256 characters of
    [A-Za-z0-9_-] ("secret token contains unallowed characters"); allowed_updates,
    drop_pending_updates, max_connections (clamped to 1..100), an empty url removes it. Answers
    carry Telegram's description ("Webhook was set", "Webhook is already set", "Webhook was
    deleted"). While set, each update is POSTed as JSON, in order, one at a time, with header
    X-Telegram-Bot-Api-Secret-Token; anything but 2xx is retried after pauses doubling from
    webhook_retry[0] to webhook_retry[1] (a new setWebhook retries at once) and shows in
    getWebhookInfo (pending_update_count, last_error_date, last_error_message: "Wrong response
    from the webhook: 500 Internal Server Error", "Connection refused", "Read timeout expired").
    getUpdates answers 409 "Conflict: can't use getUpdates method while webhook is active; use
    deleteWebhook to delete the webhook first" (a long poll in progress ends the same way).
    sb.webhook_info()             what getWebhookInfo answers
    sb.webhook_deliveries         every POST: update_id, url, attempt, error (None: 2xx), at
    await sb.wait_webhook_idle(timeout=5.0)   until set and nothing is pending

Read what happened
    sb.messages(chat)   the bot's messages now: method, message_id, date, text, entities,
                        parse_mode, source (text as sent), reply_markup, message_thread_id,
                        photo / document, caption, caption_entities, edit_date, edits, deleted
    sb.log(chat)        every successful send / edit / delete / chat action / callback answer
    await sb.wait_for(chat, count, timeout=5.0)   until the chat received `count` messages
    sb.requests         every Bot API call: method, chat_id, params, status, description
    sb.callback_answers, sb.commands(scope="default"), sb.pending_updates()

Break things
    sb.fault(kind, chat=None, methods=None, thread=None, times=1, probability=1.0, seed=None,
             retry_after=5, delay=0.0, deliver=False, status=400, description="", parameters=None)
        kinds: blocked (403), kicked (403), deactivated (403), chat_not_found (400),
        topic_closed (400 TOPIC_CLOSED), topic_deleted (400 message thread not found),
        no_photo_rights (400 not enough rights to send photos), server_error (500),
        bad_gateway (502), flood (429 + retry_after), slow (sleep `delay`; deliver=True stores
        the message anyway, else 504), custom (status/description).
        chat=None hits every chat; methods=None hits every call naming a chat (list e.g.
        ["getUpdates"] to hit polling); thread=N hits only calls with message_thread_id N
        (one forum topic); times=None keeps it until sb.clear_faults();
        probability < 1 with a seed gives a reproducible random sequence.
    Flood limits (off by default; Sandbox(limits=True) or a FloodLimits with smaller Rates):
        30/s per bot, 1/s per private chat after a burst of 3, 20/min per group or channel
        (FloodLimits.channel, default None: as group), on limits.LIMITED_METHODS. A 429 carries parameters.retry_after (int >= 1); any request
        for that scope before it expires is recorded in sb.violations (and refused again).

Strictness beyond Telegram (each would be a silent bug on the real API)
    a bare "&" in HTML is refused (Telegram keeps it literally); more than 100 entities is
    refused ("too many entities"; Telegram drops the rest); an inline button with two action
    fields is refused; parameters the method doesn't take are refused (strict=True).
    Methods in the spec that the sandbox doesn't implement answer 400 "... not implemented".

HTTP control API (JSON; arguments as body or query, keyword names as above)
    GET  /sandbox/info                  base_url, api_url, token, bot
    POST /sandbox/add_user {"first_name": "Ann"}   POST /sandbox/private_chat {"user": 1001}
    POST /sandbox/send_text {"chat": 1001, "user": 1001, "text": "/start"}
    GET  /sandbox/messages?chat=1001    GET /sandbox/wait_for?chat=1001&count=1&timeout=5
    POST /sandbox/fault {"kind": "blocked", "chat": 1001}   GET /sandbox/violations
    POST /sandbox/set_limits {"limits": true}
    POST /sandbox/channel {"title": "News", "username": "news_ch", "owner": 1001}
    POST /sandbox/promote_bot {"chat": -1002000000000001, "can_post_messages": false}
    POST /sandbox/demote_bot | remove_bot | add_bot | set_bot_status | channel_post | chat_member
    POST /sandbox/inline_query {"user": 1001, "query": "news"}
    GET  /sandbox/wait_inline_answer?query_id=...   POST /sandbox/choose_inline_result
    POST /sandbox/set_inline {"feedback": true}      GET /sandbox/inline_answers
    GET  /sandbox/webhook_info   GET /sandbox/wait_webhook_idle   GET /sandbox/webhook_deliveries

The HTML parser is a pure function: `from sandbox.entities import parse_html,
EntityParseError`; `parse_html(text) -> (plain_text, entities)` with UTF-16 offsets.
"""
from sandbox.entities import EntityParseError, parse_html
from sandbox.faults import Fault
from sandbox.limits import FloodLimits, Rate, Violation
from sandbox.server import DEFAULT_TOKEN, Sandbox, serve_forever
from sandbox.state import Chat, SandboxError, User

__all__ = [
    "DEFAULT_TOKEN", "Chat", "EntityParseError", "Fault", "FloodLimits", "Rate", "Sandbox",
    "SandboxError", "User", "Violation", "parse_html", "serve_forever",
]
