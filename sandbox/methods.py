"""The Bot API methods the sandbox implements, as check-then-apply plans over the World.

`BotApi.plan(method, params)` validates a call exactly as far as Telegram would and returns a
`Call`; nothing changes until `Call.apply()` runs, so the server can still inject a fault or
a 429 in between (and a refused call never uses up a message id).
"""
from __future__ import annotations

import mimetypes
import re
from collections.abc import Callable
from dataclasses import dataclass

from sandbox.errors import (
    CHAT_NOT_FOUND,
    NOT_MODIFIED,
    QUERY_TOO_OLD,
    bad_request,
    forbidden,
)
from sandbox.inline import InlineMode
from sandbox.markup import check_photo, formatted, reply_markup
from sandbox.params import Upload
from sandbox.state import Chat, World
from sandbox.webhook import Webhook

CHAT_ACTIONS = frozenset({"typing", "upload_photo", "record_video", "upload_video",
                          "record_voice", "upload_voice", "upload_document", "choose_sticker",
                          "find_location", "record_video_note", "upload_video_note"})
COMMAND_SCOPES = frozenset({"default", "all_private_chats", "all_group_chats",
                            "all_chat_administrators", "chat", "chat_administrators",
                            "chat_member"})
_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
_WHERE = {"group": "group chat", "supergroup": "supergroup chat", "channel": "channel chat"}
NEED_CHANNEL_ADMIN = "need administrator rights in the channel chat"


@dataclass
class Call:
    """A validated call: the chat it addresses (for faults and flood limits) and its effect."""
    apply: Callable[[], object]
    chat: Chat | None = None
    description: str | None = None  # Telegram's note beside a result ("Webhook was set")


class BotApi:
    """Validation and effects of each implemented method (getUpdates lives in the server)."""

    def __init__(self, world: World, *, callback_ttl: float = 15.0,
                 inline: InlineMode | None = None, webhook: Webhook | None = None) -> None:
        self.world = world
        self.callback_ttl = callback_ttl
        self.inline = inline if inline is not None else InlineMode(world, ttl=callback_ttl)
        self.webhook = webhook if webhook is not None else Webhook(world)
        self._plans: dict[str, Callable[[dict], Call]] = {
            "getMe": self.get_me, "logOut": self._true, "close": self._true,
            "setWebhook": self.set_webhook, "deleteWebhook": self.delete_webhook,
            "getWebhookInfo": self.get_webhook_info,
            "sendMessage": self.send_message, "sendPhoto": self.send_photo,
            "sendDocument": self.send_document, "editMessageText": self.edit_message_text,
            "editMessageReplyMarkup": self.edit_message_reply_markup,
            "deleteMessage": self.delete_message,
            "answerCallbackQuery": self.answer_callback_query,
            "answerInlineQuery": self.answer_inline_query,
            "sendChatAction": self.send_chat_action, "getChat": self.get_chat,
            "getChatMember": self.get_chat_member, "getFile": self.get_file,
            "getChatAdministrators": self.get_chat_administrators,
            "setMyCommands": self.set_my_commands, "getMyCommands": self.get_my_commands,
            "deleteMyCommands": self.delete_my_commands,
            "setMyDescription": self._description_setter("description", 512),
            "getMyDescription": self._description_getter("description"),
            "setMyShortDescription": self._description_setter("short_description", 120),
            "getMyShortDescription": self._description_getter("short_description"),
        }

    def implements(self, method: str) -> bool:
        return method in self._plans or method == "getUpdates"

    def plan(self, method: str, p: dict) -> Call:
        return self._plans[method](p)

    # --- bot ----------------------------------------------------------------------------
    def get_me(self, p: dict) -> Call:
        me = {**self.world.bot.to_api(), "can_join_groups": True,
              "can_read_all_group_messages": not self.world.privacy_mode,
              "supports_inline_queries": self.inline.enabled, "can_connect_to_business": False,
              "has_main_web_app": False}
        return Call(lambda: me)

    def _true(self, p: dict) -> Call:
        return Call(lambda: True)

    def set_webhook(self, p: dict) -> Call:
        config, description = self.webhook.plan_set(p)
        drop = bool(p.get("drop_pending_updates"))
        return Call(lambda: self.webhook.apply_set(config, drop), description=description)

    def delete_webhook(self, p: dict) -> Call:
        description = "Webhook was deleted" if self.webhook.active else "Webhook is already deleted"
        drop = bool(p.get("drop_pending_updates"))
        return Call(lambda: self.webhook.apply_set(None, drop), description=description)

    def get_webhook_info(self, p: dict) -> Call:
        return Call(self.webhook.info)

    # --- sending ------------------------------------------------------------------------
    def send_message(self, p: dict) -> Call:
        text, entities = formatted(p.get("text"), p.get("parse_mode"), p.get("entities"))
        content: dict = {"text": text}
        if entities:
            content["entities"] = entities
        if "link_preview_options" in p:
            content["link_preview_options"] = p["link_preview_options"]
        record = {"text": text, "entities": entities, "parse_mode": p.get("parse_mode"),
                  "source": p.get("text")}
        return self._send("sendMessage", p, content, record)

    def send_photo(self, p: dict) -> Call:
        caption, entities = formatted(p.get("caption"), p.get("parse_mode"),
                                      p.get("caption_entities"), caption=True)
        photo = self._file(p["photo"], "photo")
        content = {"photo": photo["sizes"], **_caption(caption, entities)}
        if p.get("has_spoiler"):
            content["has_media_spoiler"] = True
        if p.get("show_caption_above_media"):
            content["show_caption_above_media"] = True
        record = {"photo": photo["record"], "caption": caption, "caption_entities": entities,
                  "parse_mode": p.get("parse_mode"), "source": p.get("caption")}
        return self._send("sendPhoto", p, content, record)

    def send_document(self, p: dict) -> Call:
        caption, entities = formatted(p.get("caption"), p.get("parse_mode"),
                                      p.get("caption_entities"), caption=True)
        doc = self._file(p["document"], "document")
        content = {"document": doc["document"], **_caption(caption, entities)}
        record = {"document": doc["record"], "caption": caption, "caption_entities": entities,
                  "parse_mode": p.get("parse_mode"), "source": p.get("caption")}
        return self._send("sendDocument", p, content, record)

    def _send(self, method: str, p: dict, content: dict, record: dict) -> Call:
        if "business_connection_id" in p:
            raise bad_request("business connection not found")
        chat = self.chat(p.get("chat_id"))
        self.check_access(chat)
        thread = self._thread(chat, p.get("message_thread_id"))
        markup = reply_markup(p.get("reply_markup"))
        reply_to = self._reply_to(chat, p.get("reply_parameters"))
        world = self.world

        def apply() -> dict:
            mid = chat.next_message_id()
            msg: dict = {"message_id": mid, "from": world.bot.to_api(), "date": world.date(),
                         "chat": chat.to_api()}
            if chat.type == "channel":  # posts in a channel are signed by the channel
                del msg["from"]
                msg = {"message_id": mid, "sender_chat": chat.to_api(), **msg}
                world.bot_posts.add((chat.id, mid))
            if thread is not None:
                msg["message_thread_id"] = thread
                if chat.is_forum:
                    msg["is_topic_message"] = True
            if reply_to is not None:
                msg["reply_to_message"] = reply_to
            msg.update(content)
            if markup is not None and "inline_keyboard" in markup:
                msg["reply_markup"] = markup
            if p.get("protect_content"):
                msg["has_protected_content"] = True
            world.messages[(chat.id, mid)] = msg
            rec = {"method": method, "message_id": mid, "date": msg["date"],
                   "message_thread_id": thread, **record, "reply_markup": markup,
                   "reply_to_message_id": reply_to["message_id"] if reply_to else None,
                   "edit_date": None, "edits": 0, "deleted": False}
            world.records[chat.id].append(rec)
            world.log[chat.id].append(dict(rec))
            return msg
        return Call(apply, chat)

    def _file(self, value: object, kind: str) -> dict:
        world = self.world
        if isinstance(value, Upload):
            if kind == "photo":
                width, height = check_photo(value.data)
                entry = world.store_file("photo", {"width": width, "height": height,
                                                   "file_size": len(value.data),
                                                   "file_name": value.filename})
            else:
                if not value.data:
                    raise bad_request("file must be non-empty")
                mime = value.content_type or mimetypes.guess_type(value.filename or "")[0]
                entry = world.store_file("document", {
                    "file_name": value.filename or "document", "file_size": len(value.data), "data": value.data,
                    "mime_type": mime or "application/octet-stream"})
        elif isinstance(value, str) and re.match(r"https?://", value):
            entry = world.store_file(kind, {"url": value, "width": 800, "height": 600,
                                            "file_name": value.rsplit("/", 1)[-1] or "file",
                                            "mime_type": "application/octet-stream"})
        elif isinstance(value, str) and value in world.files:
            entry = world.files[value]
        else:
            raise bad_request("wrong file identifier/HTTP URL specified")
        base = {"file_id": entry["file_id"], "file_unique_id": entry["file_unique_id"]}
        record = {k: entry.get(k) for k in ("file_id", "file_name", "file_size", "url")
                  if entry.get(k) is not None}
        if kind == "photo":
            width, height = entry.get("width", 800), entry.get("height", 600)
            scale = min(1.0, 90 / max(width, height))
            sizes = [{**base, "file_id": base["file_id"] + "_s",
                      "file_unique_id": base["file_unique_id"] + "s",
                      "width": max(1, round(width * scale)),
                      "height": max(1, round(height * scale))},
                     {**base, "width": width, "height": height}]
            if entry.get("file_size"):
                sizes[-1]["file_size"] = entry["file_size"]
            return {"sizes": sizes, "record": record}
        document = {**base, "file_name": entry.get("file_name") or "document",
                    "mime_type": entry.get("mime_type") or "application/octet-stream"}
        if entry.get("file_size"):
            document["file_size"] = entry["file_size"]
        return {"document": document, "record": record}

    # --- editing ------------------------------------------------------------------------
    def edit_message_text(self, p: dict) -> Call:
        if "rich_message" in p:
            raise bad_request("rich messages are not supported by the sandbox")
        chat, msg, inline = self._editable(p)
        text, entities = formatted(p.get("text"), p.get("parse_mode"), p.get("entities"))
        markup = reply_markup(p.get("reply_markup"), inline_only=True)
        if "text" not in msg:
            raise bad_request("there is no text in the message to edit")
        if (msg["text"], msg.get("entities", []), msg.get("reply_markup")) == \
                (text, entities, markup):
            raise bad_request(NOT_MODIFIED)
        changes = {"text": text, "entities": entities, "parse_mode": p.get("parse_mode"),
                   "source": p.get("text")}
        return self._edit("editMessageText", chat, msg, changes, markup,
                          p.get("link_preview_options"), inline)

    def edit_message_reply_markup(self, p: dict) -> Call:
        chat, msg, inline = self._editable(p)
        markup = reply_markup(p.get("reply_markup"), inline_only=True)
        if msg.get("reply_markup") == markup:
            raise bad_request(NOT_MODIFIED)
        return self._edit("editMessageReplyMarkup", chat, msg, {}, markup, None, inline)

    def _editable(self, p: dict) -> tuple[Chat, dict, bool]:
        """The message an edit names, and whether it was named by inline_message_id."""
        if "inline_message_id" in p:
            chat_id, message_id = self.inline.edit_target(str(p["inline_message_id"]))
            msg = self.world.messages.get((chat_id, message_id))
            if msg is None:
                raise bad_request("MESSAGE_ID_INVALID")
            return self.world.chats[chat_id], msg, True
        if "business_connection_id" in p:
            raise bad_request("business connection not found")
        chat = self.chat(p.get("chat_id"))
        if "message_id" not in p:
            raise bad_request("message identifier is not specified")
        self.check_access(chat)
        msg = self.world.messages.get((chat.id, p["message_id"]))
        if msg is None:
            raise bad_request("message to edit not found")
        if not self.world.sent_by_bot(chat.id, msg):
            raise bad_request("message can't be edited")
        return chat, msg, False

    def _edit(self, method: str, chat: Chat, msg: dict, changes: dict, markup: dict | None,
              link_preview: dict | None, inline: bool = False) -> Call:
        world = self.world

        def apply() -> dict | bool:
            if "text" in changes:
                msg["text"] = changes["text"]
                if changes["entities"]:
                    msg["entities"] = changes["entities"]
                else:
                    msg.pop("entities", None)
            if link_preview is not None:
                msg["link_preview_options"] = link_preview
            if markup is not None:
                msg["reply_markup"] = markup
            else:
                msg.pop("reply_markup", None)
            msg["edit_date"] = world.date()
            rec = next(r for r in world.records[chat.id] if r["message_id"] == msg["message_id"])
            rec.update(changes)
            rec.update(reply_markup=markup, edit_date=msg["edit_date"], edits=rec["edits"] + 1)
            world.log[chat.id].append({**rec, "method": method})
            return True if inline else msg  # inline messages aren't the bot's to show
        return Call(apply, None if inline else chat)

    def delete_message(self, p: dict) -> Call:
        chat = self.chat(p.get("chat_id"))
        key = (chat.id, p["message_id"])
        msg = self.world.messages.get(key)
        if msg is None:
            raise bad_request("message to delete not found")
        own = self.world.sent_by_bot(chat.id, msg)
        if not own and chat.type != "private" and \
                not self.world.right(chat, self.world.bot.id, "can_delete_messages"):
            raise bad_request("message can't be deleted")
        world = self.world

        def apply() -> bool:
            del world.messages[key]
            for rec in world.records[chat.id]:
                if rec["message_id"] == p["message_id"]:
                    rec["deleted"] = True
            world.log[chat.id].append({"method": "deleteMessage", "message_id": p["message_id"],
                                       "date": world.date()})
            return True
        return Call(apply, chat)

    # --- buttons and actions ------------------------------------------------------------
    def answer_callback_query(self, p: dict) -> Call:
        entry = self.world.callbacks.get(p["callback_query_id"])
        if entry is None or entry["answered"] is not None or \
                self.world.now() - entry["at"] > self.callback_ttl:
            raise bad_request(QUERY_TOO_OLD)
        world = self.world

        def apply() -> bool:
            answer = {"callback_query_id": p["callback_query_id"], "text": p.get("text"),
                      "show_alert": bool(p.get("show_alert", False)), "url": p.get("url"),
                      "cache_time": p.get("cache_time", 0), "date": world.date(),
                      "data": entry["query"].get("data")}
            entry["answered"] = answer
            world.callback_answers.append(answer)
            chat_id = entry["query"]["message"]["chat"]["id"]
            world.log.setdefault(chat_id, []).append({"method": "answerCallbackQuery", **answer})
            return True
        return Call(apply)

    def answer_inline_query(self, p: dict) -> Call:
        return Call(self.inline.answer(p))

    def send_chat_action(self, p: dict) -> Call:
        chat = self.chat(p.get("chat_id"))
        self.check_access(chat)
        if p["action"] not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        thread = self._thread(chat, p.get("message_thread_id"))
        world = self.world

        def apply() -> bool:
            world.log[chat.id].append({"method": "sendChatAction", "action": p["action"],
                                       "message_thread_id": thread, "date": world.date()})
            return True
        return Call(apply, chat)

    # --- chats --------------------------------------------------------------------------
    def get_chat(self, p: dict) -> Call:
        chat = self.chat(p.get("chat_id"))
        info = {**chat.to_api(), "accent_color_id": abs(chat.id) % 7, "max_reaction_count": 11,
                "accepted_gift_types": {"unlimited_gifts": True, "limited_gifts": True,
                                        "unique_gifts": True, "premium_subscription": True,
                                        "gifts_from_channels": True}}
        if chat.type in ("group", "supergroup"):
            info["permissions"] = {"can_send_messages": True}
        return Call(lambda: info, chat)

    def get_file(self, p: dict) -> Call:
        entry = self.world.files.get(str(p["file_id"]))
        if entry is None:
            raise bad_request("invalid file_id")
        info = {"file_id": entry["file_id"], "file_unique_id": entry["file_unique_id"]}
        if entry.get("data") is not None:
            info["file_size"] = len(entry["data"])
            info["file_path"] = f"{entry['kind']}s/file_{entry['file_unique_id']}"
        return Call(lambda: info)

    def get_chat_member(self, p: dict) -> Call:
        chat = self.chat(p.get("chat_id"))
        user = self.world.users.get(p["user_id"])
        if user is None:
            raise bad_request("user not found")
        if user.id != self.world.bot.id:
            self._check_member_list(chat)
        return Call(lambda: self.world.member(chat, user.id), chat)

    def get_chat_administrators(self, p: dict) -> Call:
        chat = self.chat(p.get("chat_id"))
        if chat.type == "private":
            raise bad_request("there are no administrators in the private chat")
        self._check_member_list(chat)
        want_bots = bool(p.get("return_bots", False))

        def apply() -> list:
            ids = [u for u, s in chat.members.items() if s in ("creator", "administrator")
                   and (want_bots or not self.world.users[u].is_bot)]
            return [self.world.member(chat, u) for u in ids]
        return Call(apply, chat)

    def _check_member_list(self, chat: Chat) -> None:
        """Only a channel's administrators see who else is in it."""
        if chat.type != "channel":
            return
        status = self.world.member_status(chat, self.world.bot.id)
        if status in ("left", "kicked"):
            raise forbidden("bot is not a member of the channel chat")
        if status != "administrator":
            raise bad_request("member list is inaccessible")

    # --- commands and descriptions ------------------------------------------------------
    def set_my_commands(self, p: dict) -> Call:
        commands = p["commands"]
        if len(commands) > 100:
            raise bad_request("BOT_COMMANDS_TOO_MUCH")
        clean = []
        for c in commands:
            if not isinstance(c, dict) or not isinstance(c.get("command"), str) or \
                    not isinstance(c.get("description"), str):
                raise bad_request("can't parse BotCommand: command and description must be "
                                  "Strings")
            name = c["command"][1:] if c["command"].startswith("/") else c["command"]
            if not _COMMAND.fullmatch(name):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(c["description"].strip()) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            clean.append({"command": name, "description": c["description"]})
        key = self._commands_key(p)

        def apply() -> bool:
            self.world.commands[key] = clean
            return True
        return Call(apply)

    def get_my_commands(self, p: dict) -> Call:
        key = self._commands_key(p)
        return Call(lambda: list(self.world.commands.get(key, [])))

    def delete_my_commands(self, p: dict) -> Call:
        key = self._commands_key(p)
        return Call(lambda: self.world.commands.pop(key, None) is not None or True)

    def _commands_key(self, p: dict) -> tuple[str, str]:
        scope = p.get("scope") or {"type": "default"}
        kind = scope.get("type")
        if kind not in COMMAND_SCOPES:
            raise bad_request("unsupported bot command scope type")
        parts = [kind]
        if kind in ("chat", "chat_administrators", "chat_member"):
            parts.append(str(self.chat(scope.get("chat_id")).id))
        if kind == "chat_member":
            if scope.get("user_id") not in self.world.users:
                raise bad_request("user not found")
            parts.append(str(scope["user_id"]))
        return ":".join(parts), _language(p.get("language_code"))

    def _description_setter(self, field: str, limit: int) -> Callable[[dict], Call]:
        def plan(p: dict) -> Call:
            value = p.get(field, "")
            if len(value) > limit:
                raise bad_request(f"{field.replace('_', ' ')} is too long")
            key = (field, _language(p.get("language_code")))

            def apply() -> bool:
                self.world.descriptions[key] = value
                return True
            return Call(apply)
        return plan

    def _description_getter(self, field: str) -> Callable[[dict], Call]:
        def plan(p: dict) -> Call:
            key = (field, _language(p.get("language_code")))
            return Call(lambda: {field: self.world.descriptions.get(key, "")})
        return plan

    # --- shared checks ------------------------------------------------------------------
    def check_access(self, chat: Chat) -> None:
        """Telegram's refusals for a bot that left, was removed or may not post here."""
        if chat.type == "private":
            return
        bot = self.world.bot.id
        status = self.world.member_status(chat, bot)
        if status == "kicked":
            raise forbidden(f"bot was kicked from the {_WHERE[chat.type]}")
        if status == "left":
            raise forbidden(f"bot is not a member of the {_WHERE[chat.type]}")
        if chat.type == "channel" and not self.world.right(chat, bot, "can_post_messages"):
            raise bad_request(NEED_CHANNEL_ADMIN)

    def chat(self, value: object) -> Chat:
        """The chat a chat_id names, or Telegram's error for it."""
        world = self.world
        if value is None or value == "":
            raise bad_request("chat_id is empty")
        if isinstance(value, str):
            name = value[1:].lower() if value.startswith("@") else None
            chat = next((c for c in world.chats.values()
                         if name and c.username and c.username.lower() == name), None)
            if chat is None:
                raise bad_request(CHAT_NOT_FOUND)
        else:
            # coerce() made a chat_id parameter an int; only a command scope's chat_id (raw
            # JSON) can be anything else, and int() never took those
            if not isinstance(value, (int, float)):
                raise TypeError(f"chat_id {value!r} is not a number")
            chat = world.chats.get(int(value))
            if chat is not None and not chat.bot_has_seen:
                chat = None  # a private channel the bot was never in: unknown to it
            if chat is None:
                if value in world.users:
                    raise forbidden("bot can't initiate conversation with a user")
                raise bad_request(CHAT_NOT_FOUND)
        if chat.migrated_to is not None:
            raise bad_request("group chat was upgraded to a supergroup chat",
                              {"migrate_to_chat_id": chat.migrated_to})
        return chat

    def _thread(self, chat: Chat, thread_id: int | None) -> int | None:
        if thread_id is None or chat.type in ("private", "group"):
            return None  # Telegram ignores it outside supergroups
        if chat.is_forum:
            if thread_id not in chat.topics and thread_id != 1:
                raise bad_request("message thread not found")
            return None if thread_id == 1 else thread_id  # 1 is the General topic
        if (chat.id, thread_id) not in self.world.messages:
            raise bad_request("message thread not found")
        return thread_id

    def _reply_to(self, chat: Chat, params: dict | None) -> dict | None:
        if params is None:
            return None
        if not isinstance(params.get("message_id"), int):
            raise bad_request("can't parse reply parameters: Field \"message_id\" must be of "
                              "type Number")
        target = chat if params.get("chat_id") is None else self.chat(params["chat_id"])
        msg = self.world.messages.get((target.id, params["message_id"]))
        if msg is None:
            if params.get("allow_sending_without_reply"):
                return None
            raise bad_request("message to be replied not found")
        return {k: v for k, v in msg.items() if k != "reply_to_message"}


def _caption(caption: str, entities: list[dict]) -> dict:
    out: dict = {}
    if caption:
        out["caption"] = caption
    if entities:
        out["caption_entities"] = entities
    return out


def _language(code: object) -> str:
    code = code or ""
    if code and not re.fullmatch(r"[a-z]{2}", str(code)):
        raise bad_request("invalid language code specified")
    return str(code)

