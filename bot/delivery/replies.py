"""Pacing for every Bot API call the delivery engine does not pace itself: replies, button answers, edits.

Installed as python-telegram-bot's rate limiter, so each handler's `reply_text`, `answer` and
`edit_message_text` waits for a slot in the same `SendLimiter` the pushes use (one budget of ~30
messages a second for the whole bot, per-chat rates on top). A 429 holds every send, pushes included,
for its retry_after, and the reply is sent again after it instead of being lost with a RetryAfter.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from contextvars import ContextVar
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.delivery.pacing import SendLimiter

log = logging.getLogger("newsbot.delivery")

#: Set by the delivery engine around its own sends: they are paced (and their 429s handled) there.
ENGINE_PACED: ContextVar[bool] = ContextVar("newsbot_engine_paced", default=False)

#: Calls that put something in a chat (what Telegram's flood limits count); everything else (getUpdates,
#: getChatMember, setMyCommands, …) goes straight through.
_PACED_PREFIXES = ("send", "edit", "copy", "forward", "answer", "delete", "pin", "unpin", "stop", "setMessageReaction")
MAX_HELD_SECONDS = 120.0   # a longer retry_after is Telegram asking us to stop: the call fails instead


def _chat_of(data: dict[str, Any] | None) -> tuple[int | None, str]:
    """The chat a call posts into and its kind. Telegram's ids: users are positive, groups and channels negative;
    an @username (a channel) is paced like a group."""
    raw = (data or {}).get("chat_id")
    if isinstance(raw, int):
        return raw, "private" if raw > 0 else "group"
    if isinstance(raw, str):
        try:
            value = int(raw)
        except ValueError:
            return hash(raw), "group"
        return value, "private" if value > 0 else "group"
    return None, "private"


def _seconds(retry_after: float | timedelta) -> float:
    return retry_after.total_seconds() if isinstance(retry_after, timedelta) else float(retry_after)


class PacedRequests(BaseRateLimiter[dict[str, Any]]):
    def __init__(self, limiter: SendLimiter, max_retries: int = 3) -> None:
        self.limiter = limiter
        self.max_retries = max_retries

    async def initialize(self) -> None:
        """Nothing to set up: the limiter is plain state."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: dict[str, Any] | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        if ENGINE_PACED.get() or not endpoint.startswith(_PACED_PREFIXES):
            return await callback(*args, **kwargs)
        chat_id, kind = _chat_of(data)
        for attempt in range(self.max_retries + 1):
            if chat_id is None:
                await self.limiter.acquire_overall()
            else:
                await self.limiter.acquire(chat_id, kind)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                wait = _seconds(exc.retry_after)
                self.limiter.hold(wait)  # pushes and every other reply wait too
                if attempt == self.max_retries or wait > MAX_HELD_SECONDS:
                    raise
                log.info("event=reply_held method=%s retry_after=%.1f", endpoint, wait)
        raise AssertionError("unreachable: the loop returns or raises")
