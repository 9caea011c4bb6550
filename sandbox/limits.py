"""Telegram's flood control, approximated: token buckets per bot, per private chat, per group.

Default rates follow Telegram's published guidance (about 30 messages a second overall, one a
second per private chat after a short burst, 20 a minute per group or channel); tests pass
smaller ones.
Once a 429 is answered, any further request for that scope before retry_after has passed is
a *violation*: the bot ignored Telegram's instruction.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

#: Calls that put something in a chat, the ones Telegram's flood limits are about.
LIMITED_METHODS = frozenset({"sendMessage", "sendPhoto", "sendDocument", "editMessageText",
                             "editMessageReplyMarkup"})


@dataclass(frozen=True)
class Rate:
    """`count` requests per `per` seconds, with up to `burst` (default `count`) at once."""
    count: float
    per: float
    burst: float | None = None

    @property
    def capacity(self) -> float:
        return self.burst if self.burst is not None else self.count

    @property
    def refill(self) -> float:  # tokens per second
        return self.count / self.per


@dataclass(frozen=True)
class FloodLimits:
    overall: Rate = Rate(30, 1.0)
    private: Rate = Rate(1, 1.0, burst=3)
    group: Rate = Rate(20, 60.0)
    methods: frozenset[str] = LIMITED_METHODS
    channel: Rate | None = None  # None: as `group` (Telegram's guidance is the same 20/min)


@dataclass(frozen=True)
class Violation:
    """A request that came while a 429's retry_after was still running."""
    at: float
    method: str
    chat_id: int | None  # None: the block covered every chat
    blocked_chat_id: int | None
    seconds_early: float

    def to_dict(self) -> dict:
        return {"at": self.at, "method": self.method, "chat_id": self.chat_id,
                "blocked_chat_id": self.blocked_chat_id, "seconds_early": self.seconds_early}


@dataclass
class _Block:
    chat_id: int | None
    until: float
    methods: frozenset[str]


@dataclass
class _Bucket:
    tokens: float
    stamp: float


@dataclass
class FloodControl:
    """Decides 429s. `limits=None` disables rate limiting but still tracks violations."""
    limits: FloodLimits | None = None
    violations: list[Violation] = field(default_factory=list)
    _blocks: list[_Block] = field(default_factory=list)
    _buckets: dict[tuple, _Bucket] = field(default_factory=dict)

    def check_blocked(self, method: str, chat_id: int | None, now: float) -> int | None:
        """retry_after still owed for this request, recording a violation; None if free."""
        self._blocks = [b for b in self._blocks if b.until > now]
        for block in self._blocks:
            if method in block.methods and block.chat_id in (None, chat_id):
                self.violations.append(Violation(now, method, chat_id, block.chat_id,
                                                 block.until - now))
                return max(1, math.ceil(block.until - now))
        return None

    def block(self, chat_id: int | None, retry_after: int, now: float,
              methods: frozenset[str]) -> None:
        """Remember a 429 so that early retries count as violations."""
        self._blocks.append(_Block(chat_id, now + retry_after, methods))

    def take(self, method: str, chat_id: int | None, chat_type: str | None,
             now: float) -> tuple[int, int | None] | None:
        """Spend a token; on overflow returns (retry_after, blocked chat or None for all)."""
        if self.limits is None or method not in self.limits.methods:
            return None
        scopes: list[tuple[tuple, Rate, int | None]] = [(("all",), self.limits.overall, None)]
        if chat_id is not None and chat_type == "private":
            scopes.append((("chat", chat_id), self.limits.private, chat_id))
        elif chat_id is not None and chat_type in ("group", "supergroup"):
            scopes.append((("chat", chat_id), self.limits.group, chat_id))
        elif chat_id is not None and chat_type == "channel":
            scopes.append((("chat", chat_id), self.limits.channel or self.limits.group, chat_id))
        worst: tuple[float, int | None] | None = None
        for key, rate, scope_chat in scopes:
            bucket = self._bucket(key, rate, now)
            if bucket.tokens < 1:
                wait = (1 - bucket.tokens) / rate.refill
                if worst is None or wait > worst[0]:
                    worst = (wait, scope_chat)
        if worst is not None:
            retry_after = max(1, math.ceil(worst[0]))
            self.block(worst[1], retry_after, now, self.limits.methods)
            return retry_after, worst[1]
        for key, _rate, _ in scopes:
            self._buckets[key].tokens -= 1
        return None

    def _bucket(self, key: tuple, rate: Rate, now: float) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(rate.capacity, now)
        bucket.tokens = min(rate.capacity, bucket.tokens + (now - bucket.stamp) * rate.refill)
        bucket.stamp = now
        return bucket
