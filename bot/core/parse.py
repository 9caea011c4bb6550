"""Read one Hexo-style post (bytes) into its raw parts: front-matter fields and the HTML body.

Pure: bytes and a few facts about the file in, a `RawPost` out, or `RejectedPost(reason)`.
Handles every quirk listed in ../shared/corpus/README.md (see tests/core/test_parse.py).
"""
from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from datetime import date as date_type
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import frontmatter
import yaml

from bot.core.errors import RejectedPost
from bot.core.model import MAX_CATEGORY_CHARS, MAX_CATEGORY_LEVELS
from bot.core.settings import DEFAULT_ZONE

MAX_POST_BYTES = 5 * 1024 * 1024
MAX_FRONT_CHARS = 64 * 1024  # beyond this the "front matter" is not a Hexo header: salvage instead


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
        raise RejectedPost("binary", "binary file (NUL bytes)")
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
# `key: value` at column 0; not `https://…` (a URL on a continuation line is not a key)
_KEY_LINE = re.compile(r"^([A-Za-z_][\w-]*)[ \t]*:(?!//)(.*)$")
_ITEM_LINE = re.compile(r"^\s*-(?:\s+(.*))?$")


def _opens_quote(ends: str) -> bool:
    """Whether a value whose text so far starts and ends with `ends` opened a quote it has not closed
    (broken generators leave apostrophes unescaped, so only the first and last characters count)."""
    return ends[:1] in ("'", '"') and (len(ends) == 1 or ends[-1] != ends[0])


def _header_length(lines: list[str]) -> int:
    """How many of `lines` (after an opening '---' that is never closed) read as front matter.

    Header lines are `key: value` lines, `- item` lines, indented lines and column-0 lines inside a
    quoted value still open; the body starts at a line beginning with '<', at any other column-0
    line, or at a blank line not followed by more header.
    """
    ends = ""  # first and last character of the current scalar value so far
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("<"):
            return i
        if not line.strip():
            j = i + 1
            while j < len(lines) and not lines[j].strip():
                j += 1
            if j == len(lines) or lines[j].startswith("<"):
                return i
            if not (_KEY_LINE.match(lines[j]) or lines[j].startswith((" ", "\t")) or _opens_quote(ends)):
                return i
            i = j
            continue
        key = _KEY_LINE.match(line)
        if key:
            ends = key.group(2).strip()
            ends = ends[:1] + ends[1:][-1:]
        elif _ITEM_LINE.match(line):
            pass
        elif line.startswith((" ", "\t")) or _opens_quote(ends):
            text = line.strip()
            ends = ends[:1] + text[-1] if ends else text[:1] + text[1:][-1:]
        else:
            return i
        i += 1
    return len(lines)


def split_front_matter(text: str) -> tuple[str | None, str, bool]:
    """Split '---' front matter from the body: (front, body, closed); front is None when there is none.

    With an opening '---' and no closing one, the header is the leading run of lines that read as
    front matter (see `_header_length`) and `closed` is False.
    """
    stripped = text.lstrip("\ufeff \t\r\n")
    if not _FRONT_OPEN.match(stripped):
        return None, text, True
    start = stripped.index("\n") + 1
    close = _FRONT_CLOSE.search(stripped, start)
    if close is not None:
        return stripped[start : close.start()], stripped[close.end() :].lstrip("\n"), True
    lines = stripped[start:].split("\n")
    n = _header_length(lines)
    body = "\n".join(lines[n:]).lstrip("\n")
    return ("\n".join(lines[:n]) if n else None), body, False


def _scalar(value: object) -> str | None:
    """A YAML value as one line of text; None for mappings, lists and nulls."""
    if value is None or isinstance(value, (dict, list, tuple, set)):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _unquote(value: str) -> str:
    """A salvaged value's text without its quotes: 'It''s' -> It's, "a \\"b\\"" -> a "b"."""
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        q = value[0]
        proper = r"'(?:[^']|'')*'" if q == "'" else r'"(?:[^"\\]|\\.)*"'
        # properly quoted, or quoted once with stray quotes inside ('I can't believe it's July!')
        if re.fullmatch(proper, value, re.S) or (value[1] != q and value[-2] != q):
            inner = value[1:-1]
            return (inner.replace("''", "'") if q == "'" else re.sub(r'\\(["\\])', r"\1", inner)).strip()
    # Broken generators wrap titles in runs of quotes: """""'Title'""""" -> Title. Cut by hand: a lazy
    # group before a trailing run of quotes was tried against every tail (quadratic on '"a' + '"' * n + 'x').
    opening = len(value) - len(value.lstrip("'\""))
    inner = value[opening:].rstrip("'\"")
    if opening and inner:
        if opening == 1 and value[0] == "'":
            inner = inner.replace("''", "'")
        return inner.strip()
    return value.strip("'\" ")


_LIST_KEYS = frozenset({"categories", "category", "tags"})
_FLOW_ITEM = re.compile(r"""'(?:[^']|'')*'|"(?:[^"\\]|\\.)*"|[^,]+""")


# Lists nested deeper than this hold no category (bot.core.parse._categories reads MAX_CATEGORY_LEVELS of
# nesting): reading further cost a recursion per level, a RecursionError at 1,000 and quadratic time before.
_MAX_FLOW_DEPTH = MAX_CATEGORY_LEVELS + 2


def _flow_list(text: str) -> list[object]:
    """`[a, 'b c']` -> ['a', 'b c']; `[[a, b], [c]]` -> [['a', 'b']] (Hexo's first category path)."""
    depth = 0
    inner = text.strip()[1:-1].strip()
    while inner.startswith("[") and depth < _MAX_FLOW_DEPTH:
        end = inner.find("]")
        inner = (inner[: end + 1] if end > 0 else inner + "]")[1:-1].strip()
        depth += 1
    items: list[object] = [] if inner.startswith("[") else [
        s for s in (_unquote(item) for item in _FLOW_ITEM.findall(inner)) if s]
    for _ in range(depth):
        items = [items]
    return items


def salvage_front_matter(front: str) -> dict[str, object]:
    """Read `key: value` lines and `- item` lists without YAML, for headers PyYAML rejects.

    Any other non-blank line continues the current scalar value, indented or not (titles from
    Mastodon span lines at column 0); a value's lines are joined with spaces and unquoted once.
    """
    fields: dict[str, object] = {}
    raw: dict[str, list[str]] = {}  # scalar values, line by line, unquoted at the end
    key: str | None = None
    for line in front.splitlines():
        m = _KEY_LINE.match(line)
        if m:
            key, rest = m.group(1).lower(), m.group(2).strip()
            raw.pop(key, None)
            if key in _LIST_KEYS and rest.startswith("[") and rest.endswith("]"):
                fields[key] = _flow_list(rest)
            elif rest:
                fields[key], raw[key] = "", [rest]
            else:
                fields[key] = []  # a list follows, or the value starts on the next line
            continue
        if key is None or not line.strip():
            continue
        value = fields[key]
        item = _ITEM_LINE.match(line)
        if isinstance(value, list) and item and item.group(1):
            text = item.group(1).strip()
            value.append(_flow_list(text) if text.startswith("[") and text.endswith("]") else _unquote(text))
        elif key in raw or value == []:
            fields[key] = ""
            raw.setdefault(key, []).append(line.strip())
    for key, parts in raw.items():
        fields[key] = _unquote(" ".join(parts))
    return fields


# Zone abbreviations, in hours east of UTC. email.utils reads CST as US Central (-6); the feeds this
# project reads are Chinese first, where CST means China Standard Time (+8), so CST is +8 here.
# The other Asian zones are listed because email.utils does not know them and would drop them;
# the US ones are email.utils' own table, so every form below reads a zone the same way.
_ZONES = {
    "UT": 0, "UTC": 0, "GMT": 0, "Z": 0,
    "CST": 8, "HKT": 8, "SGT": 8, "AWST": 8, "JST": 9, "KST": 9, "IST": 5.5,
    "EST": -5, "EDT": -4, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7, "AST": -4, "ADT": -3,
}
# A zone at the end of a date: a name (GMT, CST, …) with or without an offset, an offset after a
# time (+0800, -05:00) or Z; a trailing "(China Standard Time)" comment is dropped first.
_ZONE_TAIL = re.compile(
    r"\s*(?:(?<![A-Za-z])(?P<name>[A-Za-z]{1,4})(?:\s*(?P<noff>[+-]\d{1,2}(?::?\d{2})?))?"
    r"|(?P<off>[+-]\d{2}:?\d{2})|(?<=\d)Z)$"
)
_TIME = r"(?:(?:[T\s,]+|(?<=日))(\d{1,2})[:：时](\d{1,2})(?:[:：分](\d{1,2})?(?:\.\d+)?秒?)?)?"
_NUMERIC_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?" + _TIME)
_MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}
_DAY_NAME = r"(?:[A-Za-z]{3,9}\.?,?\s+)?"
_DAY_MONTH_YEAR = re.compile(_DAY_NAME + r"(\d{1,2})\s+([A-Za-z]{3,9})\.?,?\s+(\d{4})" + _TIME)
_MONTH_DAY_YEAR = re.compile(_DAY_NAME + r"([A-Za-z]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})" + _TIME)


def _zone_offset(s: str) -> tuple[str, timezone | None]:
    """Split a known zone off the end of a date string: ('2022-03-15 10:56', UTC+8) for '… CST'."""
    m = _ZONE_TAIL.search(s)
    if not m:
        return s, None
    name, offset = m.group("name"), m.group("noff") or m.group("off")
    if name is not None and name.upper() not in _ZONES:
        return s, None  # AM, PM or a zone not listed: left to the parsers below
    hours = _ZONES[name.upper()] if name is not None and not offset else 0
    if offset:
        sign, digits = (-1 if offset[0] == "-" else 1), offset[1:].replace(":", "")
        hh, mm = (digits, "0") if len(digits) <= 2 else (digits[:-2], digits[-2:])
        if int(hh) > 14 or int(mm) > 59:
            return s, None
        hours = sign * (int(hh) + int(mm) / 60)
    return s[: m.start()].rstrip(" ,"), timezone(timedelta(hours=hours))


def _naive_date(s: str) -> datetime | None:
    """A date string without its zone, in any of the forms feeds use; None if none fits."""
    try:
        return datetime.fromisoformat(s)
    except ValueError:
        pass
    ymd: tuple[int, int, int] | None = None
    if m := _NUMERIC_DATE.fullmatch(s):
        ymd = (int(m.group(1)), int(m.group(2)), int(m.group(3)))
    elif (m := _DAY_MONTH_YEAR.fullmatch(s)) and m.group(2)[:3].lower() in _MONTHS:
        ymd = (int(m.group(3)), _MONTHS[m.group(2)[:3].lower()], int(m.group(1)))
    elif (m := _MONTH_DAY_YEAR.fullmatch(s)) and m.group(1)[:3].lower() in _MONTHS:
        ymd = (int(m.group(3)), _MONTHS[m.group(1)[:3].lower()], int(m.group(2)))
    if m is not None and ymd is not None:
        hour, minute, second = (int(g or 0) for g in m.groups()[3:])  # _TIME's groups, 0 when absent
        try:
            return datetime(*ymd, hour, minute, second)
        except ValueError:
            return None
    try:
        return parsedate_to_datetime(s)  # RFC 2822 and near forms ("Tue Mar 15 2022 10:56:54")
    except (TypeError, ValueError, IndexError):
        return None


def parse_date(value: object, default_tz: ZoneInfo) -> datetime | None:
    """A post's date to aware UTC; None if unusable.

    Takes RFC 2822, ISO 8601, 'YYYY-MM-DD HH:MM:SS', '2022/3/5 10:56', '2022.03.15',
    '2022年3月15日 10:56', '15 Mar 2022', 'Mar 15, 2022', each with or without a zone (name, offset
    or 'GMT+0800'), and epoch seconds or milliseconds. A date without a zone is read in `default_tz`.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)) and abs(value) < 1e8:
        value = str(value)  # not a timestamp: maybe 20220315
    if isinstance(value, (int, float)) or (isinstance(value, str) and re.fullmatch(r"\s*\d{10}(?:\d{3})?\s*", value)):
        stamp = float(value)
        if abs(stamp) >= 1e11:  # milliseconds: 1e11 seconds would be the year 5138
            stamp /= 1000
        try:
            return datetime.fromtimestamp(stamp, tz=timezone.utc)
        except (OverflowError, ValueError, OSError):
            return None
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, date_type):
        dt = datetime(value.year, value.month, value.day)
    elif isinstance(value, str) and value.strip() and len(value) <= 200:  # longer is not a date
        s = re.sub(r"\s*\([^()]*\)\s*$", "", value.strip().strip("'\"").strip())
        s, zone = _zone_offset(s)
        naive = _naive_date(s)
        if naive is None:
            return None
        dt = naive.replace(tzinfo=zone) if naive.tzinfo is None and zone is not None else naive
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


# Invisible characters (zero-width space/non-joiner, word joiner, BOM, soft hyphen): WeChat HTML puts
# them inside Chinese words, and they make two equal titles differ. A zero-width joiner inside an emoji
# (👨\u200d👩\u200d👧) is part of it and stays.
_INVISIBLE = re.compile(r"[\u200b\u200c\u2060\ufeff\xad]|\u200d(?![\U0001F000-\U0001FAFF\u2600-\u27BF])")


_INVISIBLE_CHARS = "\u200b\u200c\u2060\ufeff\xad\u200d"


def drop_invisible(text: str) -> str:
    # Most text has none: six substring searches read it ~5x faster than the regex engine's character class.
    if text.isascii() or not any(c in text for c in _INVISIBLE_CHARS):
        return text
    return _INVISIBLE.sub("", text)


def _one_line(value: str | None) -> str:
    """Text as one line: invisible characters removed, runs of whitespace made one space."""
    return " ".join(drop_invisible(value or "").split())


# A separator and the blanks around it. Blanks before it are only tried from the first of a run: from
# each blank, `\s*` read to the end of the run again (quadratic on "a" + " " * n + "b/c").
_CATEGORY_SPLIT = re.compile(r"(?:(?<!\s)\s++)?[/›>,，]\s*+")


def _categories(value: object) -> tuple[str, ...]:
    for _ in range(MAX_CATEGORY_LEVELS):  # Hexo's multi-path form [[a, b], [c]]: the first path
        if isinstance(value, (list, tuple)) and value and isinstance(value[0], (list, tuple)):
            value = value[0]
    if isinstance(value, str):
        parts = _CATEGORY_SPLIT.split(value) if re.search(r"[/›>,，]", value) else [value]
    elif isinstance(value, (list, tuple)):
        parts = [s for s in (_scalar(v) for v in value) if s is not None]
    else:
        return ()
    parts = [drop_invisible(p).strip() for p in parts]
    return tuple(p[:MAX_CATEGORY_CHARS] for p in parts if p)[:MAX_CATEGORY_LEVELS]


_NOT_PLAIN = tuple("'\"|>[{&*!")


def _plain_lines(front: str, keys: tuple[str, ...]) -> dict[str, str]:
    """The text after `key:` for each of `keys` written as a one-line plain (unquoted) scalar.

    YAML types such values (Yes -> true, 010 -> 8, 1:30 -> 90, 3.10 -> 3.1) and drops what
    follows ' #' as a comment, but a title or an author is always text, as written.
    """
    lines = front.split("\n")
    found: dict[str, str] = {}
    for i, line in enumerate(lines):
        m = _KEY_LINE.match(line)
        if not m or m.group(1).lower() not in keys:
            continue
        key, rest = m.group(1).lower(), m.group(2).strip()
        found.pop(key, None)  # YAML keeps the last of repeated keys
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if nxt[:1] in (" ", "\t") and nxt.strip():
            continue  # a plain scalar over several lines: YAML folds it, as text
        if rest and not rest.startswith(_NOT_PLAIN) and rest not in ("~", "null", "Null", "NULL"):
            found[key] = rest
    return found


def _without_tags(text: str) -> str:
    """Every `<…>` replaced by a line break. By hand: a regex tried from each `<` of "<<<<…" read to the end
    each time; here a `<` with no `>` after it ends the search, as no later one can have one either."""
    out: list[str] = []
    pos = 0
    while (start := text.find("<", pos)) >= 0 and (end := text.find(">", start + 1)) >= 0:
        out += (text[pos:start], "\n")
        pos = end + 1
    out.append(text[pos:])
    return "".join(out)


def _first_text_line(body: str) -> str:
    for line in _without_tags(body).splitlines():
        line = line.strip(" \t\u3000\xa0")
        if line:
            return line[:200]
    return ""


def parse_post(
    data: bytes,
    *,
    name: str = "",
    fallback_categories: tuple[str, ...] = (),
    default_tz: ZoneInfo = DEFAULT_ZONE,
) -> RawPost:
    """Parse a post file's bytes. `name` is the file stem (last-resort title).

    `fallback_categories` (the folder path below the feed root) is used when the post names none.
    Raises RejectedPost when nothing usable is left.
    """
    if len(data) > MAX_POST_BYTES:
        raise RejectedPost("too_large", f"file too large ({len(data) // 1024} KB > {MAX_POST_BYTES // 1024 // 1024} MB)")
    if not data.strip():
        raise RejectedPost("empty", "empty file")
    text, encoding_note = decode(data)
    if _looks_binary(text):
        raise RejectedPost("binary", "binary file (not text)")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    notes: list[str] = [encoding_note] if encoding_note else []

    front, body, closed = split_front_matter(text)
    fields: dict[str, object] = {}
    if front is None:
        notes.append("no_front_matter")
    else:
        if not closed:
            fields = salvage_front_matter(front[:MAX_FRONT_CHARS])
            notes.append("front_matter_unclosed")
        elif len(front) > MAX_FRONT_CHARS:
            fields = salvage_front_matter(front[:MAX_FRONT_CHARS])
            notes.append("yaml_salvaged")
        else:
            try:
                loaded = frontmatter.loads(f"---\n{front}\n---\n").metadata
                fields = {str(k).lower(): v for k, v in loaded.items()} if isinstance(loaded, dict) else {}
                if not isinstance(loaded, dict):
                    raise yaml.YAMLError("front matter is not a mapping")
                for key, text in _plain_lines(front, ("title", "author")).items():
                    typed = fields.get(key)  # a string YAML read otherwise (not a comment cut) stays
                    if not isinstance(typed, str) or text.startswith(typed):
                        fields[key] = text
            except (yaml.YAMLError, ValueError, TypeError, RecursionError):
                fields = salvage_front_matter(front)
                notes.append("yaml_salvaged")
        if not any(k in fields for k in ("title", "categories", "date")):
            if not body.strip():
                raise RejectedPost("no_text", "front matter unreadable and no body")
            notes.append("front_matter_unusable")

    title = _one_line(_scalar(fields.get("title")))
    if not title:
        title = _one_line(_first_text_line(body) or name)
        notes.append("title_guessed")
    if not title:
        raise RejectedPost("no_text", "no title and no text")

    categories = _categories(fields.get("categories") or fields.get("category") or fields.get("tags"))
    if not categories:
        categories = fallback_categories
        notes.append("categories_from_folder")

    # the first that is a web link: headimg is often 'undefined' or a relative path beside a good thumbnail
    image = next(filter(None, (web_url(fields.get(k)) for k in ("headimg", "thumbnail", "cover"))), None)
    url = next(filter(None, (web_url(fields.get(k)) for k in ("link", "url", "permalink"))), None)
    return RawPost(
        title=title[:1000],
        categories=categories,
        author=_one_line(_scalar(fields.get("author")))[:200],
        published=parse_date(fields.get("date"), default_tz),
        image_url=image,
        url=url,
        body=body,
        notes=tuple(notes),
    )
