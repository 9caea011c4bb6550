"""Plan and format what a chat receives: digest items → Telegram HTML messages within the limits.

Pure. A message never exceeds 4096 characters (UTF-16 code units, as Telegram counts) or 100 entities, an item is never split across two
messages, everything taken from articles is escaped, and digest mode groups items under category
headers, newest first, at most K per category with the rest counted and pointed to /latest.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core.i18n import Markup, escape, t
from bot.core.parse import MAX_URL_CHARS

MAX_MESSAGE_CHARS = 4096
MAX_ENTITIES = 100
MAX_CAPTION_CHARS = 1024
PER_CATEGORY = 10
MAX_TITLE_CHARS = 300
_ENTITY_TAG = re.compile(r"<(?:b|i|u|s|a|code|pre|blockquote)[\s>]")
_AUTO_ENTITY = re.compile(r"/read_\d+|https?://|@\w{5,}|#\w+")
_TAGS = re.compile(r"<[^>]+>")


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


def tg_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji or a rare CJK character counts 2)."""
    return len(text) if text.isascii() else len(text.encode("utf-16-le", "surrogatepass")) // 2


def tg_cut(text: str, limit: int) -> str:
    """The longest prefix of `text` within `limit` UTF-16 code units (never half a surrogate pair)."""
    text = text[: max(limit, 0)]  # every character is at least one unit
    if tg_len(text) <= limit:
        return text
    units = 0
    for i, ch in enumerate(text):
        units += 2 if ch > "\uffff" else 1
        if units > limit:
            return text[:i]
    return text


def entity_count(html: str) -> int:
    """Upper bound of the entities Telegram will see: our tags plus what it auto-detects (commands, URLs)."""
    return len(_ENTITY_TAG.findall(html)) + len(_AUTO_ENTITY.findall(_TAGS.sub("", html)))


def plain_text(html: str) -> str:
    """The message without markup (the fallback when Telegram refuses our HTML)."""
    import html as html_lib

    return html_lib.unescape(_TAGS.sub("", html))


def _when(published: datetime, tz: ZoneInfo, now: datetime) -> str:
    local = published.astimezone(tz)
    return local.strftime("%m-%d %H:%M" if local.year == now.astimezone(tz).year else "%Y-%m-%d %H:%M")


def linkable(url: str | None) -> bool:
    """Whether a URL can be a link: a longer "URL" is not one Telegram would open."""
    return bool(url) and len(url) <= MAX_URL_CHARS


def link_html(url: str | None, label_html: str) -> str:
    """`label_html` linked to `url`, or left as it is when there is no URL or it is too long to send."""
    if not linkable(url):
        return label_html
    href = url.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
    return f'<a href="{href}">{label_html}</a>'


def render_item(item: DigestItem, lang: str, tz: ZoneInfo, now: datetime, sentences: int,
                *, with_category: bool = False) -> str:
    title = item.title if len(item.title) <= MAX_TITLE_CHARS else item.title[:MAX_TITLE_CHARS - 1] + "…"
    head = link_html(item.url, escape(title))
    meta = [item.source[:100], _when(item.published, tz, now)]
    if with_category and item.categories:
        meta.insert(0, " › ".join(item.categories[-2:]))
    lines = [f"<b>{head}</b>", f"<i>{escape(' · '.join(m for m in meta if m))}</i>"]
    if item.watch:
        lines.append(t(lang, "watch_reason", query=item.watch))
    summary = " ".join(item.summary[:sentences])
    if summary:
        lines.append(escape(summary))
    lines.append(f"/read_{item.article_id}")
    return "\n".join(lines)


def _split(blocks: list[tuple[str, tuple[int, ...], tuple[int, ...]]], header: str, thread_id: int) -> list[Message]:
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
            html = _shrink(html, MAX_MESSAGE_CHARS - header_size[0] - 2)
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


def _shrink(html: str, room: int) -> str:
    """Last resort for a single block too big for a message: drop its summary lines; if that is not
    enough, its plain text, cut to fit (HTML is never cut: Telegram refuses an unclosed tag)."""
    lines = html.split("\n")
    short = "\n".join(lines[:2] + lines[-1:])
    if tg_len(short) <= room:
        return short
    return escape(tg_cut(plain_text(short), room // 5 - 1)) + "…"  # escaping makes a character at most 5


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
        blocks = [(render_item(i, lang, tz, now, sentences, with_category=True), (i.outbox_id,), (i.article_id,))
                  for i in mine]
        header = t(lang, "digest_title", count=len(mine)) if len(mine) > 1 else ""
        out.extend(_split(blocks, header, thread_id))
    return out


def _photo(item: DigestItem, lang: str, tz: ZoneInfo, now: datetime, sentences: int) -> Message | None:
    for n in range(sentences, -1, -1):
        caption = render_item(item, lang, tz, now, n, with_category=True)
        if tg_len(plain_text(caption)) <= MAX_CAPTION_CHARS and tg_len(caption) <= MAX_MESSAGE_CHARS:
            return Message(item.thread_id, caption, (item.outbox_id,), (item.article_id,), photo_url=item.image_url)
    return None


def _digest(items: list[DigestItem], lang: str, tz: ZoneInfo, now: datetime, sentences: int, per_category: int,
            thread_id: int) -> list[Message]:
    groups: dict[tuple[str, ...], list[DigestItem]] = {}
    for item in items:
        groups.setdefault(item.categories, []).append(item)
    blocks = []
    for path in sorted(groups):
        group = sorted(groups[path], key=lambda i: (i.published, i.article_id), reverse=True)
        shown, rest = group[:per_category], group[per_category:]
        label = escape(" › ".join(path))
        for n, item in enumerate(shown):
            html = render_item(item, lang, tz, now, sentences)
            if n == 0:
                html = f"<b>▌{label}</b>\n" + html
            extra_oids: tuple[int, ...] = ()
            if rest and n == len(shown) - 1:
                name = path[-1] if path else ""
                html += "\n" + t(lang, "more_in_category", count=len(rest), name=Markup(escape(name)))
                extra_oids = tuple(i.outbox_id for i in rest)  # counted here: delivered as a pointer
            blocks.append((html, (item.outbox_id, *extra_oids), (item.article_id,)))
    header = t(lang, "digest_title", count=len(items))
    return _split(blocks, header, thread_id)
