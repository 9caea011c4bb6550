"""Feed items as Articles: parse an RSS/Atom document, pick the items worth looking at, map one item to an Article.

Pure: bytes and feedparser dictionaries in, values out (the fetching is bot/feeds/fetch.py's, the storing
bot/feeds/poller.py's). An item's identity is its GUID, else its link, else a hash of title and date.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from bot.core.clean import clean_html, guess_language
from bot.core.dedupe import content_hash
from bot.core.errors import FeedError, RejectedPost
from bot.core.model import MAX_CATEGORY_CHARS, MAX_CATEGORY_LEVELS, UNCATEGORISED, Article
from bot.core.parse import web_url

__all__ = [
    "article_uid", "clean_category", "entry_fingerprint", "entry_published", "entry_source",
    "entry_to_article", "item_title", "newest_entries", "parse_feed", "plain_entry", "redact_url",
]


def article_uid(feed_id: int | None, source: str) -> str:
    """Stable id: the same source in the same feed is always the same article."""
    return hashlib.blake2b(f"{feed_id or 0}|{source}".encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


# "//user:password@" in a URL, anywhere in a text; the run cannot cross "/", "@" or white space (linear).
_USERINFO = re.compile(r"(?<=//)[^/@\s]{0,1000}@")


def redact_url(text: str) -> str:
    """`text` with the user name and password of every URL in it removed (http://u:pw@host/ → http://host/).

    Feeds with credentials are refused, but an old row, an error message or a redirect may still carry
    them: everything shown in a chat, written to an export or logged about a feed goes through this.
    """
    return _USERINFO.sub("", text) if "@" in text else text


def clean_category(category: Iterable[str]) -> tuple[str, ...]:
    """A category path as stored: each level on one line, at most 100 characters, at most MAX_CATEGORY_LEVELS."""
    return tuple(" ".join(c.split())[:MAX_CATEGORY_CHARS] for c in category if c and c.strip())[:MAX_CATEGORY_LEVELS]


def parse_feed(body: bytes, *, url: str = "", content_type: str = "") -> Any:
    """feedparser's result for a fetched document; FeedError("not_a_feed") when it holds no RSS or Atom.

    A feed with a recoverable XML error keeps whatever items feedparser salvaged (most readers do).
    Always bytes: given a string, feedparser would fetch it as a URL.
    """
    import feedparser  # noqa: PLC0415 -- a heavy import that only feed polls need

    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    parsed = feedparser.parse(bytes(body), response_headers=headers)
    if not parsed.get("version") and not parsed.entries:
        problem = parsed.get("bozo_exception")
        raise FeedError("not_a_feed", f"not RSS or Atom ({problem})" if problem else "not RSS or Atom")
    return parsed


_TAG = re.compile(r"<[^<>]+>")  # no "<" inside: linear on runs of "<" (feed titles are untrusted)


def _plain(text: str, markup: bool = True) -> str:
    if markup and "<" in text:
        text = _TAG.sub(" ", text)
    return " ".join(text.split())


def item_title(node: Any) -> str:
    """An item's or feed's title as one line of text; markup is stripped only from HTML titles ("a < b")."""
    kind = (node.get("title_detail") or {}).get("type") or "text/html"
    return _plain(node.get("title") or "", markup="html" in kind)


def _entry_html(entry: Any) -> str:
    contents = [str(c.get("value")) for c in entry.get("content") or [] if c.get("value")]
    if contents:
        return max(contents, key=len)
    return str(entry.get("summary") or entry.get("description") or "")


def _entry_image(entry: Any) -> str | None:
    for media in entry.get("media_content") or []:
        url, medium, kind = web_url(media.get("url")), media.get("medium"), media.get("type") or ""
        if url and (medium == "image" or kind.startswith("image/") or (not medium and not kind)):
            return url
    for thumb in entry.get("media_thumbnail") or []:
        if url := web_url(thumb.get("url")):
            return url
    for enclosure in entry.get("enclosures") or []:
        if (enclosure.get("type") or "").startswith("image/") and (url := web_url(enclosure.get("href"))):
            return url
    return None


def entry_published(entry: Any) -> datetime | None:
    """The item's date in UTC (published, else updated, else created), or None."""
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            try:
                year, month, day, hour, minute, second = value[:6]
                return datetime(year, month, day, hour, minute, second, tzinfo=timezone.utc)
            except (TypeError, ValueError, OverflowError):
                continue
    return None


def entry_source(entry: Any) -> str:
    """An item's identity within its feed: GUID, else link, else a hash of title and date text."""
    guid = (entry.get("id") or "").strip()
    if guid:
        return str(guid[:2000])
    link = (entry.get("link") or "").strip()
    if link:
        return str(link[:2000])
    raw = item_title(entry) + "\x00" + (entry.get("published") or entry.get("updated") or "")
    return "h:" + hashlib.blake2b(raw.encode("utf-8"), digest_size=12).hexdigest()


_FINGERPRINT_KEYS = (
    "id", "link", "title", "title_detail", "content", "summary", "description", "author", "published", "updated",
    "created", "published_parsed", "updated_parsed", "created_parsed", "tags", "media_content", "media_thumbnail",
    "enclosures",
)


def plain_entry(entry: Any) -> dict[str, Any]:
    """The fields `entry_to_article` reads from an item, as a plain dict (to hand an item to a worker).

    Read through the entry's own `get`: feedparser derives some keys (enclosures from the links)."""
    return {k: v for k in _FINGERPRINT_KEYS if (v := entry.get(k)) is not None}


def entry_fingerprint(entry: Any) -> str:
    """"size:digest" of everything `entry_to_article` reads from an item, without cleaning anything.

    The same item seen again with the same fingerprint would build the same Article, so the poller skips
    it before the clean and the summary; a rewritten item has a new fingerprint and is built again.
    """
    get = dict.get if isinstance(entry, dict) else type(entry).get  # dict.get: the raw keys, no feedparser aliases
    raw = json.dumps([get(entry, k) for k in _FINGERPRINT_KEYS], default=str, ensure_ascii=False, sort_keys=True)
    data = raw.encode("utf-8", "surrogatepass")
    digest = hashlib.blake2b(data, digest_size=8).digest()
    # The same form migration 0007 gave the fingerprints stored before it (a signed 64-bit digest).
    return f"{len(data)}:{int.from_bytes(digest, 'big', signed=True)}"


def newest_entries(entries: Sequence[Any], limit: int) -> list[Any]:
    """At most `limit` items, in document order: the newest by date when there are more (undated items
    count as older than dated ones, and among themselves the earlier in the document wins)."""
    if len(entries) <= limit:
        return list(entries)
    if limit <= 0:
        return []
    dates = [entry_published(e) for e in entries]
    ranked = sorted(range(len(entries)),
                    key=lambda i: (dates[i] is None, -(d.timestamp()) if (d := dates[i]) else 0.0, i))
    return [entries[i] for i in sorted(ranked[:limit])]


def entry_to_article(
    entry: Any, *, feed_id: int | None, feed_title: str = "", category: tuple[str, ...] = (), now: datetime,
) -> Article:
    """One feed item as an Article, through the same cleaner as posts. Raises RejectedPost.

    Categories: the item's tags, else the feed's configured category, else the feed's title.
    Published: the item's date (UTC), else `now` (flag date_guessed); dates over a day ahead become `now`.
    """
    body = _entry_html(entry)
    paragraphs = clean_html(body) if body.strip() else ()
    title = item_title(entry)
    flags: set[str] = set()
    if not title:
        title = paragraphs[0][:200] if paragraphs else ""
        flags.add("title_guessed")
    if not title:
        raise RejectedPost("no_text", "item has no title and no text")
    if not paragraphs:
        flags.add("no_text")
    published = entry_published(entry)
    if published is None:
        published = now
        flags.add("date_guessed")
    elif published > now + timedelta(days=1):  # a wrong clock would pin the item to the top for ever
        published = now
        flags.add("date_in_future")
    tags = clean_category(
        t.get("term") or t.get("label") or "" for t in entry.get("tags") or [] if isinstance(t, dict)
    )
    tags = tuple(dict.fromkeys(tags))
    categories = tags or category or clean_category([feed_title]) or (UNCATEGORISED,)
    source = entry_source(entry)
    uid = article_uid(feed_id, source)
    return Article(
        uid=uid, feed_id=feed_id, source=source, title=title[:1000], categories=categories,
        author=_plain(entry.get("author") or "")[:200], published=published, image_url=_entry_image(entry),
        paragraphs=paragraphs, language=guess_language(title + "\n" + "\n".join(paragraphs[:5])),
        content_hash=content_hash(title[:1000], paragraphs), story_key="s:" + uid, ingested=now,
        url=web_url(entry.get("link")), flags=frozenset(flags),
    )
