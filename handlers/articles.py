"""/latest, /read (and /read_<id>) and /search with Next/Previous buttons that survive restarts.

Every reply is built to fit Telegram's limits (4096 UTF-16 units of text after parsing, 100 entities):
article text is shortened as plain text before it is escaped, so a tag or an &entity; is never cut.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.core.categories import build_tree, resolve
from bot.core.digest import (
    MAX_ENTITIES,
    MAX_MESSAGE_CHARS,
    MAX_TITLE_CHARS,
    entity_count,
    link_html,
    linkable,
    plain_text,
    tg_cut,
    tg_len,
)
from bot.core.errors import QueryError
from bot.core.i18n import Markup, escape, t
from bot.core.query import page_callback, parse_page_callback, phrase_tokens
from bot.core.snippet import Snippet, find_matches
from bot.core.summarise import current_summary
from handlers.common import (
    MAX_ARGUMENT_CHARS,
    NO_PREVIEW,
    argument,
    ensure_chat,
    reply,
    services,
)
from storage.articles import category_counts, get_article, latest
from storage.chats import ChatRow
from storage.search import SearchHit, SearchPage, load_session, save_session, search

LATEST_DEFAULT, LATEST_MAX = 5, 20
SEARCH_PAGE = 5
READ_MAX_MESSAGES = 5   # a longer article ends with a link to its source instead of flooding the chat
LABEL_UNITS = 200       # an author, a category path or a query shown in a header or meta line
SUMMARY_UNITS = 1500
SEARCH_TITLE_UNITS = 250
SEARCH_META_UNITS = 100
SNIPPET_UNITS = 300
MAX_MARKS = 6           # matches in bold per title and per snippet: a page must stay under 100 entities
MIN_CHUNK_UNITS = 1000  # /read's room for text per message, whatever the header (the header is capped anyway)
_PART_ROOM = 40         # " (n/N)" after the header and the closing "… full text" of a cut article
_SENTENCE_ENDS = ("。", "！", "？", ". ", "\n", "；")


def _when(chat: ChatRow, dt) -> str:
    from zoneinfo import ZoneInfo

    return dt.astimezone(ZoneInfo(chat.timezone)).strftime("%Y-%m-%d %H:%M")


def query_error_text(lang: str, error: QueryError) -> str:
    return t(lang, f"query_{error.reason}", limit=error.limit)


def _shorten(text: str, limit: int) -> str:
    """Plain `text` within `limit` UTF-16 units, ending in … when shortened (escape it afterwards)."""
    if tg_len(text) <= limit:
        return text
    return tg_cut(text, limit - 1).rstrip() + "…"


def _units(html: str) -> int:
    """What Telegram counts of an HTML message: the UTF-16 units of its text after parsing."""
    return tg_len(plain_text(html))


def _fits(html: str) -> bool:
    return _units(html) <= MAX_MESSAGE_CHARS and entity_count(html) <= MAX_ENTITIES


def _title(title: str, url: str | None) -> str:
    return f"<b>{link_html(url, escape(_shorten(title, MAX_TITLE_CHARS)))}</b>"


# ------------------------------------------------------------------ /latest
async def latest_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    chat, _ = await ensure_chat(update, context)
    args = list(context.args or [])
    count = LATEST_DEFAULT
    if args and re.fullmatch(r"[0-9０-９]{1,6}", args[-1]):
        count = int(args.pop().translate(str.maketrans("０１２３４５６７８９", "0123456789")))
        if not 1 <= count <= LATEST_MAX:
            await reply(update, t(chat.lang, "latest_bad_count", max=LATEST_MAX))
            return
    name = " ".join(args).strip()
    path: tuple[str, ...] = ()
    where = ""
    if name:
        if len(name) > MAX_ARGUMENT_CHARS:
            await reply(update, t(chat.lang, "argument_too_long", limit=MAX_ARGUMENT_CHARS))
            return
        found = resolve(build_tree(await category_counts(services(context).db)), name)
        if found.node is None:
            names = ", ".join(f"<code>{escape('/'.join(n.path))}</code>" for n in found.candidates)
            text = t(chat.lang, "ambiguous_category" if found.ambiguous else "unknown_category", name=name,
                     names=Markup(names))
            if found.candidates and not found.ambiguous:
                text += "\n" + t(chat.lang, "did_you_mean", names=Markup(names))
            await reply(update, text)
            return
        path, where = found.node.path, f" · {escape(_shorten(found.node.label, LABEL_UNITS))}"
    rows = await latest(services(context).db, category=path, limit=count)
    if not rows:
        await reply(update, t(chat.lang, "latest_none"))
        return
    blocks = []
    for s in rows:
        a = s.article
        summary = " ".join(current_summary(a, s.summary, s.summary_version)[:chat.summary_length])
        meta = _shorten(a.author or a.category_path, LABEL_UNITS)
        lines = [_title(a.title, a.url), f"<i>{escape(meta)} · {_when(chat, a.published)}</i>"]
        if summary:
            lines.append(escape(_shorten(summary, SUMMARY_UNITS)))
        lines.append(f"/read_{s.id}")
        blocks.append("\n".join(lines))
    await _send_blocks(update, t(chat.lang, "latest_header", where=Markup(where)), blocks)


async def _send_blocks(update: Update, header: str, blocks: list[str]) -> None:
    """Header + blocks in as few messages as fit, never splitting a block (each is capped to fit alone)."""
    current = header
    for block in blocks:
        if _fits(current + "\n\n" + block):
            current += "\n\n" + block
        else:
            await reply(update, current)
            current = block
    await reply(update, current)


# ------------------------------------------------------------------ /read
def _pieces(paragraphs: Iterable[str], limit: int) -> Iterator[str]:
    """Plain paragraphs, an over-long one cut at a sentence end (or hard) into parts of at most `limit`
    UTF-16 units, never inside a surrogate pair. Lazy: /read stops once it has enough."""
    assert limit >= 2  # so every cut takes at least one character
    for p in paragraphs:
        while True:
            head = tg_cut(p, limit)
            if len(head) == len(p):
                break
            cut = max(head.rfind(mark) + 1 for mark in _SENTENCE_ENDS)
            if cut <= len(head) // 2:
                cut = len(head)
            yield head[:cut]
            p = p[cut:].lstrip()
        if p.strip():
            yield p


def split_paragraphs(paragraphs: Iterable[str], limit: int, max_chunks: int) -> tuple[list[list[str]], bool]:
    """Group plain paragraphs into at most `max_chunks` chunks of at most `limit` UTF-16 units (blank
    lines between them included). Also returns whether text was left over."""
    chunks: list[list[str]] = []
    size = 0
    for piece in _pieces(paragraphs, limit):
        units = tg_len(piece)
        if chunks and size + 2 + units <= limit:
            chunks[-1].append(piece)
            size += 2 + units
            continue
        if len(chunks) == max_chunks:
            return chunks, True
        chunks.append([piece])
        size = units
    return chunks, False


async def read_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    chat, _ = await ensure_chat(update, context)
    text = update.effective_message.text or ""
    m = re.match(r"^/read_(\d{1,12})(?:@\w+)?\b", text)
    raw = m.group(1) if m else argument(context)
    if not re.fullmatch(r"\d{1,12}", raw or ""):
        await reply(update, t(chat.lang, "read_usage"))
        return
    stored = await get_article(services(context).db, int(raw))
    if stored is None:
        await reply(update, t(chat.lang, "read_not_found", id=raw))
        return
    a = stored.article
    meta = " · ".join((_shorten(a.category_path, LABEL_UNITS), _shorten(a.author, LABEL_UNITS)))
    header = f"{_title(a.title, a.url)}\n<i>{escape(meta)} · {_when(chat, a.published)}</i>"
    if not a.paragraphs:
        await reply(update, header + "\n\n" + t(chat.lang, "read_no_text"))
        return
    limit = max(MAX_MESSAGE_CHARS - _units(header) - _PART_ROOM, MIN_CHUNK_UNITS)
    chunks, cut = split_paragraphs(a.paragraphs, limit, READ_MAX_MESSAGES)
    for n, chunk in enumerate(chunks, start=1):
        part = t(chat.lang, "read_part", part=n, parts=len(chunks)) if len(chunks) > 1 else ""
        body = "\n\n".join(escape(p) for p in chunk)
        if cut and n == len(chunks):
            body += "\n\n" + ("… " + link_html(a.url, t(chat.lang, "read_more")) if linkable(a.url) else "…")
        head = f"{header} {part}".rstrip() if n == 1 else part
        await reply(update, head + "\n\n" + body)


# ------------------------------------------------------------------ /search
def _hit_html(chat: ChatRow, n: int, hit: SearchHit, phrases: list | None) -> str:
    """One result, title and snippet shortened as plain text; its first matches in bold unless
    `phrases` is None."""
    title = _shorten(hit.title, SEARCH_TITLE_UNITS)
    text, marks, cut_after = hit.snippet.text, hit.snippet.marks, hit.snippet.cut_after
    if tg_len(text) > SNIPPET_UNITS:
        text, cut_after = tg_cut(text, SNIPPET_UNITS), True
        marks = tuple((s, min(e, len(text))) for s, e in marks if s < len(text))
    bold = phrases is not None
    title_html = Snippet(title, tuple(find_matches(title, phrases)[:MAX_MARKS]) if bold else ()).html()
    snippet_html = Snippet(text, marks[:MAX_MARKS] if bold else (), hit.snippet.cut_before, cut_after).html()
    source = _shorten(hit.author or " › ".join(hit.categories[-2:]), SEARCH_META_UNITS)
    meta = escape(" · ".join(x for x in (source, _when(chat, hit.published)) if x))
    return f"\n{n}. {title_html}\n<i>{meta}</i>\n{snippet_html}\n/read_{hit.article_id}"


def render_page(chat: ChatRow, page: SearchPage, session_id: int) -> tuple[str, InlineKeyboardMarkup | None]:
    lang = chat.lang
    total = page.total if page.total_exact else f"≈{page.total}"  # large result sets are estimated
    query = _shorten(page.query.describe() or page.query.text, LABEL_UNITS)
    header = t(lang, "search_header", query=query, total=total)
    nav = []
    if page.has_previous:
        nav.append(InlineKeyboardButton(t(lang, "button_prev"), callback_data=page_callback(session_id, page.page - 1)))
    if page.has_more:
        nav.append(InlineKeyboardButton(t(lang, "button_next"), callback_data=page_callback(session_id, page.page + 1)))
    footer = ["\n" + t(lang, "page", page=page.page + 1, pages=page.pages)] if page.pages > 1 else []
    keyboard = InlineKeyboardMarkup([nav]) if nav else None
    # Capped titles, snippets and bold make a full page fit. Should it not (hashtags or links past the
    # entity limit), drop the bold, then whole hits from the end: a cut tag would make Telegram refuse it all.
    phrases = phrase_tokens(page.query)
    hits = [_hit_html(chat, n, hit, phrases) for n, hit in enumerate(page.hits, page.offset + 1)]
    text = "\n".join([header, *hits, *footer])
    if not _fits(text):
        hits = [_hit_html(chat, n, hit, None) for n, hit in enumerate(page.hits, page.offset + 1)]
        for keep in range(len(hits), 0, -1):  # one hit past the entity limit is sent: Telegram drops the rest
            text = "\n".join([header, *hits[:keep], *footer])
            if _fits(text):
                break
    return text, keyboard


async def search_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    chat, _ = await ensure_chat(update, context)
    text = argument(context)
    if not text:
        await reply(update, t(chat.lang, "search_usage"))
        return
    svc = services(context)
    page = await search(svc.db, text, limit=SEARCH_PAGE, now=svc.clock())
    if isinstance(page, QueryError):
        await reply(update, t(chat.lang, "search_error", reason=Markup(query_error_text(chat.lang, page))))
        return
    if not page.hits:
        await reply(update, t(chat.lang, "search_none", query=_shorten(page.query.describe() or text, 100)))
        return
    session_id = await save_session(svc.db, chat.id, text, now=svc.clock())
    await reply(update, *render_page(chat, page, session_id))


async def on_search_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    chat, _ = await ensure_chat(update, context)
    parsed = parse_page_callback(query.data or "")
    svc = services(context)
    session = await load_session(svc.db, parsed[0], chat.id) if parsed else None
    if session is None:  # forged, foreign or expired
        await query.answer(t(chat.lang, "search_expired"), show_alert=True)
        return
    # Answered after the search (milliseconds, see bench/search.py), so that a page which is gone or
    # forged gets an alert and leaves the message as it is.
    page = await search(svc.db, session.query, limit=SEARCH_PAGE, offset=parsed[1] * SEARCH_PAGE, now=svc.clock())
    if isinstance(page, QueryError) or not page.hits:
        await query.answer(t(chat.lang, "search_expired"), show_alert=True)
        return
    await query.answer()
    await _edit(query, *render_page(chat, page, session.id))


async def _edit(query, text: str, keyboard: InlineKeyboardMarkup | None) -> None:
    try:
        await query.edit_message_text(text, parse_mode="HTML", reply_markup=keyboard, link_preview_options=NO_PREVIEW)
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():  # a double tap asks twice for the page already shown
            raise
