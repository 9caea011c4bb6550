"""Plan what a chat receives: its due digest items → the messages to send, within Telegram's limits.

Pure. A message never exceeds 4096 characters (UTF-16 code units, as Telegram counts) or 100 entities,
an item is never split across two messages, and digest mode groups items under category headers,
newest first, at most K per category with the rest counted and pointed to /latest. The text of each
item is bot.core.render's.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core.render import (
    MAX_CAPTION_CHARS,
    MAX_ENTITIES,
    MAX_MESSAGE_CHARS,
    category_heading,
    digest_header,
    digest_item,
    entity_count,
    more_in_category,
    plain_text,
    shrink_item,
    tg_len,
)

PER_CATEGORY = 10
Block = tuple[str, tuple[int, ...], tuple[int, ...]]  # an item's HTML, its outbox ids, its article ids


@dataclass(frozen=True, slots=True)
class DigestItem:
    outbox_id: int
    article_id: int
    thread_id: int
    title: str
    url: str | None
    source: str
    published: datetime
    categories: tuple[str, ...]
    summary: tuple[str, ...]
    image_url: str | None = None
    watch: str | None = None  # the watch query that matched, when not a subscription


@dataclass(frozen=True, slots=True)
class Message:
    thread_id: int
    body: str  # HTML text, or the photo caption when photo_url is set
    outbox_ids: tuple[int, ...]
    article_ids: tuple[int, ...]
    photo_url: str | None = None


def _split(blocks: list[Block], header: str, thread_id: int) -> list[Message]:
    """Pack blocks (html, outbox ids, article ids) into as few messages as fit; a block is never split.

    Sizes and entity counts add up block by block (no tag or auto-detected entity spans the blank
    line between two blocks), so packing stays linear in the number of items.
    """
    messages: list[Message] = []
    header_size = (tg_len(header), entity_count(header)) if header else (0, 0)
    parts: list[str] = []
    size, entities = header_size
    outbox: list[int] = []
    articles: list[int] = []

    def flush() -> None:
        if parts:
            messages.append(Message(thread_id, "\n\n".join(([header] if header else []) + parts),
                                    tuple(outbox), tuple(articles)))

    for html, oids, aids in blocks:
        block_entities = entity_count(html)
        if tg_len(html) + header_size[0] + 2 > MAX_MESSAGE_CHARS or block_entities + header_size[1] > MAX_ENTITIES:
            html = shrink_item(html, MAX_MESSAGE_CHARS - header_size[0] - 2)
            block_entities = entity_count(html)
        sep = 2 if (parts or header) else 0
        units = tg_len(html)
        if parts and (size + sep + units > MAX_MESSAGE_CHARS or entities + block_entities > MAX_ENTITIES):
            flush()
            parts, outbox, articles = [], [], []
            size, entities = header_size
            sep = 2 if header else 0
        parts.append(html)
        size += sep + units
        entities += block_entities
        outbox.extend(oids)
        articles.extend(aids)
    flush()
    return messages


def plan_messages(items: list[DigestItem], *, lang: str, tz: ZoneInfo, now: datetime, mode: str,
                  sentences: int = 2, per_category: int = PER_CATEGORY, photos: bool = True) -> list[Message]:
    """The messages for one chat's due items (instant: items in order; digest: by category, newest first)."""
    out: list[Message] = []
    for thread_id in sorted({i.thread_id for i in items}):
        mine = [i for i in items if i.thread_id == thread_id]
        if mode == "digest":
            out.extend(_digest(mine, lang, tz, now, sentences, per_category, thread_id))
            continue
        if photos and len(mine) == 1 and mine[0].image_url:
            photo = _photo(mine[0], lang, tz, now, sentences)
            if photo is not None:
                out.append(photo)
                continue
        mine.sort(key=lambda i: (i.published, i.article_id))
        blocks: list[Block] = [(digest_item(i, lang, tz, now, sentences, with_category=True), (i.outbox_id,),
                                (i.article_id,)) for i in mine]
        header = digest_header(lang, len(mine)) if len(mine) > 1 else ""
        out.extend(_split(blocks, header, thread_id))
    return out


def _photo(item: DigestItem, lang: str, tz: ZoneInfo, now: datetime, sentences: int) -> Message | None:
    for n in range(sentences, -1, -1):
        caption = digest_item(item, lang, tz, now, n, with_category=True)
        if tg_len(plain_text(caption)) <= MAX_CAPTION_CHARS and tg_len(caption) <= MAX_MESSAGE_CHARS:
            return Message(item.thread_id, caption, (item.outbox_id,), (item.article_id,), photo_url=item.image_url)
    return None


def _digest(items: list[DigestItem], lang: str, tz: ZoneInfo, now: datetime, sentences: int, per_category: int,
            thread_id: int) -> list[Message]:
    groups: dict[tuple[str, ...], list[DigestItem]] = {}
    for item in items:
        groups.setdefault(item.categories, []).append(item)
    blocks: list[Block] = []
    for path in sorted(groups):
        group = sorted(groups[path], key=lambda i: (i.published, i.article_id), reverse=True)
        shown, rest = group[:per_category], group[per_category:]
        for n, item in enumerate(shown):
            html = digest_item(item, lang, tz, now, sentences)
            if n == 0:
                html = category_heading(path, lang) + "\n" + html
            extra_oids: tuple[int, ...] = ()
            if rest and n == len(shown) - 1:
                html += "\n" + more_in_category(lang, len(rest), path)
                extra_oids = tuple(i.outbox_id for i in rest)  # counted here: delivered as a pointer
            blocks.append((html, (item.outbox_id, *extra_oids), (item.article_id,)))
    return _split(blocks, digest_header(lang, len(items)), thread_id)
