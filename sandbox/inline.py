"""Inline mode: a user types `@bot query`, the bot answers, the user picks a result.

`check_answer` validates answerInlineQuery as Telegram does (Bot API 10.1: at most 50 results,
ids of 1-64 bytes and unique, required fields per result type, input_message_content parsed
like sendMessage). `InlineMode` keeps the queries, answers, Telegram's result cache and the
messages posted "via @bot".
"""
from __future__ import annotations

import copy
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from sandbox.errors import ApiError, bad_request
from sandbox.markup import formatted, reply_markup
from sandbox.state import Chat, SandboxError, User, World

MAX_RESULTS = 50
MAX_ID_BYTES = 64
MAX_OFFSET_BYTES = 64
DEFAULT_CACHE_TIME = 300
CHAT_TYPES = frozenset({"sender", "private", "group", "supergroup", "channel"})
_START_PARAMETER = re.compile(r"[A-Za-z0-9_-]{1,64}")

#: Result type -> the required fields of each variant (by URL first, then the cached file).
REQUIRED: dict[str, tuple[tuple[str, ...], ...]] = {
    "article": (("title", "input_message_content"),),
    "photo": (("photo_url", "thumbnail_url"), ("photo_file_id",)),
    "gif": (("gif_url", "thumbnail_url"), ("gif_file_id",)),
    "mpeg4_gif": (("mpeg4_url", "thumbnail_url"), ("mpeg4_file_id",)),
    "video": (("video_url", "mime_type", "thumbnail_url", "title"), ("video_file_id", "title")),
    "audio": (("audio_url", "title"), ("audio_file_id",)),
    "voice": (("voice_url", "title"), ("voice_file_id", "title")),
    "document": (("title", "document_url", "mime_type"), ("title", "document_file_id")),
    "sticker": (("sticker_file_id",),),
    "location": (("latitude", "longitude", "title"),),
    "venue": (("latitude", "longitude", "title", "address"),),
    "contact": (("phone_number", "first_name"),),
    "game": (("game_short_name",),),
}
_NUMBERS = {"latitude", "longitude"}
_URLS = ("photo_url", "gif_url", "mpeg4_url", "video_url", "audio_url", "voice_url",
         "document_url", "thumbnail_url", "url")
_MEDIA = {"photo": "photo", "gif": "animation", "mpeg4_gif": "animation", "video": "video",
          "audio": "audio", "voice": "voice", "document": "document", "sticker": "sticker"}


def _parse_error(what: str) -> ApiError:
    return bad_request(f"can't parse inline query result: {what}")


def check_answer(p: dict) -> dict:
    """The answer Telegram would keep: results checked and their messages prepared."""
    results = p["results"]
    if len(results) > MAX_RESULTS:
        raise bad_request("RESULTS_TOO_MUCH")
    seen: set[str] = set()
    prepared = []
    for raw in results:
        result = check_result(raw)
        if result["id"] in seen:
            raise bad_request("RESULT_ID_DUPLICATE")
        seen.add(result["id"])
        prepared.append(result)
    next_offset = p.get("next_offset") or ""
    if len(next_offset.encode("utf-8")) > MAX_OFFSET_BYTES:
        raise bad_request("NEXT_OFFSET_INVALID")
    button = p.get("button")
    if button is not None:
        if not isinstance(button.get("text"), str) or not button["text"]:
            raise bad_request('can\'t parse InlineQueryResultsButton: Field "text" must be of type String')
        kinds = [k for k in ("web_app", "start_parameter") if k in button]
        if len(kinds) != 1:
            raise bad_request("can't parse InlineQueryResultsButton: exactly one of web_app and "
                              "start_parameter must be specified")
        if kinds == ["start_parameter"] and not _START_PARAMETER.fullmatch(str(button["start_parameter"])):
            raise bad_request("START_PARAM_INVALID")
    cache_time = p.get("cache_time", DEFAULT_CACHE_TIME)
    return {"results": prepared, "cache_time": max(0, cache_time),
            "is_personal": bool(p.get("is_personal", False)), "next_offset": next_offset,
            "button": button}


def check_result(raw: object) -> dict:
    """One InlineQueryResult: {"id", "type", "raw", "content", "reply_markup"}."""
    if not isinstance(raw, dict):
        raise _parse_error("InlineQueryResult must be an Object")
    kind = raw.get("type")
    if not isinstance(kind, str):
        raise _parse_error('Can\'t find field "type"')
    if kind.lower() not in REQUIRED:
        raise _parse_error(f'Unsupported inline query result type "{kind}"')
    kind = kind.lower()
    rid = raw.get("id")
    if isinstance(rid, int) and not isinstance(rid, bool):
        rid = str(rid)  # Telegram reads a number as its decimal string
    if not isinstance(rid, str):
        raise _parse_error('Can\'t find field "id"')
    if not 1 <= len(rid.encode("utf-8")) <= MAX_ID_BYTES:
        raise bad_request("RESULT_ID_INVALID")
    variants = REQUIRED[kind]
    cached = len(variants) > 1 and any(n.endswith("_file_id") and n in raw for n in variants[1])
    for name in variants[1 if cached else 0]:
        value = raw.get(name)
        if name in _NUMBERS:
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise _parse_error(f'Field "{name}" must be of type Number')
        elif name == "input_message_content":
            if not isinstance(value, dict):
                raise _parse_error('Can\'t find field "input_message_content"')
        elif not isinstance(value, str) or not value:
            raise _parse_error(f'Can\'t find field "{name}"')
    for name in _URLS:
        if name in raw and not re.match(r"https?://[^\s/]+", str(raw[name])):
            raise bad_request("WEBDOCUMENT_URL_INVALID" if name != "url" else "URL_INVALID")
    markup = reply_markup(raw.get("reply_markup"), inline_only=True) if raw.get("reply_markup") else None
    if "input_message_content" in raw:
        content = message_content(raw["input_message_content"])
    else:
        caption, entities = formatted(raw.get("caption"), raw.get("parse_mode"),
                                      raw.get("caption_entities"), caption=True)
        content = {"media": kind, "caption": caption, "caption_entities": entities}
    return {"id": rid, "type": kind, "raw": copy.deepcopy(raw), "content": content,
            "reply_markup": markup}


def message_content(imc: dict) -> dict:
    """An InputMessageContent checked; text is parsed exactly as sendMessage parses it."""
    if "message_text" in imc:
        if not isinstance(imc["message_text"], str):
            raise _parse_error('Field "message_text" must be of type String')
        text, entities = formatted(imc["message_text"], imc.get("parse_mode"), imc.get("entities"))
        out: dict = {"text": text}
        if entities:
            out["entities"] = entities
        if isinstance(imc.get("link_preview_options"), dict):
            out["link_preview_options"] = imc["link_preview_options"]
        return out
    if "latitude" in imc and "longitude" in imc:
        location = {"latitude": imc["latitude"], "longitude": imc["longitude"]}
        if "title" in imc and "address" in imc:
            return {"venue": {"location": location, "title": imc["title"], "address": imc["address"]}}
        return {"location": location}
    if "phone_number" in imc and "first_name" in imc:
        return {"contact": {k: imc[k] for k in ("phone_number", "first_name", "last_name")
                            if k in imc}}
    raise _parse_error("unsupported input message content (the sandbox knows text, location, "
                       "venue and contact)")


@dataclass
class InlineMode:
    """Queries users typed, the bot's answers, Telegram's cache and messages sent via the bot."""
    world: World
    enabled: bool = True
    feedback: bool = False  # /setinlinefeedback: chosen_inline_result updates
    ttl: float = 15.0
    queries: dict[str, dict] = field(default_factory=dict)  # id -> query + bookkeeping
    answers: list[dict] = field(default_factory=list)
    messages: dict[str, tuple[int, int]] = field(default_factory=dict)  # inline_message_id
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    # --- what the user does ------------------------------------------------------------
    def query(self, user: User | int, query: str = "", *, offset: str = "",
              chat: Chat | int | None = None, chat_type: str | None = None,
              use_cache: bool = True) -> dict:
        """The user types `@bot query` (in `chat`); queues inline_query unless Telegram still
        holds a cached answer for it (then nothing reaches the bot and the cached query is
        returned with "from_cache": true)."""
        if not self.enabled:
            raise SandboxError("inline mode is off for this bot (Sandbox(inline=False))")
        u = self.world.user(user)
        if len(query) > 256:
            raise SandboxError("an inline query holds at most 256 characters")
        c = self.world.chat(chat) if chat is not None else None
        if chat_type is None and c is not None:
            chat_type = "sender" if c.type == "private" and c.id == u.id else c.type
        if chat_type is not None and chat_type not in CHAT_TYPES:
            raise SandboxError(f"chat_type must be one of {sorted(CHAT_TYPES)}")
        if use_cache:
            cached = self._cached(u.id, query, offset)
            if cached is not None:
                return {**copy.deepcopy(cached["query"]), "from_cache": True}
        qid = f"{self.world.bot.id}{next(self._ids):010d}"
        payload: dict = {"id": qid, "from": u.to_api(), "query": query, "offset": offset}
        if chat_type is not None:
            payload["chat_type"] = chat_type
        self.queries[qid] = {"query": payload, "at": self.world.now(), "answer": None,
                             "chat": c.id if c is not None else None}
        self.world.updates.push("inline_query", payload)
        return copy.deepcopy(payload)

    def choose(self, query_id: str, result_id: str, chat: Chat | int | None = None) -> dict:
        """The user picks a result: its message is posted in `chat` (default: where the query
        was typed, else the user's private chat with the bot) "via @bot"; with feedback on,
        a chosen_inline_result update follows. Returns the posted Message."""
        entry = self.queries.get(str(query_id))
        if entry is None or entry["answer"] is None:
            raise SandboxError(f"inline query {query_id} has no answer to choose from")
        result = next((r for r in entry["answer"]["results"] if r["id"] == str(result_id)), None)
        if result is None:
            raise SandboxError(f"the answer to {query_id} has no result {result_id!r}")
        user = self.world.user(entry["query"]["from"]["id"])
        target = chat if chat is not None else entry["chat"] if entry["chat"] is not None else user.id
        c = self.world.private_chat(user) if target == user.id else self.world.chat(target)
        msg = self._post(c, user, result)
        if self.feedback:
            chosen: dict = {"result_id": result["id"], "from": user.to_api(),
                            "query": entry["query"]["query"]}
            if result["reply_markup"] is not None:
                chosen["inline_message_id"] = next(k for k, v in self.messages.items()
                                                   if v == (c.id, msg["message_id"]))
            self.world.updates.push("chosen_inline_result", chosen)
        return copy.deepcopy(msg)

    # --- what the bot does ---------------------------------------------------------------
    def answer(self, p: dict) -> Callable[[], bool]:
        """Check answerInlineQuery; returns the effect to apply."""
        entry = self.queries.get(str(p["inline_query_id"]))
        if entry is None:
            raise bad_request("QUERY_ID_INVALID")
        if entry["answer"] is not None or self.world.now() - entry["at"] > self.ttl:
            raise bad_request("query is too old and response timeout expired or query ID is invalid")
        checked = check_answer(p)
        world = self.world

        def apply() -> bool:
            record = {"inline_query_id": str(p["inline_query_id"]),
                      "query": entry["query"]["query"], "offset": entry["query"]["offset"],
                      "from": entry["query"]["from"]["id"], "date": world.date(),
                      "results": [r["raw"] for r in checked["results"]],
                      **{k: checked[k] for k in ("cache_time", "is_personal", "next_offset", "button")}}
            entry["answer"] = {**checked, "record": record, "at": world.now()}
            self.answers.append(record)
            return True
        return apply

    def _cached(self, user_id: int, query: str, offset: str) -> dict | None:
        now = self.world.now()
        for entry in reversed(list(self.queries.values())):
            answer = entry["answer"]
            q = entry["query"]
            if answer is None or (q["query"], q["offset"]) != (query, offset):
                continue
            if answer["is_personal"] and q["from"]["id"] != user_id:
                continue
            if now - answer["at"] < answer["cache_time"]:
                return entry
        return None

    def _post(self, chat: Chat, user: User, result: dict) -> dict:
        world = self.world
        if chat.type == "private" and chat.id != user.id:
            raise SandboxError(f"user {user.id} is not in private chat {chat.id}")
        if chat.type == "channel" and not world.right(chat, user.id, "can_post_messages"):
            raise SandboxError(f"user {user.id} may not post in channel {chat.id}")
        if chat.type in ("group", "supergroup") and user.id not in chat.members:
            chat.members[user.id] = "member"
        mid = chat.next_message_id()
        msg: dict = {"message_id": mid, "from": user.to_api(), "date": world.date(),
                     "chat": chat.to_api()}
        if chat.type == "channel":
            del msg["from"]
            msg = {"message_id": mid, "sender_chat": chat.to_api(), **msg}
        msg["via_bot"] = world.bot.to_api()
        content = result["content"]
        record: dict = {"method": "chosenInlineResult", "message_id": mid, "date": msg["date"],
                        "message_thread_id": None, "via_bot": True, "sender": user.id,
                        "result_id": result["id"], "parse_mode": None, "source": None}
        if "media" in content:
            media = self._media(result)
            msg.update(media)
            if content["caption"]:
                msg["caption"] = content["caption"]
            if content["caption_entities"]:
                msg["caption_entities"] = content["caption_entities"]
            record.update({k: v for k, v in media.items() if k != "photo"},
                          caption=content["caption"], caption_entities=content["caption_entities"])
            if "photo" in media:
                record["photo"] = {"file_id": media["photo"][-1]["file_id"],
                                   "url": result["raw"].get("photo_url")}
        else:
            msg.update(content)
            record.update(text=content.get("text"), entities=content.get("entities", []))
        if result["reply_markup"] is not None:
            msg["reply_markup"] = result["reply_markup"]
            self.messages[f"AgAAA{len(self.messages) + 1:08d}{abs(chat.id)}"] = (chat.id, mid)
        record.update(reply_markup=result["reply_markup"], reply_to_message_id=None,
                      edit_date=None, edits=0, deleted=False)
        world.messages[(chat.id, mid)] = msg
        world.records.setdefault(chat.id, []).append(record)
        world.log.setdefault(chat.id, []).append(dict(record))
        if chat.type == "channel":
            if world.member_status(chat, world.bot.id) in ("administrator", "member"):
                world.updates.push("channel_post", msg)
        elif chat.type == "private" or world.member_status(chat, world.bot.id) in (
                "creator", "administrator", "member"):
            world.updates.push("message", msg)  # privacy mode lets "via @bot" messages through
        return msg

    def _media(self, result: dict) -> dict:
        raw, kind = result["raw"], result["type"]
        key = _MEDIA[kind]
        file_id = raw.get(f"{kind if kind != 'mpeg4_gif' else 'mpeg4'}_file_id")
        if file_id is None:
            url = raw.get(f"{kind if kind != 'mpeg4_gif' else 'mpeg4'}_url") or raw.get("document_url")
            entry = self.world.store_file(key, {"url": url, "width": raw.get("photo_width", 800),
                                                "height": raw.get("photo_height", 600)})
        else:
            entry = self.world.files.get(file_id) or self.world.store_file(key, {})
        base = {"file_id": entry["file_id"], "file_unique_id": entry["file_unique_id"]}
        if kind == "photo":
            width, height = entry.get("width", 800), entry.get("height", 600)
            return {"photo": [{**base, "width": width, "height": height}]}
        return {key: base}

    def edit_target(self, inline_message_id: str) -> tuple[int, int]:
        """The (chat, message_id) of a message sent via the bot with an inline keyboard."""
        target = self.messages.get(inline_message_id)
        if target is None:
            raise bad_request("MESSAGE_ID_INVALID")
        return target
