"""Injected failures: the errors and stalls a real bot meets, on demand or at seeded random.

A Fault matches calls by chat, method and (optionally) forum topic, fires once, N times or for
ever, optionally with probability p from its own seeded random generator, so failures are reproducible.
"""
from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field

from sandbox.errors import ApiError, bad_request, forbidden, too_many_requests

#: kind -> what it does. "slow" waits `delay` seconds and then either delivers the
#: message anyway (deliver=True, "slow but delivered") or fails with 504.
FAULT_KINDS = {
    "blocked": "403 Forbidden: bot was blocked by the user",
    "kicked": "403 Forbidden: bot was kicked from the (super)group chat",
    "deactivated": "403 Forbidden: user is deactivated",
    "chat_not_found": "400 Bad Request: chat not found",
    "topic_closed": "400 Bad Request: TOPIC_CLOSED (a closed forum topic; use with thread=)",
    "topic_deleted": "400 Bad Request: message thread not found (a deleted forum topic; use with thread=)",
    "no_photo_rights": "400 Bad Request: not enough rights to send photos to the chat",
    "server_error": "500 Internal Server Error",
    "bad_gateway": "502 Bad Gateway",
    "flood": "429 Too Many Requests: retry after N (parameters.retry_after)",
    "slow": "answer after `delay` seconds; deliver or 504",
    "custom": "any status/description/parameters",
}
_ids = itertools.count(1)


@dataclass
class Fault:
    kind: str
    chat_id: int | None = None  # None: any chat
    methods: frozenset[str] | None = None  # None: any call that names a chat
    thread_id: int | None = None  # None: any topic; else only calls with this message_thread_id
    times: int | None = 1  # None: until cleared
    probability: float = 1.0
    seed: int | None = None
    retry_after: int = 5
    delay: float = 0.0
    deliver: bool = False
    status: int = 400
    description: str = ""
    parameters: dict | None = None
    id: int = field(default_factory=lambda: next(_ids))
    fired: int = 0

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; one of {sorted(FAULT_KINDS)}")
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError("probability must be within 0..1")
        if self.retry_after < 1:
            raise ValueError("retry_after must be at least 1")
        self.methods = frozenset(self.methods) if self.methods is not None else None
        self._random = random.Random(self.seed)

    @property
    def spent(self) -> bool:
        return self.times is not None and self.fired >= self.times

    def matches(self, method: str, chat_id: int | None, thread_id: int | None = None) -> bool:
        if self.spent:
            return False
        if self.thread_id is not None and thread_id != self.thread_id:
            return False
        if self.methods is not None:
            if method not in self.methods:
                return False
        elif chat_id is None:
            return False
        return self.chat_id is None or self.chat_id == chat_id

    def roll(self) -> bool:
        """Whether this matching call is hit (always draws, so a seed gives one sequence)."""
        hit = self._random.random() < self.probability if self.probability < 1.0 else True
        if hit:
            self.fired += 1
        return hit

    def error(self, chat_type: str | None) -> ApiError:
        kind = self.kind
        if kind == "blocked":
            return forbidden("bot was blocked by the user")
        if kind == "kicked":
            where = "supergroup chat" if chat_type == "supergroup" else "group chat"
            return forbidden(f"bot was kicked from the {where}")
        if kind == "deactivated":
            return forbidden("user is deactivated")
        if kind == "chat_not_found":
            return bad_request("chat not found")
        if kind == "topic_closed":
            return bad_request("TOPIC_CLOSED")
        if kind == "topic_deleted":
            return bad_request("message thread not found")
        if kind == "no_photo_rights":
            return bad_request("not enough rights to send photos to the chat")
        if kind == "server_error":
            return ApiError(500, "Internal Server Error")
        if kind == "bad_gateway":
            return ApiError(502, "Bad Gateway")
        if kind == "flood":
            return too_many_requests(self.retry_after)
        if kind == "slow":
            return ApiError(504, "Gateway Timeout")
        return ApiError(self.status, self.description or "Bad Request", self.parameters)

    def to_dict(self) -> dict:
        return {"id": self.id, "kind": self.kind, "chat_id": self.chat_id,
                "methods": sorted(self.methods) if self.methods is not None else None,
                "thread": self.thread_id,
                "times": self.times, "probability": self.probability, "seed": self.seed,
                "retry_after": self.retry_after, "delay": self.delay, "deliver": self.deliver,
                "fired": self.fired}


@dataclass
class FaultPlan:
    faults: list[Fault] = field(default_factory=list)

    def add(self, fault: Fault) -> Fault:
        self.faults.append(fault)
        return fault

    def pick(self, method: str, chat_id: int | None, thread_id: int | None = None) -> Fault | None:
        """The first matching fault that fires for this call, if any."""
        for fault in self.faults:
            if fault.matches(method, chat_id, thread_id) and fault.roll():
                self.faults = [f for f in self.faults if not f.spent]
                return fault
        return None

    def clear(self) -> None:
        self.faults.clear()
