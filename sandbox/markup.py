"""Checks on what a bot puts around its text: formatted text, entities, keyboards, files.

Each function either returns the cleaned value Telegram would store or raises ApiError
with Telegram's wording.
"""
from __future__ import annotations

import struct

from sandbox.entities import (
    ENTITY_TYPES,
    EntityParseError,
    check_link,
    parse_html,
    trim,
    utf16_len,
)
from sandbox.errors import ApiError, bad_request
from sandbox.markdown import parse_markdown

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_ENTITIES = 100
MAX_CALLBACK_DATA_BYTES = 64
MAX_BUTTONS = 100
MAX_PHOTO_BYTES = 10 * 1024 * 1024
_BUTTON_ACTIONS = ("url", "callback_data", "web_app", "login_url", "switch_inline_query",
                   "switch_inline_query_current_chat", "switch_inline_query_chosen_chat",
                   "copy_text", "callback_game", "pay")
_BUTTON_STYLES = {"danger", "success", "primary"}
_PARSE_MODES = {"html", "markdown", "markdownv2"}


def formatted(text: str | None, parse_mode: str | None, entities: list | None, *,
              caption: bool = False) -> tuple[str, list[dict]]:
    """Text and entities as Telegram stores them, after parse_mode or explicit entities.

    Text that is empty after parsing is allowed only for captions.
    """
    text = text or ""
    mode = (parse_mode or "").lower()
    if text and mode and mode != "none":
        if mode not in _PARSE_MODES:
            raise bad_request("unsupported parse_mode")
        try:
            if mode == "html":
                plain, found = parse_html(text)
            else:
                plain, found = parse_markdown(text, v2=(mode == "markdownv2"))
        except EntityParseError as exc:
            raise bad_request(f"can't parse entities: {exc.description}") from exc
    else:
        plain, found = trim(text, check_entities(text, entities or []))
    limit, what = (MAX_CAPTION, "message caption is too long") if caption else \
        (MAX_TEXT, "message is too long")
    if not plain and not caption:
        raise bad_request("message text is empty")
    if utf16_len(plain) > limit:  # Telegram counts UTF-16 code units: an emoji is 2
        raise bad_request(what)
    if len(found) > MAX_ENTITIES:
        # Telegram drops entities past the 100th silently; losing formatting unnoticed
        # is a bug in a bot, so the sandbox refuses instead.
        raise bad_request("too many entities")
    return plain, found


def check_entities(text: str, entities: list) -> list[dict]:
    """Validate an explicit `entities` / `caption_entities` array."""
    size = utf16_len(text)
    out = []
    for e in entities:
        if not isinstance(e, dict):
            raise bad_request("can't parse MessageEntity: MessageEntity must be an Object")
        kind = e.get("type")
        if not isinstance(kind, str):
            raise bad_request('can\'t parse MessageEntity: Field "type" must be of type String')
        if kind not in ENTITY_TYPES:
            raise bad_request(f"can't parse MessageEntity: unsupported entity type \"{kind}\"")
        offset, length = e.get("offset"), e.get("length")
        if not isinstance(offset, int) or isinstance(offset, bool):
            raise bad_request('can\'t parse MessageEntity: Field "offset" must be of type Number')
        if not isinstance(length, int) or isinstance(length, bool):
            raise bad_request('can\'t parse MessageEntity: Field "length" must be of type Number')
        if offset < 0 or length <= 0 or offset + length > size:
            raise bad_request("entity beginning or length is out of the text bounds")
        entity = {"type": kind, "offset": offset, "length": length}
        if kind == "text_link":
            url = check_link(str(e.get("url", "")))
            if url is None:
                raise bad_request("can't parse MessageEntity: wrong URL")
            entity["url"] = url
        elif kind == "text_mention":
            user = e.get("user")
            if not isinstance(user, dict) or not isinstance(user.get("id"), int):
                raise bad_request('can\'t parse MessageEntity: Field "user" must be of type Object')
            entity["user"] = user
        elif kind == "custom_emoji":
            if not str(e.get("custom_emoji_id", "")).isdigit():
                raise bad_request("invalid custom emoji identifier specified")
            entity["custom_emoji_id"] = str(e["custom_emoji_id"])
        elif kind == "pre" and e.get("language"):
            entity["language"] = str(e["language"])
        elif kind == "date_time":
            if not isinstance(e.get("unix_time"), int):
                raise bad_request('can\'t parse MessageEntity: Field "unix_time" must be of type Number')
            entity["unix_time"] = e["unix_time"]
            if e.get("date_time_format"):
                entity["date_time_format"] = str(e["date_time_format"])
        out.append(entity)
    return sorted(out, key=lambda x: (x["offset"], -x["length"]))


def reply_markup(markup: dict | None, *, inline_only: bool = False) -> dict | None:
    """Validate any of the four reply_markup kinds; edits accept inline keyboards only."""
    if markup is None:
        return None
    if "inline_keyboard" in markup:
        return {"inline_keyboard": _inline_keyboard(markup["inline_keyboard"])}
    if inline_only:
        raise bad_request("can't parse inline keyboard markup JSON object")
    if "keyboard" in markup:
        rows = markup["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise bad_request('field "keyboard" of the ReplyKeyboardMarkup should be an Array '
                              'of Arrays')
        for row in rows:
            for button in row:
                label = button.get("text") if isinstance(button, dict) else button
                if not isinstance(label, str) or not label:
                    raise bad_request("can't parse keyboard button: "
                                      'Field "text" must be of type String')
        return markup
    if markup.get("remove_keyboard") is True or markup.get("force_reply") is True:
        return markup
    raise bad_request("can't find field \"inline_keyboard\"")


def _inline_keyboard(rows: object) -> list:
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise bad_request('field "inline_keyboard" of the InlineKeyboardMarkup should be an '
                          'Array of Arrays')
    if sum(len(r) for r in rows) > MAX_BUTTONS:
        raise bad_request("REPLY_MARKUP_TOO_LONG")
    for row in rows:
        for button in row:
            _inline_button(button)
    return rows


def _inline_button(button: object) -> None:
    prefix = "can't parse inline keyboard button: "
    if not isinstance(button, dict):
        raise bad_request(prefix + "InlineKeyboardButton must be an Object")
    if not isinstance(button.get("text"), str):
        raise bad_request(prefix + 'Field "text" must be of type String')
    if not button["text"].strip():
        raise bad_request("BUTTON_TEXT_INVALID")
    if "style" in button and button["style"] not in _BUTTON_STYLES:
        raise bad_request(prefix + "invalid button style specified")
    actions = [a for a in _BUTTON_ACTIONS if a in button]
    if not actions:
        raise bad_request(prefix + "Text buttons are unallowed in the inline keyboard")
    if len(actions) > 1:
        # Telegram quietly keeps one of them; which one is an accident, so refuse.
        raise bad_request(prefix + "exactly one of the fields " + ", ".join(actions)
                          + " must be used")
    action = actions[0]
    if action == "callback_data":
        data = button["callback_data"]
        if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= \
                MAX_CALLBACK_DATA_BYTES:
            raise bad_request("BUTTON_DATA_INVALID")
    elif action == "url":
        url = button["url"]
        if not isinstance(url, str) or check_link(url) is None:
            raise bad_request("BUTTON_URL_INVALID")
    elif (action in ("web_app", "login_url", "copy_text", "switch_inline_query_chosen_chat")
          and not isinstance(button[action], dict)):
        raise bad_request(prefix + f'Field "{action}" must be of type Object')


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of a PNG, GIF, JPEG or WebP picture; None if it isn't one."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return struct.unpack(">II", data[16:24])
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        return struct.unpack("<HH", data[6:10])
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP" and len(data) >= 30:
        if data[12:16] == b"VP8 ":
            w, h = struct.unpack("<HH", data[26:30])
            return w & 0x3FFF, h & 0x3FFF
        if data[12:16] == b"VP8X":
            return (int.from_bytes(data[24:27], "little") + 1,
                    int.from_bytes(data[27:30], "little") + 1)
        return (1, 1) if data[12:16] == b"VP8L" else None
    if data[:2] == b"\xff\xd8":
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                return None
            marker = data[i + 1]
            length = struct.unpack(">H", data[i + 2:i + 4])[0]
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                h, w = struct.unpack(">HH", data[i + 5:i + 9])
                return w, h
            i += 2 + length
    return None


def check_photo(data: bytes) -> tuple[int, int]:
    if not data:
        raise bad_request("file must be non-empty")
    if len(data) > MAX_PHOTO_BYTES:
        raise ApiError(400, "Bad Request: PHOTO_SAVE_FILE_INVALID")
    size = image_size(data)
    if size is None:
        raise bad_request("IMAGE_PROCESS_FAILED")
    w, h = size
    if w <= 0 or h <= 0 or w + h > 10000 or max(w, h) / min(w, h) > 20:
        raise bad_request("PHOTO_INVALID_DIMENSIONS")
    return w, h
