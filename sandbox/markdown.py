"""Telegram's MarkdownV2 and legacy Markdown parse modes, after tdlib's parsers.

Same contract as `entities.parse_html`: (plain text, entities) or EntityParseError with
Telegram's wording ("Character '.' is reserved and must be escaped with the preceding '\\'").
"""
from __future__ import annotations

from sandbox.entities import EntityParseError, check_link, finish, link_user_id

_RESERVED = "_*[]()~`>#+-=|{}.!"
_NAMES = {"bold": "Bold", "italic": "Italic", "underline": "Underline",
          "strikethrough": "Strikethrough", "spoiler": "Spoiler", "code": "Code", "pre": "Pre",
          "text_link": "TextUrl", "custom_emoji": "CustomEmoji"}


def parse_markdown(text: str, *, v2: bool = True) -> tuple[str, list[dict]]:
    """Parse MarkdownV2 (or, with v2=False, legacy Markdown) like the Bot API."""
    plain, entities = (_parse_v2 if v2 else _parse_legacy)(text)
    return finish(plain, entities)


class _Cursor:
    """Text plus the output built so far, with UTF-16 and byte bookkeeping."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.out: list[str] = []
        self.utf16 = 0

    def at(self, i: int) -> str:
        return self.text[i] if 0 <= i < len(self.text) else ""

    def emit(self, ch: str) -> None:
        self.out.append(ch)
        self.utf16 += 2 if ord(ch) > 0xFFFF else 1

    def byte(self, i: int) -> int:
        return len(self.text[:i].encode("utf-8", "surrogatepass"))


def _escapable(ch: str) -> bool:
    return ch != "" and 0 < ord(ch) <= 126


def _parse_v2(text: str) -> tuple[str, list[dict]]:
    cur = _Cursor(text)
    at = cur.at
    entities: list[dict] = []
    stack: list[dict] = []  # {"type", "offset", "byte", "start", "language"}
    quote: dict | None = None  # the open blockquote
    line_start = True
    n = len(text)
    i = 0
    while i < n:
        c = text[i]
        if line_start and text.startswith("**>", i) and not stack:
            # an empty bold entity before ">" starts a new quote right after the previous one
            if quote is not None:
                _close_quote(quote, cur.utf16 - 1, entities)
                quote = None
            i += 2
            continue
        if line_start and c == ">" and not stack:
            if quote is None:
                quote = {"offset": cur.utf16, "expandable": False}
            line_start = False
            i += 1
            continue
        if line_start and quote is not None and not stack:
            _close_quote(quote, cur.utf16 - 1, entities)  # the quote ends before the newline
            quote = None
        line_start = False
        if c == "\\" and _escapable(at(i + 1)):
            cur.emit(text[i + 1])
            i += 2
            continue
        top = stack[-1]["type"] if stack else None
        reserved = "`" if top in ("code", "pre") else _RESERVED
        if c not in reserved:
            cur.emit(c)
            if c == "\n":
                line_start = True
            i += 1
            continue
        if (quote is not None and c == "|" and at(i + 1) == "|" and top != "spoiler"
                and at(i + 2) in ("", "\n")):
            quote["expandable"] = True  # "||" closing the last line of an expandable quote
            i += 2
            continue
        ends = top is not None and {
            "bold": c == "*", "italic": c == "_" and at(i + 1) != "_", "code": c == "`",
            "pre": c == "`" and at(i + 1) == "`" and at(i + 2) == "`",
            "text_link": c == "]", "custom_emoji": c == "]",
            "underline": c == "_" and at(i + 1) == "_", "strikethrough": c == "~",
            "spoiler": c == "|" and at(i + 1) == "|",
        }.get(top, False)
        if not ends:
            i = _open_v2(cur, i, stack)
            continue
        entry = stack.pop()
        kind, argument = entry["type"], entry.get("language", "")
        skip = cur.utf16 == entry["offset"]
        extra: dict = {}
        if kind in ("underline", "spoiler"):
            i += 1
        elif kind == "pre":
            i += 2
        elif kind in ("text_link", "custom_emoji"):
            if at(i + 1) != "(":
                if kind == "custom_emoji":
                    raise EntityParseError("Custom emoji entity must contain a tg://emoji URL")
                url = "".join(cur.out)[entry["start"]:]
            else:
                i += 2
                url_start = i
                chars = []
                while i < n and text[i] != ")":
                    if text[i] == "\\" and _escapable(at(i + 1)):
                        chars.append(text[i + 1])
                        i += 2
                        continue
                    chars.append(text[i])
                    i += 1
                if i >= n:
                    what = "custom emoji URL" if kind == "custom_emoji" else "URL"
                    raise EntityParseError(
                        f"Can't find end of a {what} at byte offset {cur.byte(url_start)}")
                url = "".join(chars)
            if kind == "custom_emoji":
                emoji_id = url[len("tg://emoji?id="):] if url.startswith("tg://emoji?id=") else ""
                if not emoji_id.isdigit():
                    raise EntityParseError("Invalid custom emoji identifier specified")
                extra["custom_emoji_id"] = emoji_id
            else:
                user_id = link_user_id(url)
                if user_id is not None:
                    kind = "text_mention"
                    extra["user"] = {"id": user_id, "is_bot": False, "first_name": ""}
                else:
                    checked = check_link(url)
                    if checked is None:
                        skip = True
                    else:
                        extra["url"] = checked
        if not skip:
            entity = {"type": kind, "offset": entry["offset"],
                      "length": cur.utf16 - entry["offset"], **extra}
            if kind == "pre" and argument:
                entity["language"] = argument
            entities.append(entity)
        i += 1
    if stack:
        top = stack[-1]
        raise EntityParseError(
            f"Can't find end of {_NAMES[top['type']]} entity at byte offset {top['byte']}")
    if quote is not None:
        _close_quote(quote, cur.utf16, entities)
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(cur.out), entities


def _open_v2(cur: _Cursor, i: int, stack: list[dict]) -> int:
    """Start the entity whose marker is at i; returns the index after the marker."""
    text, at = cur.text, cur.at
    c = text[i]
    entry: dict[str, int | str] = {"offset": cur.utf16, "byte": cur.byte(i), "start": len(cur.out)}
    if c == "_":
        if at(i + 1) == "_":
            entry["type"] = "underline"
            i += 1
        else:
            entry["type"] = "italic"
    elif c == "*":
        entry["type"] = "bold"
    elif c == "~":
        entry["type"] = "strikethrough"
    elif c == "|" and at(i + 1) == "|":
        entry["type"] = "spoiler"
        i += 1
    elif c == "[":
        entry["type"] = "text_link"
    elif c == "!" and at(i + 1) == "[":
        entry["type"] = "custom_emoji"
        i += 1
    elif c == "`" and at(i + 1) == "`" and at(i + 2) == "`":
        entry["type"] = "pre"
        i += 3
        end = i
        while at(end) not in ("", "`") and not at(end).isspace():
            end += 1
        if end != i and at(end) not in ("", "`"):
            entry["language"] = text[i:end]
            i = end
        i = _skip_first_newline(text, i)
        entry["offset"], entry["start"] = cur.utf16, len(cur.out)
        stack.append(entry)
        return i
    elif c == "`":
        entry["type"] = "code"
    else:
        raise EntityParseError(
            f"Character '{c}' is reserved and must be escaped with the preceding '\\'")
    stack.append(entry)
    return i + 1


def _close_quote(quote: dict, end: int, entities: list[dict]) -> None:
    if end > quote["offset"]:
        kind = "expandable_blockquote" if quote["expandable"] else "blockquote"
        entities.append({"type": kind, "offset": quote["offset"], "length": end - quote["offset"]})


def _skip_first_newline(text: str, i: int) -> int:
    if i < len(text) and text[i] in "\r\n":
        if i + 1 < len(text) and text[i + 1] in "\r\n" and text[i] != text[i + 1]:
            return i + 2
        return i + 1
    return i


def _parse_legacy(text: str) -> tuple[str, list[dict]]:
    cur = _Cursor(text)
    at = cur.at
    entities: list[dict] = []
    n = len(text)
    i = 0
    while i < n:
        c = text[i]
        if c == "\\" and at(i + 1) in ("_", "*", "`", "["):
            cur.emit(text[i + 1])
            i += 2
            continue
        if c not in "_*`[":
            cur.emit(c)
            i += 1
            continue
        begin = i
        end_char = "]" if c == "[" else c
        i += 1
        is_pre, language = False, ""
        if c == "`" and at(i) == "`" and at(i + 1) == "`":
            i += 2
            is_pre = True
            end = i
            while at(end) not in ("", "`") and not at(end).isspace():
                end += 1
            if end != i and at(end) not in ("", "`"):
                language, i = text[i:end], end
            i = _skip_first_newline(text, i)
        start_utf16, start_out = cur.utf16, len(cur.out)
        while i < n and (text[i] != end_char or (is_pre and not (at(i + 1) == "`" and
                                                                 at(i + 2) == "`"))):
            cur.emit(text[i])
            i += 1
        if i >= n:
            raise EntityParseError(
                f"Can't find end of the entity starting at byte offset {cur.byte(begin)}")
        length = cur.utf16 - start_utf16
        if length:
            if c == "_":
                entities.append({"type": "italic", "offset": start_utf16, "length": length})
            elif c == "*":
                entities.append({"type": "bold", "offset": start_utf16, "length": length})
            elif c == "`":
                entity = {"type": "pre" if is_pre else "code", "offset": start_utf16,
                          "length": length}
                if language:
                    entity["language"] = language
                entities.append(entity)
            else:
                if at(i + 1) != "(":
                    url = "".join(cur.out)[start_out:]
                else:
                    i += 2
                    chars = []
                    while i < n and text[i] != ")":
                        chars.append(text[i])
                        i += 1
                    url = "".join(chars)
                user_id = link_user_id(url)
                if user_id is not None:
                    entities.append({"type": "text_mention", "offset": start_utf16,
                                     "length": length,
                                     "user": {"id": user_id, "is_bot": False, "first_name": ""}})
                elif (checked := check_link(url)) is not None:
                    entities.append({"type": "text_link", "offset": start_utf16,
                                     "length": length, "url": checked})
        if is_pre:
            i += 2
        i += 1
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(cur.out), entities
