"""The dataclasses passed along the pipeline: an Article and the errors a post can cause.

Pure data, no I/O: every stage (parse, clean, summarise, plan, format) takes and returns these.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

# The shape of a category path, shared by posts, feed items, the index and storage.
MAX_CATEGORY_LEVELS = 6
MAX_CATEGORY_CHARS = 100   # one level; a longer name made a digest item too big for a message
UNCATEGORISED = "未分类"    # the path of an article that names none
CATEGORY_SEP = "\x1f"      # between levels of a folded category key ("金融\x1f新浪财经\x1f")


@dataclass(frozen=True, slots=True)
class Article:
    """One cleaned news article, as stored.

    `uid` is stable: derived from feed and source, so re-ingesting a file maps to the same id.
    `categories` is a path, top level first, e.g. ("金融", "新浪财经", "新浪财经－国內").
    `published` and `ingested` are timezone-aware UTC.
    """

    uid: str
    feed_id: int | None
    source: str
    title: str
    categories: tuple[str, ...]
    author: str
    published: datetime
    image_url: str | None
    paragraphs: tuple[str, ...]
    language: str  # "zh" | "en" | "ja"
    content_hash: str
    story_key: str
    ingested: datetime
    url: str | None = None
    flags: frozenset[str] = field(default_factory=frozenset)  # e.g. {"no_text"}

    @property
    def text(self) -> str:
        return "\n".join(self.paragraphs)

    @property
    def category_path(self) -> str:
        """Categories joined with ' › ' for display and prefix matching."""
        return " › ".join(self.categories)
