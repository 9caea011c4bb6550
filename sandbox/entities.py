"""Telegram's HTML parse mode as a pure function: markup in, (plain text, entities) out.

Follows tdlib's parser (the one behind the real Bot API) tag by tag and copies its error
wording, so "can't parse entities: ..." answers read like Telegram's.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

#: Tags the Bot API's HTML mode accepts (Bot API 10.1 "HTML style").
SUPPORTED_TAGS = frozenset({
    "a", "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler",
    "tg-emoji", "tg-time", "code", "pre", "blockquote",
})
_SIMPLE = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline",
    "ins": "underline", "s": "strikethrough", "strike": "strikethrough",
    "del": "strikethrough", "tg-spoiler": "spoiler", "span": "spoiler",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SPACE = " \t\r\n\v\f"
_DATE_TIME_FORMAT = re.compile(r"r|w?[dD]?[tT]?")

#: Entity types a MessageEntity may carry (Bot API 10.1).
ENTITY_TYPES = frozenset({
    "mention", "hashtag", "cashtag", "bot_command", "url", "email", "phone_number", "bold",
    "italic", "underline", "strikethrough", "spoiler", "blockquote", "expandable_blockquote",
    "code", "pre", "text_link", "text_mention", "custom_emoji", "date_time",
})


class EntityParseError(ValueError):
    """Markup Telegram would refuse; `description` is the text after "can't parse entities: "."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of every entity offset and length."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


@dataclass
class _Open:
    tag: str
    argument: str
    extra: dict
    utf16_start: int
    text_start: int  # index into the output, for <a> without href
    begin: int  # index of the "<", for error messages


def parse_html(text: str, *, strict: bool = True) -> tuple[str, list[dict]]:
    """Parse Bot API HTML into the text and MessageEntity dicts Telegram would store.

    Offsets and lengths are UTF-16 code units; leading/trailing whitespace is trimmed and
    entities clipped as Telegram does. Raises EntityParseError where Telegram answers
    "can't parse entities". With `strict` (the default) a bare "&" that starts no entity
    is refused too: Telegram keeps it literally, but its docs say it must be escaped and
    the sandbox means to be at least as strict as any Bot API a bot may meet.
    """
    return finish(*_parse(text, strict))


def _parse(text: str, strict: bool) -> tuple[str, list[dict]]:
    n = len(text)
    out: list[str] = []
    out_len = 0  # characters in out
    utf16 = 0
    entities: list[dict] = []
    stack: list[_Open] = []
    byte_at = _ByteOffsets(text)  # only ever needed for an error message

    i = 0
    while i < n:
        c = text[i]
        if c == "&":
            decoded, end = _decode_entity(text, i)
            if decoded is not None:
                out.append(decoded)
                out_len += 1
                utf16 += utf16_len(decoded)
                i = end
                continue
            if strict:
                raise EntityParseError(
                    f'Character "&" at byte offset {byte_at(i)} must be escaped as "&amp;"')
        if c != "<":
            out.append(c)
            out_len += 1
            utf16 += 2 if ord(c) > 0xFFFF else 1
            i += 1
            continue

        begin = i
        i += 1
        if i < n and text[i] == "/":
            if not stack:
                raise EntityParseError(f"Unexpected end tag at byte offset {byte_at(begin)}")
            while i < n and text[i] not in _SPACE and text[i] != ">":
                i += 1
            end_name = text[begin + 2:i]
            while i < n and text[i] in _SPACE:
                i += 1
            if i >= n or text[i] != ">":
                raise EntityParseError(f"Unclosed end tag at byte offset {byte_at(begin)}")
            top = stack[-1]
            if end_name and end_name != top.tag:
                raise EntityParseError(
                    f'Unmatched end tag at byte offset {byte_at(begin)}, expected "</{top.tag}>", '
                    f'found "</{end_name}>"')
            stack.pop()
            if utf16 > top.utf16_start:
                _close(top, utf16, "".join(out)[top.text_start:] if top.tag == "a" else "",
                       entities, byte_at)
            i += 1
            continue

        while i < n and text[i] not in _SPACE and text[i] != ">":
            i += 1
        if i >= n:
            raise EntityParseError(f"Unclosed start tag at byte offset {byte_at(begin)}")
        tag = text[begin + 1:i].lower()
        if tag not in SUPPORTED_TAGS:
            raise EntityParseError(f'Unsupported start tag "{tag}" at byte offset {byte_at(begin)}')

        argument = ""
        extra: dict = {}
        while i < n and text[i] != ">":
            while i < n and text[i] in _SPACE:
                i += 1
            if i < n and text[i] == ">":
                break
            name_start = i
            while i < n and text[i] not in _SPACE and text[i] not in "=>/\"'":
                i += 1
            attr = text[name_start:i]
            if not attr:
                raise EntityParseError(
                    f'Empty attribute name in the tag "{tag}" at byte offset {byte_at(begin)}')
            while i < n and text[i] in _SPACE:
                i += 1
            if i >= n:
                raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {byte_at(begin)}')
            if text[i] != "=":
                if tag == "blockquote" and attr == "expandable":
                    argument = "expandable"
                continue
            i += 1
            while i < n and text[i] in _SPACE:
                i += 1
            if i >= n:
                raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {byte_at(begin)}')
            if text[i] not in "\"'":
                token_start = i
                while i < n and (text[i].isascii() and text[i].isalnum() or text[i] in ".-"):
                    i += 1
                value = text[token_start:i].lower()
                if i >= n or (text[i] not in _SPACE and text[i] != ">"):
                    raise EntityParseError(
                        f"Unexpected end of name token at byte offset {byte_at(token_start)}")
            else:
                quote = text[i]
                i += 1
                chars: list[str] = []
                while i < n and text[i] != quote:
                    if text[i] == "&":
                        decoded, end = _decode_entity(text, i)
                        if decoded is not None:
                            chars.append(decoded)
                            i = end
                            continue
                    chars.append(text[i])
                    i += 1
                if i < n:
                    i += 1
                value = "".join(chars)
            if i >= n:
                raise EntityParseError(f"Unclosed start tag at byte offset {byte_at(begin)}")
            if tag == "a" and attr == "href":
                argument = value
            elif tag == "code" and attr == "class" and value.startswith("language-"):
                argument = value[len("language-"):]
            elif tag == "span" and attr == "class" and value.startswith("tg-"):
                argument = value[len("tg-"):]
            elif tag == "tg-emoji" and attr == "emoji-id":
                argument = value
            elif tag == "tg-time" and attr in ("unix", "format"):
                extra[attr] = value
        if tag == "span" and argument != "spoiler":
            raise EntityParseError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {byte_at(begin)}')
        stack.append(_Open(tag, argument, extra, utf16, out_len, begin))
        i += 1

    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].tag}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _close(top: _Open, utf16_end: int, inner_text: str, entities: list[dict],
           byte_at: _ByteOffsets) -> None:
    offset, length = top.utf16_start, utf16_end - top.utf16_start
    if top.tag in _SIMPLE:
        entities.append({"type": _SIMPLE[top.tag], "offset": offset, "length": length})
    elif top.tag == "a":
        url = top.argument or inner_text
        user_id = link_user_id(url)
        if user_id is not None:
            entities.append({"type": "text_mention", "offset": offset, "length": length,
                             "user": {"id": user_id, "is_bot": False, "first_name": ""}})
        else:
            checked = check_link(url)
            if checked is not None:  # Telegram silently drops links it can't use
                entities.append({"type": "text_link", "offset": offset, "length": length,
                                 "url": checked})
    elif top.tag == "tg-emoji":
        if not top.argument.isdigit() or int(top.argument) == 0 or int(top.argument) >= 2**63:
            raise EntityParseError("Invalid custom emoji identifier specified")
        entities.append({"type": "custom_emoji", "offset": offset, "length": length,
                         "custom_emoji_id": top.argument})
    elif top.tag == "tg-time":
        unix = top.extra.get("unix", "")
        fmt = top.extra.get("format", "")
        if not re.fullmatch(r"-?\d{1,19}", unix):
            raise EntityParseError(
                f"Invalid Unix time specified at byte offset {byte_at(top.begin)}")
        if not _DATE_TIME_FORMAT.fullmatch(fmt):
            raise EntityParseError(
                f"Invalid date-time format specified at byte offset {byte_at(top.begin)}")
        entity = {"type": "date_time", "offset": offset, "length": length, "unix_time": int(unix)}
        if fmt:
            entity["date_time_format"] = fmt
        entities.append(entity)
    elif top.tag == "pre":
        last = entities[-1] if entities else None
        if (last and last["type"] == "code" and last["offset"] == offset
                and last["length"] == length):
            # <pre><code class="language-x">: one pre entity carrying the language
            language = last.pop("language", "")
            last["type"] = "pre"
            if language:
                last["language"] = language
        else:
            entities.append({"type": "pre", "offset": offset, "length": length})
    elif top.tag == "code":
        entity = {"type": "code", "offset": offset, "length": length}
        if top.argument:
            entity["language"] = top.argument  # kept only if an enclosing <pre> claims it
        entities.append(entity)
    elif top.tag == "blockquote":
        kind = "expandable_blockquote" if top.argument == "expandable" else "blockquote"
        entities.append({"type": kind, "offset": offset, "length": length})


def finish(plain: str, entities: list[dict]) -> tuple[str, list[dict]]:
    """Telegram's last step: drop a stray code language, trim whitespace, clip entities."""
    for e in entities:
        if e["type"] == "code":
            e.pop("language", None)
    return trim(plain, entities)


def trim(plain: str, entities: list[dict]) -> tuple[str, list[dict]]:
    """Strip leading/trailing whitespace as Telegram does, moving and clipping entities."""
    stripped_left = plain.lstrip(_SPACE)
    head = utf16_len(plain) - utf16_len(stripped_left)
    result = stripped_left.rstrip(_SPACE)
    total = utf16_len(result)
    kept = []
    for e in entities:
        start = max(e["offset"] - head, 0)
        end = min(e["offset"] + e["length"] - head, total)
        if end > start:
            kept.append({**e, "offset": start, "length": end - start})
    return result, kept


def check_link(url: str) -> str | None:
    """The URL Telegram would store for a text link, or None when it would drop the link."""
    url = url.strip()
    if not url or any(ch in url for ch in " \t\r\n"):
        return None
    scheme = url.split(":", 1)[0].lower() if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", url) else ""
    if scheme in ("tg", "ton"):
        return url
    if not scheme:
        url = "http://" + url
        scheme = "http"
    if scheme not in ("http", "https"):
        return None
    parts = urlsplit(url)
    host = parts.hostname or ""
    if not host or ("." not in host and host != "localhost"):
        return None
    if not parts.path and not parts.query and not parts.fragment:
        url += "/"
    return url


def link_user_id(url: str) -> int | None:
    """The user a tg://user?id=N link mentions, if it is one."""
    m = re.fullmatch(r"tg://user\?id=(\d{1,19})", url.strip())
    return int(m.group(1)) if m and int(m.group(1)) > 0 else None


def _decode_entity(text: str, pos: int) -> tuple[str | None, int]:
    """tdlib's decode_html_entity: the character and the index after it, or (None, pos)."""
    n = len(text)
    end = pos + 1
    char: str | None
    if end < n and text[end] == "#":
        end += 1
        value = 0
        if end < n and text[end] == "x":
            end += 1
            start = end
            while end < n and text[end] in "0123456789abcdefABCDEF":
                value = value * 16 + int(text[end], 16)
                end += 1
                if value >= 0x10FFFF:
                    return None, pos
        else:
            start = end
            while end < n and text[end].isascii() and text[end].isdigit():
                value = value * 10 + int(text[end])
                end += 1
                if value >= 0x10FFFF:
                    return None, pos
        if end == start or value == 0 or 0xD800 <= value <= 0xDFFF:
            return None, pos
        char = chr(value)
    else:
        while end < n and text[end].isascii() and text[end].isalpha():
            end += 1
        char = _NAMED_ENTITIES.get(text[pos + 1:end])
        if char is None:
            return None, pos
    if end < n and text[end] == ";":
        end += 1
    return char, end


class _ByteOffsets:
    """UTF-8 byte offset of a character index (error messages speak in bytes)."""

    def __init__(self, text: str) -> None:
        self._text = text

    def __call__(self, index: int) -> int:
        return len(self._text[:index].encode("utf-8", "surrogatepass"))


_COMMAND = re.compile(r"(?<![^\s])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?")


def detect_bot_commands(text: str) -> list[dict]:
    """bot_command entities Telegram attaches to a user's message ("/start", "/help@bot")."""
    found = []
    for m in _COMMAND.finditer(text):
        end = m.end()
        if end < len(text) and not (text[end].isspace() or text[end] in ".,;:!?)"):
            continue
        found.append({"type": "bot_command", "offset": utf16_len(text[:m.start()]),
                      "length": utf16_len(m.group())})
    return found
