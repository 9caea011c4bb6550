"""Inline search: `@bot words` in any chat answers with up to 20 articles (the /search query language;
no words: the newest), paged with next_offset; choosing one posts the formatted item with its link.

Caching: an article result holds no word of the user's language (bot.core.render.inline_result), but its
titles and summaries are shown in the reader's Chinese script (Traditional readers read Simplified
sources in Traditional and the other way round, as in chats), so every answer is personal: Telegram
reuses it for the same user for CACHE_SECONDS (the newest articles change more often:
LATEST_CACHE_SECONDS). A notice (nothing found, a query to fix) is in the user's language.
"""
from __future__ import annotations

import logging

from telegram import InlineQueryResultArticle, InputTextMessageContent, Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot.core import render
from bot.core.deeplinks import (
    latest_offset,
    parse_latest_offset,
    parse_search_offset,
    read_link_template,
)
from bot.core.errors import QueryError
from bot.core.i18n import t
from handlers.common import NO_PREVIEW, Services, services, user_language
from storage.inline import InlineArticle, inline_articles, latest_page
from storage.search import search

log = logging.getLogger("newsbot.handlers")

INLINE_PAGE = 20          # Telegram shows at most 50; 20 keep the answer small and fast
MAX_INLINE_OFFSET = 1000  # 50 pages of search results
CACHE_SECONDS = 60
LATEST_CACHE_SECONDS = 10


async def inline_answer(svc: Services, bot_username: str, text: str, offset: str, lang: str
                        ) -> tuple[list[InlineQueryResultArticle], str, int, bool]:
    """(results, next_offset, cache_time, is_personal) for an inline query: what on_inline_query sends
    and bench/inline.py measures."""
    text = text.strip()
    if not text:
        items = await latest_page(svc.db, before=parse_latest_offset(offset), limit=INLINE_PAGE)
        more = latest_offset(items[-1].published_ts, items[-1].article_id) if len(items) == INLINE_PAGE else ""
        return _results(svc, bot_username, items, lang), more, LATEST_CACHE_SECONDS, True
    start = parse_search_offset(offset, MAX_INLINE_OFFSET)
    page = await search(svc.db, text, limit=INLINE_PAGE, offset=start, now=svc.clock())
    if isinstance(page, QueryError):
        return [_notice(t(lang, "inline_bad_query"), render.query_error_text(lang, page))], "", CACHE_SECONDS, True
    if not page.hits:
        if start:
            return [], "", CACHE_SECONDS, True
        return [_notice(t(lang, "inline_none"), t(lang, "inline_none_text", query=text[:100]))], "", CACHE_SECONDS, True
    items = await inline_articles(svc.db, [h.article_id for h in page.hits])
    more = str(start + len(page.hits)) if page.has_more and start + len(page.hits) < MAX_INLINE_OFFSET else ""
    return _results(svc, bot_username, items, lang), more, CACHE_SECONDS, True


def _results(svc: Services, bot_username: str, items: list[InlineArticle], lang: str
             ) -> list[InlineQueryResultArticle]:
    tz = svc.settings.timezone
    read_link = read_link_template(bot_username)
    results = []
    for item in items:
        title, description, html = (render.shown(x, lang) for x in render.inline_result(item, tz, read_link))
        results.append(InlineQueryResultArticle(
            id=str(item.article_id), title=title, description=description,
            input_message_content=InputTextMessageContent(html, parse_mode=ParseMode.HTML,
                                                          link_preview_options=NO_PREVIEW),
            thumbnail_url=item.image_url if item.image_url and item.image_url.startswith("https://") else None,
        ))
    return results


def _notice(title: str, text: str) -> InlineQueryResultArticle:
    """A result that only says something (posting it posts the notice)."""
    return InlineQueryResultArticle(id="notice", title=title, description=render.plain_text(text),
                                    input_message_content=InputTextMessageContent(text, parse_mode=ParseMode.HTML))


async def on_inline_query(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.inline_query
    assert query is not None
    results, more, cache_time, personal = await inline_answer(services(context), context.bot.username, query.query,
                                                              query.offset, user_language(update))
    await query.answer(results, cache_time=cache_time, is_personal=personal, next_offset=more)


async def on_chosen(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A user posted one of our results (only sent when inline feedback is on in @BotFather): logged."""
    chosen = update.chosen_inline_result
    if chosen is not None:
        log.info("event=inline_chosen article=%s", chosen.result_id)
