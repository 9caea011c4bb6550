"""What an inline query (`@bot words`) offers: articles with the summary and lead image a result shows.

Search pages come from storage.search (the same query language as /search); an empty query pages
through the newest articles by a (published, id) cursor, one index seek a page however deep.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.core.summarise import current_summary
from storage.articles import StoredArticle, get_articles
from storage.db import Database


@dataclass(frozen=True, slots=True)
class InlineArticle:
    """Satisfies bot.core.render.InlineEntry."""

    article_id: int
    title: str
    url: str | None
    source: str
    published: datetime
    published_ts: int
    summary: tuple[str, ...]
    image_url: str | None  # only a lead image the article really shows


def source_name(stored: StoredArticle) -> str:
    """The source shown next to the date: the author (a site's name), else the second category level."""
    art = stored.article
    return art.author or (art.categories[1] if len(art.categories) > 1 else art.categories[0] if art.categories else "")


def inline_article(stored: StoredArticle) -> InlineArticle:
    art = stored.article
    return InlineArticle(
        article_id=stored.id, title=art.title, url=art.url, source=source_name(stored), published=art.published,
        published_ts=int(art.published.timestamp()),
        summary=tuple(current_summary(art, stored.summary, stored.summary_version)),
        image_url=art.image_url if art.image_url and "lead_image" in art.flags else None,
    )


async def inline_articles(db: Database, ids: list[int]) -> list[InlineArticle]:
    """The articles with these ids, in this order."""
    return [inline_article(s) for s in await get_articles(db, ids)]


async def latest_page(db: Database, *, before: tuple[int, int] | None, limit: int) -> list[InlineArticle]:
    """The newest articles (published, then id, descending), strictly after the cursor `before`."""
    if before is None:
        rows = await db.fetchall("SELECT id FROM articles ORDER BY published DESC, id DESC LIMIT ?", (limit,))
    else:
        rows = await db.fetchall(
            "SELECT id FROM articles WHERE published < ? OR (published = ? AND id < ?) "
            "ORDER BY published DESC, id DESC LIMIT ?", (before[0], before[0], before[1], limit))
    return await inline_articles(db, [int(r[0]) for r in rows])
