"""Deep-link payloads (`https://t.me/<bot>?start=<payload>`) and inline-query paging offsets.

Pure. Telegram allows a start payload of at most 64 characters from [A-Za-z0-9_-]. A category is named
by its `category_token` (8 hex characters of a hash of its folded path, the id its keyboard buttons
already carry), so `sub_<token>` is 12 characters for any category, Chinese or not, however deep; the
bot resolves it against the current category tree. `read_<id>` opens an article.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

from bot.core.categories import category_token

MAX_PAYLOAD = 64
PAYLOAD_CHARS = re.compile(r"[A-Za-z0-9_-]{1,64}")
_SUB = re.compile(r"sub_([0-9a-f]{8})")
_READ = re.compile(r"read_([0-9]{1,12})")


@dataclass(frozen=True, slots=True)
class SubscribeLink:
    token: str  # bot.core.categories.category_token of the category


@dataclass(frozen=True, slots=True)
class ReadLink:
    article_id: int


Payload = SubscribeLink | ReadLink


def subscribe_payload(path: tuple[str, ...]) -> str:
    return f"sub_{category_token(path)}"


def read_payload(article_id: int) -> str:
    return f"read_{article_id}"


def parse_payload(text: str) -> Payload | None:
    """What a `/start <payload>` asks for; None for anything else (a plain /start, a forged payload)."""
    text = text.strip()
    if not PAYLOAD_CHARS.fullmatch(text):
        return None
    m = _SUB.fullmatch(text)
    if m:
        return SubscribeLink(m.group(1))
    m = _READ.fullmatch(text)
    if m:
        return ReadLink(int(m.group(1)))
    return None


def start_link(bot_username: str, payload: str) -> str:
    """The t.me link that opens a private chat with the bot and sends `/start <payload>`."""
    assert PAYLOAD_CHARS.fullmatch(payload), payload
    return f"https://t.me/{quote(bot_username)}?start={payload}"


# ---------------------------------------------------------------- inline paging

MAX_OFFSET = 64  # Telegram's limit for next_offset, in bytes


def latest_offset(published: int, article_id: int) -> str:
    """Where the next page of the latest articles starts: after (published, id), newest first."""
    return f"l{published}.{article_id}"


def parse_latest_offset(offset: str) -> tuple[int, int] | None:
    m = re.fullmatch(r"l([0-9]{1,12})\.([0-9]{1,12})", offset)
    return (int(m.group(1)), int(m.group(2))) if m else None


def parse_search_offset(offset: str, limit: int = 1000) -> int:
    """A search page offset (a result count); anything else (empty, forged) is the first page."""
    return int(offset) if re.fullmatch(r"[0-9]{1,4}", offset) and int(offset) <= limit else 0


def read_link_template(bot_username: str) -> str:
    """The link that opens an article in a private chat with the bot, with `{id}` for the article id."""
    return start_link(bot_username, "read_0")[:-1] + "{id}"
