"""The control API over HTTP: `/sandbox/<action>` calls the Sandbox method of that name.

Arguments come as a JSON body or query string with the Python keyword names
(`POST /sandbox/send_text {"chat": 1001, "user": 1001, "text": "/start"}`); answers are
`{"ok": true, "result": ...}` or `{"ok": false, "error": "..."}` with status 400/404/408.
"""
from __future__ import annotations

import json
from dataclasses import asdict, is_dataclass
from typing import Any

from aiohttp import web

from sandbox.faults import Fault
from sandbox.limits import FloodLimits, Rate, Violation
from sandbox.state import Chat, User

#: Sandbox methods callable over HTTP.
ACTIONS = frozenset({
    "add_user", "private_chat", "group", "supergroup", "forum", "add_topic", "topic_id",
    "add_member", "set_admin", "migrate", "send_text", "press", "messages", "log", "wait_for",
    "fault", "clear_faults", "commands", "pending_updates", "bulk_private_chats", "summary", "send_document",
    # channels and the bot's membership
    "channel", "channel_post", "set_bot_status", "add_bot", "promote_bot", "demote_bot", "remove_bot",
    "chat_member",
    # inline mode
    "set_inline", "inline_query", "choose_inline_result", "wait_inline_answer",
    # webhooks
    "webhook_info", "wait_webhook_idle",
})
#: Sandbox properties readable over HTTP (GET).
PROPERTIES = frozenset({"requests", "violations", "faults", "callback_answers", "inline_answers",
                        "webhook_deliveries"})


def add_control_routes(app: web.Application, sandbox: Any) -> None:
    async def info(request: web.Request) -> web.Response:
        return _ok({"base_url": sandbox.base_url, "api_url": sandbox.api_url,
                    "token": sandbox.token, "bot": sandbox.bot.to_api(),
                    "spec": sandbox.spec.version, "actions": sorted(ACTIONS | PROPERTIES),
                    "limits": _jsonable(sandbox.flood.limits)})

    async def set_limits(request: web.Request) -> web.Response:
        args = await _arguments(request)
        value = args.get("limits", True)
        if isinstance(value, dict):
            # keyword names come from the caller: FloodLimits itself refuses unknown ones
            rates: dict[str, Any] = {k: Rate(**v) if v is not None else None
                                     for k, v in value.items() if k != "methods"}
            value = FloodLimits(**rates)
        sandbox.set_limits(value)
        return _ok(_jsonable(sandbox.flood.limits))

    async def action(request: web.Request) -> web.Response:
        name = request.match_info["action"]
        if name in PROPERTIES:
            return _ok(_jsonable(getattr(sandbox, name)))
        if name not in ACTIONS:
            return _error(404, f"no control action {name!r}")
        try:
            args = await _arguments(request)
            result = getattr(sandbox, name)(**args)
            if hasattr(result, "__await__"):
                result = await result
        except TimeoutError as exc:
            return _error(408, str(exc))
        except (ValueError, TypeError, KeyError) as exc:
            return _error(400, str(exc))
        return _ok(_jsonable(result))

    app.router.add_get("/sandbox/info", info)
    app.router.add_post("/sandbox/set_limits", set_limits)
    app.router.add_route("*", "/sandbox/{action}", action)


async def _arguments(request: web.Request) -> dict:
    args: dict = {k: _scalar(v) for k, v in request.query.items()}
    if request.can_read_body:
        body = await request.json()
        if not isinstance(body, dict):
            raise ValueError("the body must be a JSON object of keyword arguments")
        args.update(body)
    return args


def _scalar(text: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _jsonable(value: object) -> object:
    if isinstance(value, (User, Chat)):
        return value.to_api()
    if isinstance(value, (Fault, Violation)):
        return value.to_dict()
    if isinstance(value, frozenset):
        return sorted(value)
    if is_dataclass(value) and not isinstance(value, type):
        return {k: _jsonable(v) for k, v in asdict(value).items()}
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _ok(result: object) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"ok": False, "error": message}, status=status)
