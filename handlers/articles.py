"""/latest, /read (and /read_<id>) and /search with Next/Previous buttons that survive restarts."""
from __future__ import annotations

import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from bot.categories import build_tree, resolve
from bot.digest import MAX_MESSAGE_CHARS
from bot.i18n import Markup, escape, t
from bot.ingest import current_summary
from bot.query import QueryError, page_callback, parse_page_callback
from handlers.common import MAX_ARGUMENT_CHARS, NO_PREVIEW, argument, ensure_chat, reply, services
from storage.articles import category_counts, get_article, latest
from storage.chats import ChatRow
from storage.search import SearchPage, load_session, save_session, search

LATEST_DEFAULT, LATEST_MAX = 5, 20
SEARCH_PAGE = 5


def _when(chat: ChatRow, dt) -> str:
    from zoneinfo import ZoneInfo

    return dt.astimezone(ZoneInfo(chat.timezone)).strftime("%Y-%m-%d %H:%M")


def query_error_text(lang: str, error: QueryError) -> str:
    return t(lang, f"query_{error.reason}", limit=error.limit)


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
        path, where = found.node.path, f" · {escape(found.node.label)}"
    rows = await latest(services(context).db, category=path, limit=count)
    if not rows:
        await reply(update, t(chat.lang, "latest_none"))
        return
    blocks = []
    for s in rows:
        a = s.article
        summary = " ".join(current_summary(a, s.summary, s.summary_version)[:chat.summary_length])
        head = f'<a href="{escape(a.url).replace(chr(34), "&quot;")}">{escape(a.title)}</a>' if a.url else escape(a.title)
        lines = [f"<b>{head}</b>", f"<i>{escape(a.author or a.category_path)} · {_when(chat, a.published)}</i>"]
        if summary:
            lines.append(escape(summary))
        lines.append(f"/read_{s.id}")
        blocks.append("\n".join(lines))
    await _send_blocks(update, t(chat.lang, "latest_header", where=Markup(where)), blocks)


async def _send_blocks(update: Update, header: str, blocks: list[str]) -> None:
    """Header + blocks in as few messages as fit in 4096 characters, never splitting a block."""
    current = header
    for block in blocks:
        if len(current) + 2 + len(block) > MAX_MESSAGE_CHARS:
            await reply(update, current)
            current = block[:MAX_MESSAGE_CHARS]
        else:
            current += "\n\n" + block
    await reply(update, current)


# ------------------------------------------------------------------ /read
def split_paragraphs(paragraphs: list[str], limit: int) -> list[list[str]]:
    """Group escaped paragraphs into chunks under `limit` characters; an over-long paragraph is cut at
    sentence ends (or hard) so no message is ever too long."""
    pieces: list[str] = []
    for p in paragraphs:
        while len(p) > limit:
            cut = max(p.rfind(mark, 0, limit) for mark in ("。", "！", "？", ". ", "\n", "；"))
            cut = cut + 1 if cut > limit // 2 else limit
            # never cut inside an HTML entity produced by escaping
            amp = p.rfind("&", max(0, cut - 6), cut)
            if amp != -1 and ";" not in p[amp:cut]:
                cut = amp
            pieces.append(p[:cut])
            p = p[cut:]
        if p:
            pieces.append(p)
    chunks: list[list[str]] = [[]]
    size = 0
    for piece in pieces:
        if chunks[-1] and size + len(piece) + 2 > limit:
            chunks.append([])
            size = 0
        chunks[-1].append(piece)
        size += len(piece) + 2
    return [c for c in chunks if c]


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
    head = f'<a href="{escape(a.url).replace(chr(34), "&quot;")}">{escape(a.title)}</a>' if a.url else escape(a.title)
    header = f"<b>{head}</b>\n<i>{escape(a.category_path)} · {escape(a.author)} · {_when(chat, a.published)}</i>"
    paragraphs = [escape(p) for p in a.paragraphs] or [t(chat.lang, "read_no_text")]
    chunks = split_paragraphs(paragraphs, MAX_MESSAGE_CHARS - len(header) - 40)
    for n, chunk in enumerate(chunks, start=1):
        part = f" {t(chat.lang, 'read_part', part=n, parts=len(chunks))}" if len(chunks) > 1 else ""
        body = "\n\n".join(chunk)
        await reply(update, (header + part + "\n\n" + body) if n == 1 else (part.strip() + "\n\n" + body))


# ------------------------------------------------------------------ /search
def render_page(chat: ChatRow, page: SearchPage, session_id: int) -> tuple[str, InlineKeyboardMarkup | None]:
    lang = chat.lang
    total = page.total if page.total_exact else f"≈{page.total}"  # large result sets are estimated
    lines = [t(lang, "search_header", query=page.query.describe() or page.query.text, total=total)]
    for n, hit in enumerate(page.hits, start=page.offset + 1):
        meta = escape(" · ".join(x for x in (hit.author or " › ".join(hit.categories[-2:]), _when(chat, hit.published)) if x))
        lines.append(f"\n{n}. {hit.title_html}\n<i>{meta}</i>\n{hit.snippet_html}\n/read_{hit.article_id}")
    nav = []
    if page.has_previous:
        nav.append(InlineKeyboardButton(t(lang, "button_prev"), callback_data=page_callback(session_id, page.page - 1)))
    if page.has_more:
        nav.append(InlineKeyboardButton(t(lang, "button_next"), callback_data=page_callback(session_id, page.page + 1)))
    if page.pages > 1:
        lines.append("\n" + t(lang, "page", page=page.page + 1, pages=page.pages))
    return "\n".join(lines)[:MAX_MESSAGE_CHARS], InlineKeyboardMarkup([nav]) if nav else None


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
        await reply(update, t(chat.lang, "search_none", query=page.query.describe() or text[:100]))
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
    page = await search(svc.db, session.query, limit=SEARCH_PAGE, offset=parsed[1] * SEARCH_PAGE, now=svc.clock())
    if isinstance(page, QueryError) or not page.hits:
        await query.answer(t(chat.lang, "search_expired"), show_alert=True)
        return
    await query.answer()
    text, keyboard = render_page(chat, page, session.id)
    await query.edit_message_text(text, parse_mode="HTML", reply_markup=keyboard, link_preview_options=NO_PREVIEW)


COMMANDS = {"latest": latest_command, "read": read_command, "search": search_command}
BUTTONS = {r"^search:": on_search_button}
TEXT_PATTERNS = {r"^/read_\d+": read_command}
