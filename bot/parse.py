"""Read one Hexo-style post (bytes) into its raw parts: front-matter fields and the HTML body.

Pure: bytes and a few facts about the file in, a `RawPost` out, or `RejectedPost(reason)`.
Handles every quirk listed in ../shared/corpus/README.md (see tests/test_parse.py).
"""
from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from datetime import datetime, timezone, date as date_type
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import frontmatter
import yaml

from bot.model import RejectedPost

MAX_POST_BYTES = 5 * 1024 * 1024
MAX_FRONT_CHARS = 64 * 1024  # beyond this the "front matter" is not a Hexo header: salvage instead
MAX_CATEGORY_LEVELS = 6
# Fix (found by tests/test_fuzz.py): category names were not length-limited here (feeds cap theirs at
# 100 in bot/feeds.py), so one 5,000-character level made a digest item too big for a message.
MAX_CATEGORY_CHARS = 100


@dataclass(frozen=True, slots=True)
class RawPost:
    """Fields read from a post before cleaning. `published` is None when the post gave no usable date."""

    title: str
    categories: tuple[str, ...]
    author: str
    published: datetime | None
    image_url: str | None
    url: str | None
    body: str
    notes: tuple[str, ...] = ()  # what had to be repaired: "yaml_salvaged", "no_front_matter", "gb18030", ...


def decode(data: bytes) -> tuple[str, str | None]:
    """Bytes to text: UTF-8 (with or without BOM), UTF-16 with BOM, else GB18030, else UTF-8 with replacement.

    Returns the text and a note naming the fallback used, if any.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace"), "utf16"
    if b"\x00" in data[:4096]:
        raise RejectedPost("binary file (NUL bytes)")
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        return data.decode("utf-8", errors="replace"), "replaced_bytes"
    return text, "gb18030"


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _looks_binary(text: str) -> bool:
    sample = text[:4096]
    if not sample:
        return False
    bad = len(_CONTROL.findall(sample)) + sample.count("\ufffd")
    return bad / len(sample) > 0.10


_FRONT_OPEN = re.compile(r"\A---[ \t]*\n")
_FRONT_CLOSE = re.compile(r"^(?:---|\.\.\.)[ \t]*$", re.M)


def split_front_matter(text: str) -> tuple[str | None, str]:
    """Split '---' front matter from the body; (None, text) when there is none."""
    stripped = text.lstrip("\ufeff \t\r\n")
    if not _FRONT_OPEN.match(stripped):
        return None, text
    close = _FRONT_CLOSE.search(stripped, stripped.index("\n") + 1)
    if close is None:
        return None, text
    return stripped[stripped.index("\n") + 1 : close.start()], stripped[close.end() :].lstrip("\n")


def _scalar(value: object) -> str | None:
    """A YAML value as one line of text; None for mappings, lists and nulls."""
    if value is None or isinstance(value, (dict, list, tuple, set)):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _unquote(value: str) -> str:
    value = value.strip()
    # Broken generators wrap titles in runs of quotes: """""'Title'""""" -> Title
    m = re.fullmatch(r"""(["']+)(.*?)(["']*)""", value, re.S)
    if m and m.group(2):
        inner = m.group(2)
        if m.group(1)[-1] == "'" and len(m.group(1)) == 1:
            inner = inner.replace("''", "'")
        return inner.strip()
    return value.strip("'\" ")


_KEY_LINE = re.compile(r"^([A-Za-z_][\w-]*)[ \t]*:(.*)$")


def salvage_front_matter(front: str) -> dict[str, object]:
    """Read `key: value` lines and `- item` lists without YAML, for headers PyYAML rejects."""
    fields: dict[str, object] = {}
    key: str | None = None
    for line in front.splitlines():
        m = _KEY_LINE.match(line)
        if m:
            key, rest = m.group(1).lower(), m.group(2).strip()
            fields[key] = _unquote(rest) if rest else []
            continue
        item = re.match(r"^\s*-\s+(.*)$", line)
        if key and item and isinstance(fields.get(key), list):
            fields[key].append(_unquote(item.group(1)))  # type: ignore[union-attr]
        elif key and line.startswith((" ", "\t")) and isinstance(fields.get(key), str) and line.strip():
            fields[key] = f"{fields[key]} {_unquote(line)}".strip()  # folded continuation line
    return fields


def parse_date(value: object, default_tz: ZoneInfo) -> datetime | None:
    """RFC 2822, ISO 8601 or 'YYYY-MM-DD HH:MM:SS' (read in `default_tz`) to aware UTC; None if unusable."""
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, date_type):
        dt = datetime(value.year, value.month, value.day)
    elif isinstance(value, str) and value.strip():
        s = value.strip().strip("'\"")
        dt = None
        try:
            dt = parsedate_to_datetime(s)
        except (TypeError, ValueError, IndexError):
            pass
        if dt is None:
            try:
                dt = datetime.fromisoformat(s.replace("Z", "+00:00").replace("/", "-"))
            except ValueError:
                return None
    else:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=default_tz)
    try:
        return dt.astimezone(timezone.utc)
    except (OverflowError, ValueError):
        return None


MAX_URL_CHARS = 2048
_URL_UNSAFE = re.compile(r'[\x00-\x20\x7f"<>\\^`{|}]')


def web_url(value: object) -> str | None:
    """An http(s) URL fit to link to: trimmed, with spaces, control characters and quotes inside it
    percent-encoded (Telegram refuses or drops links it cannot parse); None when it is not one."""
    if not isinstance(value, str):
        return None
    url = value.strip()
    if not url[:8].lower().startswith(("http://", "https://")) or len(url) > MAX_URL_CHARS:
        return None
    url = _URL_UNSAFE.sub(lambda m: f"%{ord(m.group()):02X}", url)
    try:
        host = urlsplit(url).hostname
    except ValueError:  # e.g. a malformed IPv6 literal
        return None
    return url if host else None


def _categories(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        parts = re.split(r"\s*(?:/|›|>|,|，)\s*", value) if re.search(r"[/›>,，]", value) else [value]
    elif isinstance(value, (list, tuple)):
        parts = [s for s in (_scalar(v) for v in value) if s is not None]
    else:
        return ()
    return tuple(p.strip()[:MAX_CATEGORY_CHARS] for p in parts if p and p.strip())[:MAX_CATEGORY_LEVELS]


def _first_text_line(body: str) -> str:
    for line in re.sub(r"<[^>]*>", "\n", body).splitlines():
        line = line.strip(" \t\u3000\xa0")
        if line:
            return line[:200]
    return ""


def parse_post(
    data: bytes,
    *,
    name: str = "",
    fallback_categories: tuple[str, ...] = (),
    default_tz: ZoneInfo = ZoneInfo("Asia/Shanghai"),
) -> RawPost:
    """Parse a post file's bytes. `name` is the file stem (last-resort title).

    `fallback_categories` (the folder path below the feed root) is used when the post names none.
    Raises RejectedPost when nothing usable is left.
    """
    if len(data) > MAX_POST_BYTES:
        raise RejectedPost(f"file too large ({len(data) // 1024} KB > {MAX_POST_BYTES // 1024 // 1024} MB)")
    if not data.strip():
        raise RejectedPost("empty file")
    text, encoding_note = decode(data)
    if _looks_binary(text):
        raise RejectedPost("binary file (not text)")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    notes: list[str] = [encoding_note] if encoding_note else []

    front, body = split_front_matter(text)
    fields: dict[str, object] = {}
    if front is None:
        notes.append("no_front_matter")
    elif len(front) > MAX_FRONT_CHARS:
        fields = salvage_front_matter(front[:MAX_FRONT_CHARS])
        notes.append("yaml_salvaged")
    else:
        try:
            loaded = frontmatter.loads(f"---\n{front}\n---\n").metadata
            fields = {str(k).lower(): v for k, v in loaded.items()} if isinstance(loaded, dict) else {}
            if not isinstance(loaded, dict):
                raise yaml.YAMLError("front matter is not a mapping")
        except (yaml.YAMLError, ValueError, TypeError, RecursionError):
            fields = salvage_front_matter(front)
            notes.append("yaml_salvaged")
        if not any(k in fields for k in ("title", "categories", "date")):
            if not body.strip():
                raise RejectedPost("front matter unreadable and no body")
            notes.append("front_matter_unusable")

    title = " ".join((_scalar(fields.get("title")) or "").split())
    if not title:
        title = _first_text_line(body) or name.strip()
        notes.append("title_guessed")
    if not title:
        raise RejectedPost("no title and no text")

    categories = _categories(fields.get("categories") or fields.get("category") or fields.get("tags"))
    if not categories:
        categories = fallback_categories
        notes.append("categories_from_folder")

    image = _scalar(fields.get("headimg")) or _scalar(fields.get("thumbnail")) or _scalar(fields.get("cover"))
    url = _scalar(fields.get("link")) or _scalar(fields.get("url")) or _scalar(fields.get("permalink"))
    return RawPost(
        title=title[:1000],
        categories=categories,
        author=" ".join((_scalar(fields.get("author")) or "").split())[:200],
        published=parse_date(fields.get("date"), default_tz),
        image_url=web_url(image),
        url=web_url(url),
        body=body,
        notes=tuple(notes),
    )
