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
    bot_is_admin, callback_ttl, spec_path, now (unix clock), clock (monotonic, flood control).

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
        30/s per bot, 1/s per private chat after a burst of 3, 20/min per group, on
        limits.LIMITED_METHODS. A 429 carries parameters.retry_after (int >= 1); any request
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
