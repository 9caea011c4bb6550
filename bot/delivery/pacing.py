"""Client-side pacing for Telegram's flood limits (GCRA): overall, per private chat, per group.

Rates sit a little under Telegram's published ones (30/s a bot, 1/s a private chat after a short
burst, 20/min a group) so that the server never has to answer 429; when it does, `hold` pauses all
sending for the retry_after it asked for (Telegram does not say which scope was exceeded).
"""
from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass


class Gcra:
    """Generic cell rate algorithm: `rate` per second with bursts of `burst`. Reservations, no tasks."""

    def __init__(self, rate: float, burst: int) -> None:
        self.interval = 1.0 / rate
        self.tolerance = (max(burst, 1) - 1) * self.interval
        self.tat = 0.0  # theoretical arrival time of the next conforming request

    def reserve(self, now: float) -> float:
        """Book the next slot; returns how long to wait for it."""
        start = max(now, self.tat - self.tolerance)
        self.tat = max(self.tat, start) + self.interval
        return start - now

    def hold(self, until: float) -> None:
        self.tat = max(self.tat, until + self.tolerance)


@dataclass(frozen=True)
class Limits:
    overall: tuple[float, int] = (29.0, 5)          # per second, burst
    private: tuple[float, int] = (0.95, 2)
    group: tuple[float, int] = (19 / 60, 10)

    @classmethod
    def off(cls) -> Limits:
        return cls((1e9, 1_000_000), (1e9, 1_000_000), (1e9, 1_000_000))


class SendLimiter:
    def __init__(self, limits: Limits = Limits(), clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[object]] = asyncio.sleep, max_chats: int = 50_000) -> None:
        self.limits, self.clock, self.sleep = limits, clock, sleep
        self.overall = Gcra(*limits.overall)
        self.chats: OrderedDict[int, Gcra] = OrderedDict()
        self.max_chats = max_chats
        self.held_until = 0.0
        self.held_seconds = 0.0  # total time sending was held by 429s (metrics, /stats)
        self.interactive_waiting = 0  # replies waiting for the bot's slot: bulk sends hold back meanwhile

    def _chat(self, chat_id: int, chat_type: str) -> Gcra:
        g = self.chats.get(chat_id)
        if g is None:
            g = Gcra(*(self.limits.private if chat_type == "private" else self.limits.group))
            self.chats[chat_id] = g
            if len(self.chats) > self.max_chats:
                self.chats.popitem(last=False)
        else:
            self.chats.move_to_end(chat_id)
        return g

    async def acquire(self, chat_id: int, chat_type: str, *, bulk: bool = False) -> None:
        """Wait for this chat's turn, then for the bot's (so one slow chat never blocks the others' slots).
        `bulk` sends (digest pushes) give way to interactive ones (replies) waiting for the bot's slot."""
        delay = self._chat(chat_id, chat_type).reserve(self.clock())
        if delay > 0:
            await self.sleep(delay)
        await self.acquire_overall(bulk=bulk)

    async def acquire_overall(self, *, bulk: bool = False) -> None:
        """Wait for the bot's next slot, never inside a 429's retry_after window."""
        if not bulk:
            self.interactive_waiting += 1
        try:
            while True:
                if bulk and self.interactive_waiting:
                    await self.sleep(self.overall.interval)  # a reply is waiting: it goes first
                    continue
                delay = self.overall.reserve(self.clock())
                if delay > 0:
                    await self.sleep(delay)
                # A slot booked before a 429 arrived must not be used inside the retry_after window.
                if self.clock() >= self.held_until:
                    return
                await self.sleep(self.held_until - self.clock())
        finally:
            if not bulk:
                self.interactive_waiting -= 1

    def hold(self, seconds: float) -> None:
        """A 429 came back: nothing goes out until `seconds` have passed."""
        now = self.clock()
        until = max(self.held_until, now + seconds)
        self.held_seconds += until - max(self.held_until, now)  # overlapping 429s count once
        self.held_until = until
        self.overall.hold(self.held_until)
