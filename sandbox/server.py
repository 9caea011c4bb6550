"""The sandbox itself: an aiohttp server speaking the Bot API, and the `Sandbox` object that
drives it (users, chats, injected messages, faults, flood limits, what each chat received).
"""
from __future__ import annotations

import asyncio
import copy
import os
import re
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from aiohttp import web

from sandbox.control import add_control_routes
from sandbox.errors import (
    CONFLICT_POLLING,
    NOT_FOUND,
    UNAUTHORIZED,
    ApiError,
    bad_request,
    too_many_requests,
)
from sandbox.faults import Fault, FaultPlan
from sandbox.inline import InlineMode
from sandbox.limits import FloodControl, FloodLimits, Violation
from sandbox.methods import BotApi, Call
from sandbox.params import MAX_UPLOAD_BYTES, Upload, coerce, read_params
from sandbox.spec import ApiSpec, default_spec_path, load_spec
from sandbox.state import Chat, SandboxError, User, World
from sandbox.webhook import WEBHOOK_ACTIVE, Webhook

DEFAULT_TOKEN = "123456:TEST-TOKEN"
DEFAULT_USERNAME = "newsbot_test_bot"
_TOKEN_SHAPE = re.compile(r"\d+:[A-Za-z0-9_-]+")
_USE_DEFAULT_SPEC = object()


class Sandbox:
    """A local Bot API for one bot, plus the handles a test needs to play the users.

    Construct it, then `await start()` (or use `Sandbox.running(...)`); pass
    `sb.api_url` (= f"{sb.base_url}/bot") to python-telegram-bot as `base_url`.
    """

    def __init__(self, *, token: str = DEFAULT_TOKEN, extra_tokens: tuple[str, ...] = (),
                 bot_username: str = DEFAULT_USERNAME, bot_name: str = "Newsbot Test",
                 limits: bool | FloodLimits = False, strict: bool = True,
                 privacy_mode: bool = True, bot_is_admin: bool = False,
                 callback_ttl: float = 15.0, inline: bool = True, inline_feedback: bool = False,
                 webhook_retry: tuple[float, float] = (0.5, 8.0), webhook_timeout: float = 10.0,
                 spec_path: Path | None | object = _USE_DEFAULT_SPEC,
                 now: Callable[[], float] = time.time,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if not _TOKEN_SHAPE.fullmatch(token):
            raise ValueError(f"{token!r} is not shaped like a bot token (<id>:<secret>)")
        self.token = token
        self.tokens = frozenset((token, *extra_tokens))
        self.strict = strict
        self.spec: ApiSpec = load_spec(default_spec_path(dict(os.environ))
                                       if spec_path is _USE_DEFAULT_SPEC else spec_path)
        bot = User(int(token.split(":")[0]), bot_name, username=bot_username, is_bot=True)
        self.world = World(bot, now=now, privacy_mode=privacy_mode, bot_is_admin=bot_is_admin)
        self.inline = InlineMode(self.world, enabled=inline, feedback=inline_feedback,
                                 ttl=callback_ttl)
        self.webhook = Webhook(self.world, retry=(float(webhook_retry[0]), float(webhook_retry[1])),
                               timeout=webhook_timeout)
        self.api = BotApi(self.world, callback_ttl=callback_ttl, inline=self.inline,
                          webhook=self.webhook)
        self.flood = FloodControl(_limits(limits))
        self._faults = FaultPlan()
        self._clock = clock
        self._requests: list[dict] = []
        self._poll_seq = 0
        self._closing = False
        self._runner: web.AppRunner | None = None
        self.base_url: str | None = None

    # --- lifecycle ----------------------------------------------------------------------
    @classmethod
    @asynccontextmanager
    async def running(cls, port: int = 0, host: str = "127.0.0.1",
                      **options) -> AsyncIterator[Sandbox]:
        """`async with Sandbox.running(port=0, limits=False) as sb:` -- serve while inside."""
        sandbox = cls(**options)
        await sandbox.start(port, host)
        try:
            yield sandbox
        finally:
            await sandbox.stop()

    async def start(self, port: int = 0, host: str = "127.0.0.1") -> str:
        self._closing = False
        self._runner = web.AppRunner(self.make_app(), access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound = self._runner.addresses[0][1]
        self.base_url = f"http://{host}:{bound}"
        await self.webhook.start()
        return self.base_url

    async def stop(self) -> None:
        self._closing = True
        self.world.updates.notify()  # let long polls return before the server goes
        await self.webhook.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def api_url(self) -> str:
        """What python-telegram-bot wants as `base_url` (it appends the token itself)."""
        if self.base_url is None:
            raise RuntimeError("the sandbox is not running")
        return f"{self.base_url}/bot"

    @property
    def bot(self) -> User:
        return self.world.bot

    def make_app(self) -> web.Application:

        app = web.Application(client_max_size=MAX_UPLOAD_BYTES + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        app.router.add_route("*", "/bot{token}/", self._handle_no_method)
        add_control_routes(app, self)
        return app

    # --- people, chats and what they do ---------------------------------------------------
    def add_user(self, first_name: str = "Test", *, user_id: int | None = None,
                 username: str | None = None, last_name: str | None = None,
                 language_code: str | None = "en") -> User:
        return self.world.add_user(first_name, user_id=user_id, username=username,
                                   last_name=last_name, language_code=language_code)

    def private_chat(self, user: User | int) -> Chat:
        return self.world.private_chat(user)

    def group(self, title: str = "Test group", *, members=(), admins=(), owner=None,
              chat_id: int | None = None) -> Chat:
        return self.world.group(title, members=members, admins=admins, owner=owner,
                                chat_id=chat_id)

    def supergroup(self, title: str = "Test supergroup", *, members=(), admins=(), owner=None,
                   username: str | None = None, forum: bool = False, topics=(),
                   chat_id: int | None = None) -> Chat:
        return self.world.supergroup(title, members=members, admins=admins, owner=owner,
                                     username=username, forum=forum, topics=topics,
                                     chat_id=chat_id)

    def forum(self, title: str = "Test forum", *, topics=("News",), members=(), admins=(),
              owner=None, username: str | None = None, chat_id: int | None = None) -> Chat:
        """A forum supergroup; `topic_id(chat, name)` gives a topic's message_thread_id."""
        return self.supergroup(title, members=members, admins=admins, owner=owner,
                               username=username, forum=True, topics=topics, chat_id=chat_id)

    def add_topic(self, chat: Chat | int, name: str) -> int:
        return self.world.add_topic(chat, name)

    def topic_id(self, chat: Chat | int, name: str) -> int:
        for thread_id, topic in self.world.chat(chat).topics.items():
            if topic == name:
                return thread_id
        raise SandboxError(f"no topic {name!r}")

    def add_member(self, chat: Chat | int, user: User | int, status: str = "member") -> None:
        """Put a user in a group or channel as "member" (default), "administrator", "creator",
        "kicked" or "left"; no update is sent (use set_bot_status for the bot)."""
        self.world.add_member(chat, user, status)

    def set_admin(self, chat: Chat | int, user: User | int, admin: bool = True, *,
                  rights: dict | None = None) -> None:
        """Promote (rights override the defaults, e.g. {"can_post_messages": False}) or demote;
        for the bot itself this is set_bot_status (a my_chat_member update)."""
        self.world.set_admin(chat, user, admin, rights=rights)

    # --- channels and the bot's own membership ------------------------------------------------
    def channel(self, title: str = "Test channel", *, username: str | None = None, owner=None,
                admins=(), members=(), bot: str | None = "administrator",
                can_post_messages: bool = True, bot_rights: dict | None = None,
                chat_id: int | None = None) -> Chat:
        """A channel (id -100...); the owner (created if None) adds the bot as `bot`
        ("administrator", or None to leave it out), queueing a my_chat_member update."""
        rights = {**({} if can_post_messages else {"can_post_messages": False}), **(bot_rights or {})}
        return self.world.channel(title, username=username, owner=owner, admins=admins,
                                  members=members, bot=bot, bot_rights=rights or None,
                                  chat_id=chat_id)

    def set_bot_status(self, chat: Chat | int, status: str, *, by: User | int | None = None,
                       rights: dict | None = None) -> dict:
        """The bot becomes "administrator" (with `rights` overrides), "member", "left" or
        "kicked" by the hand of admin `by` (default: the owner). Queues my_chat_member with
        old_chat_member/new_chat_member as Telegram sends them, and returns that update."""
        return copy.deepcopy(self.world.set_bot_status(chat, status, by=by, rights=rights))

    def add_bot(self, chat: Chat | int, *, by: User | int | None = None, admin: bool = True,
                can_post_messages: bool = True, rights: dict | None = None) -> dict:
        """An admin adds the bot (as administrator by default) -> my_chat_member."""
        return self.set_bot_status(chat, "administrator" if admin else "member", by=by,
                                   rights=_post_right(can_post_messages, rights) if admin else None)

    def promote_bot(self, chat: Chat | int, *, by: User | int | None = None,
                    can_post_messages: bool = True, rights: dict | None = None) -> dict:
        """Make the bot an administrator, or change its rights (also a my_chat_member)."""
        return self.set_bot_status(chat, "administrator", by=by,
                                   rights=_post_right(can_post_messages, rights))

    def demote_bot(self, chat: Chat | int, *, by: User | int | None = None) -> dict:
        """The bot loses its administrator rights (status "member") -> my_chat_member."""
        return self.set_bot_status(chat, "member", by=by)

    def remove_bot(self, chat: Chat | int, *, by: User | int | None = None, ban: bool = False) -> dict:
        """The bot is removed ("left"; ban=True: "kicked") -> my_chat_member."""
        return self.set_bot_status(chat, "kicked" if ban else "left", by=by)

    def chat_member(self, chat: Chat | int, user: User | int) -> dict:
        """The ChatMember getChatMember would answer now (for assertions)."""
        c, u = self.world.chat(chat), self.world.user(user)
        return copy.deepcopy(self.world.member(c, u.id))

    def channel_post(self, chat: Chat | int, text: str, *, author: User | int | None = None,
                     signature: str | None = None, entities: list[dict] | None = None) -> dict:
        """Someone posts `text` in a channel; the bot gets channel_post if it is in it."""
        return copy.deepcopy(self.world.channel_post(chat, text, author=author,
                                                     signature=signature, entities=entities))

    def migrate(self, chat: Chat | int, new_id: int | None = None) -> Chat:
        """Upgrade a group to a supergroup; the old id then answers migrate_to_chat_id."""
        return self.world.migrate(chat, new_id)

    def send_text(self, chat: Chat | int, user: User | int, text: str, *,
                  thread_id: int | None = None, entities: list[dict] | None = None,
                  reply_to: int | None = None, anonymous: bool = False) -> dict:
        """A user writes `text`; commands get their bot_command entity. Returns the Message.
        `anonymous`: a group admin posting as the group (from GroupAnonymousBot)."""
        return copy.deepcopy(self.world.user_message(chat, user, text, thread_id=thread_id,
                                                     entities=entities, reply_to=reply_to, anonymous=anonymous))

    def send_document(self, chat: Chat | int, user: User | int, filename: str, data: bytes | str, *,
                      caption: str | None = None, reply_to: int | None = None) -> dict:
        """A user sends a file (str data is UTF-8 encoded), optionally captioned with a command."""
        raw = data.encode("utf-8") if isinstance(data, str) else data
        return copy.deepcopy(self.world.user_document(chat, user, filename, raw, caption=caption, reply_to=reply_to))

    def press(self, chat: Chat | int, user: User | int, message_id: int, data: str, *, forge: bool = False) -> dict:
        """A user presses the button with `data` under the bot's message (forge=True: any data). Returns the query."""
        return copy.deepcopy(self.world.press(chat, user, message_id, data, forge=forge))

    # --- inline mode ------------------------------------------------------------------------
    def set_inline(self, enabled: bool | None = None, feedback: bool | None = None) -> dict:
        """Turn inline mode (/setinline) or inline feedback (/setinlinefeedback) on or off."""
        if enabled is not None:
            self.inline.enabled = bool(enabled)
        if feedback is not None:
            self.inline.feedback = bool(feedback)
        return {"enabled": self.inline.enabled, "feedback": self.inline.feedback}

    def inline_query(self, user: User | int, query: str = "", *, offset: str = "",
                     chat: Chat | int | None = None, chat_type: str | None = None,
                     use_cache: bool = True) -> dict:
        """The user types `@bot query` in `chat` (chat_type "sender" in their private chat
        with the bot, else the chat's type; or pass chat_type alone). Queues inline_query and
        returns it; while Telegram caches an answer to the same query (cache_time, per user if
        is_personal) nothing reaches the bot and the earlier query comes back, "from_cache": true."""
        return self.inline.query(user, query, offset=offset, chat=chat, chat_type=chat_type,
                                 use_cache=use_cache)

    def choose_inline_result(self, query_id: str, result_id: str,
                             chat: Chat | int | None = None) -> dict:
        """The user picks a result of the bot's answer: the message is posted in `chat`
        (default: where they typed) "via @bot" and recorded in sb.messages(chat) with
        method "chosenInlineResult"; chosen_inline_result follows if feedback is on."""
        return self.inline.choose(query_id, result_id, chat)

    async def wait_inline_answer(self, query_id: str, timeout: float = 5.0) -> dict:
        """Wait until the bot answered the inline query; returns the answer as recorded."""
        deadline = time.monotonic() + timeout
        while True:
            entry = self.inline.queries.get(str(query_id))
            if entry is None:
                raise ValueError(f"no inline query {query_id}")
            if entry["answer"] is not None:
                return copy.deepcopy(entry["answer"]["record"])
            if time.monotonic() >= deadline:
                raise TimeoutError(f"inline query {query_id} not answered within {timeout}s")
            await asyncio.sleep(0.02)

    @property
    def inline_answers(self) -> list[dict]:
        """Every answerInlineQuery accepted: inline_query_id, query, offset, from, results
        (as sent), cache_time, is_personal, next_offset, button, date."""
        return copy.deepcopy(self.inline.answers)

    # --- webhooks -----------------------------------------------------------------------------
    def webhook_info(self) -> dict:
        """What getWebhookInfo answers now (url "" while the bot polls)."""
        return self.webhook.info()

    @property
    def webhook_deliveries(self) -> list[dict]:
        """Every POST to the webhook: update_id, url, attempt (1 = first try), error (None:
        the bot answered 2xx; else the text getWebhookInfo shows), at."""
        return copy.deepcopy(self.webhook.deliveries)

    async def wait_webhook_idle(self, timeout: float = 5.0) -> dict:
        """Wait until a webhook is set and every pending update was delivered; returns
        webhook_info()."""
        deadline = time.monotonic() + timeout
        while not self.webhook.active or self.world.updates.pending(1):
            if time.monotonic() >= deadline:
                raise TimeoutError(f"webhook not idle within {timeout}s: {self.webhook.info()}")
            await asyncio.sleep(0.02)
        return self.webhook.info()

    # --- what the bot did -----------------------------------------------------------------
    def bulk_private_chats(self, count: int, language_code: str = "zh") -> list[int]:
        """Create `count` users with their private chats at once (benchmarks); returns the chat ids."""
        ids = []
        for i in range(int(count)):
            user = self.add_user(f"user{i}", language_code=language_code)
            ids.append(self.private_chat(user).id)
        return ids

    def summary(self) -> dict:
        """Totals for benchmarks: successful sends, 429 answers, chats reached, violations."""
        sends = [r for r in self._requests if str(r.get("method", "")).startswith("send") and r.get("status") == 200]
        return {
            "messages": len(sends),
            "chats": len({r.get("chat_id") for r in sends}),
            "too_many_requests": sum(1 for r in self._requests if r.get("status") == 429),
            "violations": len(self.flood.violations),
            "requests": len(self._requests),
        }

    def messages(self, chat: Chat | int) -> list[dict]:
        """The bot's messages in a chat, oldest first, as they are now (edits applied)."""
        return copy.deepcopy(self.world.records.get(self.world.chat(chat).id, []))

    def log(self, chat: Chat | int) -> list[dict]:
        """Every successful call about a chat (sends, edits, deletions, chat actions)."""
        return copy.deepcopy(self.world.log.get(self.world.chat(chat).id, []))

    async def wait_for(self, chat: Chat | int, count: int = 1, timeout: float = 5.0) -> list[dict]:
        """Wait until the bot has sent `count` messages to the chat; returns them."""
        chat_id = self.world.chat(chat).id
        deadline = time.monotonic() + timeout
        while len(self.world.records.get(chat_id, [])) < count:
            if time.monotonic() >= deadline:
                got = [r.get("text") or r.get("caption") for r in self.world.records[chat_id]]
                raise TimeoutError(f"chat {chat_id} received {len(got)} of {count} messages "
                                   f"within {timeout}s: {got!r}")
            await asyncio.sleep(0.02)
        return self.messages(chat_id)

    @property
    def requests(self) -> list[dict]:
        """Every Bot API call received: method, chat_id, params, status, description."""
        return copy.deepcopy(self._requests)

    @property
    def callback_answers(self) -> list[dict]:
        return copy.deepcopy(self.world.callback_answers)

    def commands(self, scope: str = "default", language_code: str = "") -> list[dict]:
        """Commands the bot registered with setMyCommands for a scope key ("default",
        "all_private_chats", "chat:<id>", ...)."""
        return copy.deepcopy(self.world.commands.get((scope, language_code), []))

    def pending_updates(self) -> list[dict]:
        return copy.deepcopy(self.world.updates.pending())

    # --- faults and flood control -----------------------------------------------------------
    def fault(self, kind: str, *, chat: Chat | int | None = None,
              methods: list[str] | None = None, thread: int | None = None, times: int | None = 1,
              probability: float = 1.0, seed: int | None = None, retry_after: int = 5,
              delay: float = 0.0, deliver: bool = False, status: int = 400,
              description: str = "", parameters: dict | None = None) -> Fault:
        """Inject a failure; see faults.FAULT_KINDS. times=None keeps it until cleared."""
        if kind == "migrated":
            raise ValueError("use Sandbox.migrate(chat): migration changes the chat for good")
        chat_id = None if chat is None else (chat.id if isinstance(chat, Chat) else int(chat))
        return self._faults.add(Fault(
            kind, chat_id=chat_id, methods=frozenset(methods) if methods else None, thread_id=thread,
            times=times, probability=probability, seed=seed, retry_after=retry_after, delay=delay,
            deliver=deliver, status=status, description=description, parameters=parameters))

    def clear_faults(self) -> None:
        self._faults.clear()

    @property
    def faults(self) -> list[Fault]:
        return list(self._faults.faults)

    @property
    def violations(self) -> list[Violation]:
        """Requests that arrived while a 429's retry_after was still running."""
        return list(self.flood.violations)

    def set_limits(self, limits: bool | FloodLimits) -> None:
        self.flood.limits = _limits(limits)

    # --- the Bot API endpoint -------------------------------------------------------------
    async def _download(self, request: web.Request) -> web.Response:
        """File downloads (after getFile), as https://api.telegram.org/file/bot<token>/<file_path>."""
        if request.match_info["token"] not in self.tokens:
            return _answer(UNAUTHORIZED.body(), 401)
        data = self.world.file_bytes(request.match_info["path"])
        if data is None:
            return _answer(NOT_FOUND.body(), 404)
        return web.Response(body=data, content_type="application/octet-stream")

    async def _handle_no_method(self, request: web.Request) -> web.Response:
        return _answer(NOT_FOUND.body(), 404)

    async def _handle(self, request: web.Request) -> web.Response:
        entry: dict = {"at": time.time(), "method": request.match_info["method"],
                       "http_method": request.method, "chat_id": None, "params": {},
                       "status": None, "description": None}
        self._requests.append(entry)
        try:
            result = await self._dispatch(request, entry)
            body, status = {"ok": True, "result": result}, 200
            if entry.get("answer_description"):
                body["description"] = entry.pop("answer_description")
        except ApiError as exc:
            body, status = exc.body(), exc.code
            entry["description"] = exc.description
        entry["status"] = status
        if request.transport is None or request.transport.is_closing():
            entry["client_gone"] = True  # the client timed out or moved on before the answer
        return _answer(body, status)

    async def _dispatch(self, request: web.Request, entry: dict) -> object:
        token = request.match_info["token"]
        if token not in self.tokens:
            raise UNAUTHORIZED if _TOKEN_SHAPE.fullmatch(token) else NOT_FOUND
        spec = self.spec.method(request.match_info["method"])
        if spec is None:
            raise NOT_FOUND
        entry["method"] = spec.name
        if not self.api.implements(spec.name):
            raise bad_request(f"method {spec.name} is not implemented by the sandbox")
        try:
            raw = await read_params(request)
        except web.HTTPRequestEntityTooLarge as exc:
            raise ApiError(413, "Request Entity Too Large") from exc
        entry["params"] = {k: ({"file": v.filename, "size": len(v.data)}
                               if isinstance(v, Upload) else v) for k, v in raw.items()}
        if spec.name == "setWebhook" and "url" not in raw:
            raw["url"] = ""  # an empty url removes the webhook
        params = coerce(spec, raw, strict=self.strict)
        if spec.name == "getUpdates":
            return await self._get_updates(params)
        call = self.api.plan(spec.name, params)
        entry["chat_id"] = call.chat.id if call.chat else None
        if call.description:
            entry["answer_description"] = call.description
        thread_id = params.get("message_thread_id")
        assert thread_id is None or isinstance(thread_id, int)  # coerce() typed the Integer
        return await self._run(spec.name, call, thread_id)

    async def _run(self, method: str, call: Call, thread_id: int | None = None) -> object:
        """Between check and effect: violations, injected faults, then flood limits."""
        now = self._clock()
        chat = call.chat
        chat_id = chat.id if chat else None
        owed = self.flood.check_blocked(method, chat_id, now)
        if owed is not None:
            raise too_many_requests(owed)
        fault = self._faults.pick(method, chat_id, thread_id)
        if fault is not None:
            if fault.kind == "flood":
                covered = (fault.methods or self._flood_methods()) | {method}
                self.flood.block(fault.chat_id, fault.retry_after, now, covered)
            elif fault.kind == "slow":
                if fault.deliver:
                    result = call.apply()
                    await asyncio.sleep(fault.delay)
                    return result
                await asyncio.sleep(fault.delay)
            raise fault.error(chat.type if chat else None)
        limited = self.flood.take(method, chat_id, chat.type if chat else None, now)
        if limited is not None:
            raise too_many_requests(limited[0])
        return call.apply()

    def _flood_methods(self) -> frozenset[str]:
        return (self.flood.limits or FloodLimits()).methods

    async def _get_updates(self, p: dict) -> list[dict]:
        queue = self.world.updates
        if self.webhook.active:
            raise WEBHOOK_ACTIVE
        self._poll_seq += 1
        mine = self._poll_seq
        queue.notify()  # an older long poll wakes, sees it was superseded and gets 409
        if "allowed_updates" in p:
            queue.set_allowed(p["allowed_updates"])
        if "offset" in p:
            queue.confirm(p["offset"])
        limit = min(max(p.get("limit", 100), 1), 100)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(p.get("timeout", 0), 0)
        while True:
            if self.webhook.active:
                raise WEBHOOK_ACTIVE
            if mine != self._poll_seq:
                raise CONFLICT_POLLING
            items = queue.pending(limit)
            if items or self._closing or loop.time() >= deadline:
                return copy.deepcopy(items)
            await queue.changed(deadline - loop.time())


def _post_right(can_post_messages: bool, rights: dict | None) -> dict | None:
    merged = {**({} if can_post_messages else {"can_post_messages": False}), **(rights or {})}
    return merged or None


def _answer(body: dict, status: int) -> web.Response:
    return web.json_response(body, status=status)


def _limits(limits: bool | FloodLimits | None) -> FloodLimits | None:
    if limits is True:
        return FloodLimits()
    return limits or None


def serve_forever(port: int, host: str = "127.0.0.1", limits: bool = False) -> None:
    """Run a sandbox until interrupted, printing where it listens (`newsbot sandbox`)."""
    async def main() -> None:
        sandbox = Sandbox(limits=limits)
        await sandbox.start(port, host)
        print(f"Bot API sandbox listening on {sandbox.base_url}", flush=True)
        print(f"  token:      {sandbox.token}", flush=True)
        print(f"  PTB base_url: {sandbox.api_url}", flush=True)
        print(f"  control:    {sandbox.base_url}/sandbox/info", flush=True)
        print(f"  spec:       {sandbox.spec.version}", flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await sandbox.stop()

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
