"""Every Telegram text the bot sends about articles, rendered from plain data: digest items, /latest,
/read and /search pages, with the UTF-16 and entity arithmetic that keeps each within Telegram's limits.

Pure. Everything taken from articles is escaped; article text is shortened as plain text before it is
escaped, so a tag or an &entity; is never cut. Lengths are UTF-16 code units, as Telegram counts them.
"""
from __future__ import annotations

import html as html_lib
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, tzinfo
from typing import Protocol
from urllib.parse import urlsplit

from bot.core.categories import Resolved
from bot.core.errors import QueryError
from bot.core.i18n import Markup, escape, t
from bot.core.model import Article
from bot.core.parse import MAX_URL_CHARS
from bot.core.query import ParsedQuery, phrase_tokens
from bot.core.script import script_of_locale, to_script
from bot.core.snippet import Snippet, find_matches

MAX_MESSAGE_CHARS = 4096
MAX_ENTITIES = 100
MAX_CAPTION_CHARS = 1024
MAX_TITLE_CHARS = 300
LABEL_UNITS = 200       # an author, a category path or a query shown in a header or meta line
SUMMARY_UNITS = 1500
SEARCH_TITLE_UNITS = 250
SEARCH_META_UNITS = 100
SNIPPET_UNITS = 300
MAX_MARKS = 6           # matches in bold per title and per snippet: a page must stay under 100 entities
READ_MAX_MESSAGES = 5   # a longer article ends with a link to its source instead of flooding the chat
MIN_CHUNK_UNITS = 1000  # /read's room for text per message, whatever the header (the header is capped anyway)
_PART_ROOM = 40         # " (n/N)" after the header and the closing "… full text" of a cut article
_SENTENCE_ENDS = ("。", "！", "？", ". ", "\n", "；")
_ENTITY_TAG = re.compile(r"<(?:b|i|u|s|a|code|pre|blockquote)[\s>]")
_AUTO_ENTITY = re.compile(r"/read_\d+|https?://|@\w{5,}|#\w+")
_TAGS = re.compile(r"<[^<>]+>")  # no "<" inside: linear on runs of "<"


# ---------------------------------------------------------------- what is rendered
# Read-only views: storage.search and bot.core.digest hand their own dataclasses in.

class ArticleView(Protocol):
    """What every rendered article shows: id, title, link, source, date and summary sentences."""

    @property
    def article_id(self) -> int: ...
    @property
    def title(self) -> str: ...
    @property
    def url(self) -> str | None: ...
    @property
    def source(self) -> str: ...
    @property
    def published(self) -> datetime: ...
    @property
    def summary(self) -> tuple[str, ...]: ...


class DigestEntry(ArticleView, Protocol):
    """An article due in a chat (bot.core.digest.DigestItem)."""

    @property
    def categories(self) -> tuple[str, ...]: ...
    @property
    def watch(self) -> str | None: ...


class Hit(Protocol):
    """One search result (storage.search.SearchHit)."""

    @property
    def article_id(self) -> int: ...
    @property
    def title(self) -> str: ...
    @property
    def author(self) -> str: ...
    @property
    def categories(self) -> tuple[str, ...]: ...
    @property
    def published(self) -> datetime: ...
    @property
    def snippet(self) -> Snippet: ...


class ResultPage(Protocol):
    """One page of search results (storage.search.SearchPage)."""

    @property
    def query(self) -> ParsedQuery: ...
    @property
    def hits(self) -> Sequence[Hit]: ...
    @property
    def total(self) -> int: ...
    @property
    def total_exact(self) -> bool: ...
    @property
    def offset(self) -> int: ...
    @property
    def page(self) -> int: ...
    @property
    def pages(self) -> int: ...


# ---------------------------------------------------------------- Telegram's arithmetic

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


def shorten(text: str, limit: int) -> str:
    """Plain `text` within `limit` UTF-16 units, ending in … when shortened (escape it afterwards)."""
    if tg_len(text) <= limit:
        return text
    return tg_cut(text, limit - 1).rstrip() + "…"


def entity_count(html: str) -> int:
    """Upper bound of the entities Telegram will see: our tags plus what it auto-detects (commands, URLs)."""
    return len(_ENTITY_TAG.findall(html)) + len(_AUTO_ENTITY.findall(_TAGS.sub("", html)))


def plain_text(html: str) -> str:
    """The message without markup (the fallback when Telegram refuses our HTML)."""
    return html_lib.unescape(_TAGS.sub("", html))


def html_units(html: str) -> int:
    """What Telegram counts of an HTML message: the UTF-16 units of its text after parsing."""
    return tg_len(plain_text(html))


def fits(html: str) -> bool:
    """Whether an HTML message is within Telegram's text and entity limits."""
    return html_units(html) <= MAX_MESSAGE_CHARS and entity_count(html) <= MAX_ENTITIES


def pack_blocks(header: str, blocks: Iterable[str]) -> list[str]:
    """Header + blocks (blank lines between) in as few messages as fit, never splitting a block (each
    is capped to fit alone)."""
    messages: list[str] = []
    current = header
    for block in blocks:
        if fits(current + "\n\n" + block):
            current += "\n\n" + block
        else:
            messages.append(current)
            current = block
    messages.append(current)
    return messages


def pack_lines(lines: Iterable[str]) -> list[str]:
    """HTML lines in as few messages as fit Telegram's limit (UTF-16 units), never splitting a line;
    empty messages left out (Telegram refuses them).

    A line too long for a message on its own (it would have to be cut inside its markup) becomes its
    plain text, cut to fit.
    """
    messages: list[str] = []
    chunk: list[str] = []
    size = 0

    def flush() -> None:
        text = "\n".join(chunk)
        if text.strip():
            messages.append(text)

    for line in lines:
        units = tg_len(line)
        if units > MAX_MESSAGE_CHARS:
            line = escape(tg_cut(plain_text(line), MAX_MESSAGE_CHARS // 2 - 1) + "…")  # escaping may double it
            units = tg_len(line)
        if chunk and size + units + 1 > MAX_MESSAGE_CHARS:
            flush()
            chunk, size = [], 0
        chunk.append(line)
        size += units + 1
    flush()
    return messages


# ---------------------------------------------------------------- pieces

def linkable(url: str | None) -> bool:
    """Whether a URL can be a link: a longer "URL" is not one Telegram would open."""
    return url is not None and 0 < len(url) <= MAX_URL_CHARS


def link_html(url: str | None, label_html: str) -> str:
    """`label_html` linked to `url`, or left as it is when there is no URL or it is too long to send."""
    if url is None or not linkable(url):
        return label_html
    href = url.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
    return f'<a href="{href}">{label_html}</a>'


def snippet_html(snippet: Snippet) -> str:
    """An excerpt as Telegram HTML: its marks in <b>, everything else escaped."""
    return snippet.render("<b>", "</b>", escape)


def highlight_html(text: str, phrases: Sequence[Sequence[str]]) -> str:
    """The whole of `text` (e.g. a title) as Telegram HTML with every match in <b>."""
    return snippet_html(Snippet(text, tuple(find_matches(text, phrases))))


def _when(published: datetime, tz: tzinfo) -> str:
    return published.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def _title(title: str, url: str | None) -> str:
    return f"<b>{link_html(url, escape(shorten(title, MAX_TITLE_CHARS)))}</b>"


def query_error_text(lang: str, error: QueryError) -> str:
    """Why a query was refused, in the chat's language."""
    return t(lang, f"query_{error.reason}", limit=error.limit)


def search_error(lang: str, error: QueryError) -> str:
    return t(lang, "search_error", reason=Markup(query_error_text(lang, error)))


def category_not_found(lang: str, name: str, found: Resolved) -> str:
    """An unknown or ambiguous category name, with the paths it may have meant."""
    names = ", ".join(f"<code>{escape('/'.join(n.path))}</code>" for n in found.candidates)
    text = t(lang, "ambiguous_category" if found.ambiguous else "unknown_category", name=name, names=Markup(names))
    if found.candidates and not found.ambiguous:
        text += "\n" + t(lang, "did_you_mean", names=Markup(names))
    return text


def shown(text: str, lang: str, *, same_length: bool = False) -> str:
    """Article text (a title, a summary, a category name) in the chat's Chinese script (bot.core.script):
    a Traditional reader reads Simplified sources in Traditional and the other way round. Stored text
    stays as published. `same_length`: keep every character in place (text with marks in it)."""
    return to_script(text, script_of_locale(lang), same_length=same_length)


# ---------------------------------------------------------------- digests and instant messages

def digest_item(item: DigestEntry, lang: str, tz: tzinfo, now: datetime, sentences: int,
                *, with_category: bool = False) -> str:
    """One item: linked title, source and time, why it came (a watch), its first `sentences`, /read."""
    title = shown(item.title, lang)
    title = title if len(title) <= MAX_TITLE_CHARS else title[:MAX_TITLE_CHARS - 1] + "…"
    head = link_html(item.url, escape(title))
    local = item.published.astimezone(tz)
    when = local.strftime("%m-%d %H:%M" if local.year == now.astimezone(tz).year else "%Y-%m-%d %H:%M")
    meta = [shown(item.source[:100], lang), when]
    if with_category and item.categories:
        meta.insert(0, shown(" › ".join(item.categories[-2:]), lang))
    lines = [f"<b>{head}</b>", f"<i>{escape(' · '.join(m for m in meta if m))}</i>"]
    if item.watch:
        lines.append(t(lang, "watch_reason", query=item.watch))
    summary = shown(" ".join(item.summary[:sentences]), lang)
    if summary:
        lines.append(escape(summary))
    lines.append(f"/read_{item.article_id}")
    return "\n".join(lines)


def digest_header(lang: str, count: int) -> str:
    return t(lang, "digest_title", count=count)


def category_heading(path: tuple[str, ...], lang: str = "") -> str:
    """The line above a category's first item in a digest."""
    return f"<b>▌{escape(shown(' › '.join(path), lang))}</b>"


def more_in_category(lang: str, count: int, path: tuple[str, ...]) -> str:
    """The pointer to /latest for a category's items past the digest's cap."""
    return t(lang, "more_in_category", count=count, name=Markup(escape(shown(path[-1], lang) if path else "")))


def shrink_item(html: str, room: int) -> str:
    """Last resort for a single item too big for a message: drop its summary lines; if that is not
    enough, its plain text, cut to fit (HTML is never cut: Telegram refuses an unclosed tag)."""
    lines = html.split("\n")
    short = "\n".join(lines[:2] + lines[-1:])
    if tg_len(short) <= room:
        return short
    return escape(tg_cut(plain_text(short), room // 5 - 1)) + "…"  # escaping makes a character at most 5


# ---------------------------------------------------------------- /latest

def latest_messages(lang: str, tz: tzinfo, label: str, items: Iterable[tuple[int, Article, Sequence[str]]]
                    ) -> list[str]:
    """/latest: a header naming the category `label` (empty: all), then (id, article, summary
    sentences) newest first, in as few messages as fit."""
    where = f" · {escape(shorten(shown(label, lang), LABEL_UNITS))}" if label else ""
    blocks = []
    for article_id, a, sentences in items:
        summary = shown(" ".join(sentences), lang)
        meta = shorten(shown(a.author or a.category_path, lang), LABEL_UNITS)
        lines = [_title(shown(a.title, lang), a.url), f"<i>{escape(meta)} · {_when(a.published, tz)}</i>"]
        if summary:
            lines.append(escape(shorten(summary, SUMMARY_UNITS)))
        lines.append(f"/read_{article_id}")
        blocks.append("\n".join(lines))
    return pack_blocks(t(lang, "latest_header", where=Markup(where)), blocks)


# ---------------------------------------------------------------- /read

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


def read_messages(lang: str, tz: tzinfo, a: Article, *, article_id: int | None = None,
                  original: bool = False) -> list[str]:
    """/read: the header (title, category, author, time), then the text in at most READ_MAX_MESSAGES
    messages numbered (n/N), a longer one ending with a link to the source.

    In the chat's Chinese script; when that changed the text, the header offers the original as
    published (`/read_<id>_orig`, which renders with `original=True`)."""
    script_lang = "" if original else lang
    title, author = shown(a.title, script_lang), shown(a.author, script_lang)
    paragraphs = [shown(p, script_lang) for p in a.paragraphs]
    meta = " · ".join((shorten(shown(a.category_path, script_lang), LABEL_UNITS), shorten(author, LABEL_UNITS)))
    header = f"{_title(title, a.url)}\n<i>{escape(meta)} · {_when(a.published, tz)}</i>"
    converted = (title, author, paragraphs) != (a.title, a.author, list(a.paragraphs))
    if converted and article_id is not None:
        header += "\n" + t(lang, "read_original", command=f"/read_{article_id}_orig")
    if not paragraphs:
        return [header + "\n\n" + t(lang, "read_no_text")]
    limit = max(MAX_MESSAGE_CHARS - html_units(header) - _PART_ROOM, MIN_CHUNK_UNITS)
    chunks, cut = split_paragraphs(paragraphs, limit, READ_MAX_MESSAGES)
    messages = []
    for n, chunk in enumerate(chunks, start=1):
        part = t(lang, "read_part", part=n, parts=len(chunks)) if len(chunks) > 1 else ""
        body = "\n\n".join(escape(p) for p in chunk)
        if cut and n == len(chunks):
            body += "\n\n" + ("… " + link_html(a.url, t(lang, "read_more")) if linkable(a.url) else "…")
        head = f"{header} {part}".rstrip() if n == 1 else part
        messages.append(head + "\n\n" + body)
    return messages


# ---------------------------------------------------------------- /search

def _hit_html(tz: tzinfo, n: int, hit: Hit, phrases: Sequence[Sequence[str]] | None, lang: str = "") -> str:
    """One result, title and snippet shortened as plain text; its first matches in bold unless
    `phrases` is None. In the chat's script, character for character, so the marks stay in place."""
    title = shown(shorten(hit.title, SEARCH_TITLE_UNITS), lang, same_length=True)
    text = shown(hit.snippet.text, lang, same_length=True)
    marks, cut_after = hit.snippet.marks, hit.snippet.cut_after
    if tg_len(text) > SNIPPET_UNITS:
        text, cut_after = tg_cut(text, SNIPPET_UNITS), True
        marks = tuple((s, min(e, len(text))) for s, e in marks if s < len(text))
    bold = phrases is not None
    title_marks = tuple(find_matches(title, phrases)[:MAX_MARKS]) if phrases is not None else ()
    title_html = snippet_html(Snippet(title, title_marks))
    excerpt = snippet_html(Snippet(text, marks[:MAX_MARKS] if bold else (), hit.snippet.cut_before, cut_after))
    source = shorten(shown(hit.author or " › ".join(hit.categories[-2:]), lang), SEARCH_META_UNITS)
    meta = escape(" · ".join(x for x in (source, _when(hit.published, tz)) if x))
    return f"\n{n}. {title_html}\n<i>{meta}</i>\n{excerpt}\n/read_{hit.article_id}"


def search_page(lang: str, tz: tzinfo, page: ResultPage) -> str:
    """A page of results: the query and total, numbered hits with their matches in bold, page n/N."""
    total = page.total if page.total_exact else f"≈{page.total}"  # large result sets are estimated
    query = shorten(shown(page.query.describe() or page.query.text, lang), LABEL_UNITS)  # folded: Simplified
    header = t(lang, "search_header", query=query, total=total)
    footer = ["\n" + t(lang, "page", page=page.page + 1, pages=page.pages)] if page.pages > 1 else []
    # Capped titles, snippets and bold make a full page fit. Should it not (hashtags or links past the
    # entity limit), drop the bold, then whole hits from the end: a cut tag would make Telegram refuse it all.
    phrases = phrase_tokens(page.query)
    hits = [_hit_html(tz, n, hit, phrases, lang) for n, hit in enumerate(page.hits, page.offset + 1)]
    text = "\n".join([header, *hits, *footer])
    if not fits(text):
        hits = [_hit_html(tz, n, hit, None, lang) for n, hit in enumerate(page.hits, page.offset + 1)]
        for keep in range(len(hits), 0, -1):  # one hit past the entity limit is sent: Telegram drops the rest
            text = "\n".join([header, *hits[:keep], *footer])
            if fits(text):
                break
    return text


def search_none(lang: str, query: ParsedQuery, text: str) -> str:
    """No results for the query the user typed as `text`."""
    return t(lang, "search_none", query=shorten(shown(query.describe() or text, lang), 100))


# ---------------------------------------------------------------- channels and inline answers

INLINE_TITLE_UNITS = 200
INLINE_DESCRIPTION_UNITS = 300
_READ_LINE = re.compile(r"^/read_(\d+)$", re.MULTILINE)


def for_channel(html: str, lang: str, read_link: str) -> str:
    """A digest message as a channel post: each `/read_<id>` line (a command, which does nothing in a
    channel) becomes a link to the article in a private chat with the bot. `read_link` has `{id}` where
    the article id goes. The label is never longer than the command it replaces, so the message still
    fits the limits it was planned for."""
    label = escape(t(lang, "channel_read"))

    def link(m: re.Match[str]) -> str:
        return link_html(read_link.format(id=m.group(1)), label)

    return _READ_LINE.sub(link, html)


class InlineEntry(ArticleView, Protocol):
    """An article offered in an inline answer (what storage gives: id, article, summary sentences)."""

    @property
    def image_url(self) -> str | None: ...


def _host(url: str | None) -> str | None:
    if url is None or not linkable(url):
        return None
    try:
        return urlsplit(url).hostname
    except ValueError:  # a malformed [IPv6] host
        return None


def inline_result(entry: InlineEntry, tz: tzinfo, read_link: str, sentences: int = 2) -> tuple[str, str, str]:
    """(title, description, message HTML) of one inline result: the title and "source · date" above the
    summary in the list; posted, the linked title, source and date, the summary, the article's link (its
    site's name) and 📖 to read it in a private chat with the bot (not a command: the chat where it is
    posted may not be the bot's). No word in it depends on the user's language, so Telegram may cache
    one answer for everyone (handlers/inline.py)."""
    title = shorten(entry.title, INLINE_TITLE_UNITS) or "—"
    meta = " · ".join(x for x in (shorten(entry.source, SEARCH_META_UNITS), _when(entry.published, tz)) if x)
    summary = " ".join(entry.summary[:sentences])
    description = shorten(f"{meta}\n{summary}" if summary else meta, INLINE_DESCRIPTION_UNITS)
    lines = [_title(entry.title, entry.url), f"<i>{escape(meta)}</i>"]
    if summary:
        lines.append(escape(shorten(summary, SUMMARY_UNITS)))
    links = []
    host = _host(entry.url)
    if host:
        links.append(link_html(entry.url, "🔗 " + escape(shorten(host.removeprefix("www."), LABEL_UNITS))))
    links.append(link_html(read_link.format(id=entry.article_id), f"📖 {entry.article_id}"))
    lines.append(" · ".join(links))
    return title, description, "\n".join(lines)
