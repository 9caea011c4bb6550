"""The sandbox's little Telegram: users, chats, topics, messages and the update queue.

Everything here is in memory and synchronous except the queue's wait; time comes from the
injected `now` (unix seconds) so message dates are predictable in tests.
"""
from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

from sandbox.entities import detect_bot_commands, utf16_len
from sandbox.members import STATUSES, check_rights, member_object

#: Update types delivered when allowed_updates is empty or was never set.
DEFAULT_UPDATE_TYPES = frozenset({
    "message", "edited_message", "channel_post", "edited_channel_post", "business_connection",
    "business_message", "edited_business_message", "deleted_business_messages",
    "guest_message", "inline_query", "chosen_inline_result", "callback_query",
    "shipping_query", "pre_checkout_query", "purchased_paid_media", "poll", "poll_answer",
    "my_chat_member", "chat_join_request", "chat_boost", "removed_chat_boost", "managed_bot",
})
ALL_UPDATE_TYPES = DEFAULT_UPDATE_TYPES | {"chat_member", "message_reaction",
                                           "message_reaction_count"}


class SandboxError(ValueError):
    """A control-API call that makes no sense (unknown chat, button that isn't there...)."""


@dataclass
class User:
    id: int
    first_name: str
    username: str | None = None
    last_name: str | None = None
    language_code: str | None = None
    is_bot: bool = False

    def to_api(self) -> dict:
        out: dict = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        return out


# Who Telegram says sent a group admin's anonymous message (the real user is hidden).
GROUP_ANONYMOUS_BOT = {"id": 1087968824, "is_bot": True, "first_name": "Group", "username": "GroupAnonymousBot"}


@dataclass
class Chat:
    id: int
    type: str  # "private" | "group" | "supergroup" | "channel"
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    is_forum: bool = False
    members: dict[int, str] = field(default_factory=dict)  # user id -> a members.STATUSES but "left"
    rights: dict[int, dict] = field(default_factory=dict)  # administrator id -> rights overridden
    topics: dict[int, str] = field(default_factory=dict)  # message_thread_id -> name
    migrated_to: int | None = None
    last_message_id: int = 0
    bot_has_seen: bool = True  # False: a private channel the bot never joined ("chat not found")

    def to_api(self) -> dict:
        out: dict = {"id": self.id, "type": self.type}
        for key in ("title", "username", "first_name", "last_name"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.is_forum:
            out["is_forum"] = True
        return out

    def next_message_id(self) -> int:
        self.last_message_id += 1
        return self.last_message_id


class UpdateQueue:
    """Updates waiting for getUpdates: numbered, confirmed by offset, awaited by long polls."""

    def __init__(self) -> None:
        self._items: list[dict] = []
        self._next_id = 1
        self._wakeup: asyncio.Future | None = None
        self.allowed: frozenset[str] = DEFAULT_UPDATE_TYPES

    def push(self, kind: str, payload: dict) -> dict | None:
        """Queue an update unless the bot's allowed_updates excludes its type."""
        if kind not in self.allowed:
            return None
        update = {"update_id": self._next_id, kind: payload}
        self._next_id += 1
        self._items.append(update)
        self.notify()
        return update

    def set_allowed(self, kinds: list[str]) -> None:
        self.allowed = frozenset(kinds) & ALL_UPDATE_TYPES if kinds else DEFAULT_UPDATE_TYPES

    def confirm(self, offset: int) -> None:
        """Forget updates below `offset`; a negative offset keeps only the last -offset."""
        if offset > 0:
            self._items = [u for u in self._items if u["update_id"] >= offset]
        elif offset < 0:
            self._items = self._items[offset:]

    def pending(self, limit: int = 100) -> list[dict]:
        return self._items[:limit]

    def drop_all(self) -> None:
        self._items.clear()

    def notify(self) -> None:
        if self._wakeup is not None and not self._wakeup.done():
            self._wakeup.set_result(None)
        self._wakeup = None

    def wakeup(self) -> asyncio.Future:
        """A future resolved at the next push or `notify` (take it before checking the queue,
        so that nothing pushed in between goes unnoticed)."""
        if self._wakeup is None:
            self._wakeup = asyncio.get_running_loop().create_future()
        return self._wakeup

    async def changed(self, timeout: float) -> None:
        """Wait until something is pushed or `notify` is called, at most `timeout` seconds."""
        try:
            await asyncio.wait_for(asyncio.shield(self.wakeup()), max(timeout, 0))
        except TimeoutError:
            pass


class World:
    """Users, chats and messages as the Bot API and the control API see them."""

    def __init__(self, bot: User, *, now: Callable[[], float], privacy_mode: bool = True,
                 bot_is_admin: bool = False) -> None:
        self.bot = bot
        self.now = now
        self.privacy_mode = privacy_mode
        self.bot_is_admin = bot_is_admin
        self.users: dict[int, User] = {bot.id: bot}
        self.chats: dict[int, Chat] = {}
        self.messages: dict[tuple[int, int], dict] = {}  # (chat, message_id) -> API Message
        self.records: dict[int, list[dict]] = {}  # chat -> the bot's messages, as received
        self.log: dict[int, list[dict]] = {}  # chat -> every successful call about it
        self.callbacks: dict[str, dict] = {}  # callback_query id -> query + bookkeeping
        self.callback_answers: list[dict] = []
        self.commands: dict[tuple[str, str], list[dict]] = {}
        self.descriptions: dict[tuple[str, str], str] = {}
        self.files: dict[str, dict] = {}
        self.bot_posts: set[tuple[int, int]] = set()  # (channel, message_id) the bot posted
        self.updates = UpdateQueue()
        self._user_ids = itertools.count(1001)
        self._group_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)
        self._channel_ids = itertools.count(1)

    def date(self) -> int:
        return int(self.now())

    # --- people and places -------------------------------------------------------------
    def add_user(self, first_name: str = "Test", *, user_id: int | None = None,
                 username: str | None = None, last_name: str | None = None,
                 language_code: str | None = "en", is_bot: bool = False) -> User:
        uid = user_id if user_id is not None else next(self._user_ids)
        while user_id is None and uid in self.users:
            uid = next(self._user_ids)
        if uid in self.users or uid <= 0:
            raise SandboxError(f"user id {uid} is taken or invalid")
        user = User(uid, first_name, username, last_name, language_code, is_bot)
        self.users[uid] = user
        return user

    def user(self, user: User | int) -> User:
        uid = user.id if isinstance(user, User) else int(user)
        if uid not in self.users:
            raise SandboxError(f"no user {uid}")
        return self.users[uid]

    def chat(self, chat: Chat | int) -> Chat:
        cid = chat.id if isinstance(chat, Chat) else int(chat)
        if cid not in self.chats:
            raise SandboxError(f"no chat {cid}")
        return self.chats[cid]

    def private_chat(self, user: User | int) -> Chat:
        """The user's private chat with the bot (as if they pressed Start)."""
        u = self.user(user)
        if u.id not in self.chats:
            self._add_chat(Chat(u.id, "private", username=u.username, first_name=u.first_name,
                                last_name=u.last_name, members={u.id: "member"}))
        return self.chats[u.id]

    def group(self, title: str = "Test group", *, members=(), admins=(), owner=None,
              chat_id: int | None = None) -> Chat:
        cid = chat_id if chat_id is not None else -(4_000_000_000 + next(self._group_ids))
        return self._add_chat(self._populate(Chat(cid, "group", title=title), members, admins,
                                             owner))

    def supergroup(self, title: str = "Test supergroup", *, members=(), admins=(), owner=None,
                   username: str | None = None, forum: bool = False, topics=(),
                   chat_id: int | None = None) -> Chat:
        cid = chat_id if chat_id is not None else -(1_001_000_000_000 + next(self._group_ids))
        chat = self._populate(Chat(cid, "supergroup", title=title, username=username,
                                   is_forum=forum), members, admins, owner)
        self._add_chat(chat)
        for name in topics:
            self.add_topic(chat, name)
        return chat

    def add_topic(self, chat: Chat | int, name: str) -> int:
        """Open a forum topic; returns its message_thread_id."""
        c = self.chat(chat)
        if not c.is_forum:
            raise SandboxError(f"chat {c.id} is not a forum")
        thread_id = c.next_message_id()
        c.topics[thread_id] = name
        self.messages[(c.id, thread_id)] = {
            "message_id": thread_id, "message_thread_id": thread_id, "date": self.date(),
            "chat": c.to_api(), "is_topic_message": True,
            "forum_topic_created": {"name": name, "icon_color": 7322096}}
        return thread_id

    def add_member(self, chat: Chat | int, user: User | int, status: str = "member") -> None:
        c, u = self.chat(chat), self.user(user)
        if c.type == "private":
            raise SandboxError("private chats have no members to add")
        if status not in STATUSES:
            raise SandboxError(f"unknown member status {status!r}")
        if status == "left":
            c.members.pop(u.id, None)
        else:
            c.members[u.id] = status
        if status != "administrator":
            c.rights.pop(u.id, None)

    def set_admin(self, chat: Chat | int, user: User | int, admin: bool = True, *,
                  rights: dict | None = None) -> None:
        """Promote (with `rights` overriding the defaults, e.g. {"can_post_messages": False})
        or demote a member. For the bot itself this is `set_bot_status`: a my_chat_member update."""
        c, u = self.chat(chat), self.user(user)
        if u.id == self.bot.id:
            self.set_bot_status(c, "administrator" if admin else "member", rights=rights)
            return
        if c.members.get(u.id) == "creator":
            raise SandboxError("the owner's status can't change")
        checked = check_rights(c.type, c.is_forum, rights or {}) if admin else {}
        self.add_member(c, u, "administrator" if admin else "member")
        if checked:
            c.rights[u.id] = checked

    # --- channels and the bot's own membership ---------------------------------------------
    def channel(self, title: str = "Test channel", *, username: str | None = None, owner=None,
                admins=(), members=(), bot: str | None = "administrator",
                bot_rights: dict | None = None, chat_id: int | None = None) -> Chat:
        """A channel with its owner (created if not given), admins and subscribers.

        `bot`: "administrator" (default) or "member" adds the bot as the owner would, which
        queues a my_chat_member update; None leaves the bot out of it."""
        cid = chat_id if chat_id is not None else -(1_002_000_000_000 + next(self._channel_ids))
        if owner is None:
            owner = self.add_user(f"{title} owner")
        chat = Chat(cid, "channel", title=title, username=username, bot_has_seen=False)
        for u in members:
            chat.members[self.user(u).id] = "member"
        for u in admins:
            chat.members[self.user(u).id] = "administrator"
        chat.members[self.user(owner).id] = "creator"
        self._add_chat(chat)
        if bot is not None:
            self.set_bot_status(chat, bot, by=owner, rights=bot_rights)
        return chat

    def set_bot_status(self, chat: Chat | int, status: str, *, by: User | int | None = None,
                       rights: dict | None = None) -> dict:
        """Add, promote, demote or remove the bot as the admin `by` would (default: the owner,
        else any admin): queues my_chat_member with the old and new ChatMember; returns it."""
        c = self.chat(chat)
        if c.type == "private":
            raise SandboxError("the bot's status in a private chat doesn't change this way")
        if status not in ("administrator", "member", "left", "kicked"):
            raise SandboxError(f"the bot can't become {status!r}")
        if status == "member" and c.type == "channel" and self.member_status(c, self.bot.id) == "left":
            raise SandboxError("a bot joins a channel only as an administrator")
        actor = self.user(by) if by is not None else self._chat_owner(c)
        if c.members.get(actor.id) not in ("creator", "administrator"):
            raise SandboxError(f"user {actor.id} is not an admin of chat {c.id}")
        checked = check_rights(c.type, c.is_forum, rights or {}) if status == "administrator" else {}
        old = self.member(c, self.bot.id)
        self.add_member(c, self.bot, status)
        if checked:
            c.rights[self.bot.id] = checked
        if status in ("administrator", "member"):
            c.bot_has_seen = True
        new = self.member(c, self.bot.id)
        update = {"chat": c.to_api(), "from": actor.to_api(), "date": self.date(),
                  "old_chat_member": old, "new_chat_member": new}
        self.updates.push("my_chat_member", update)
        return update

    def member(self, chat: Chat, user_id: int) -> dict:
        """The ChatMember object getChatMember answers for this user."""
        return member_object(self.users[user_id].to_api(), self.member_status(chat, user_id),
                             chat_type=chat.type, is_forum=chat.is_forum,
                             rights=chat.rights.get(user_id))

    def right(self, chat: Chat, user_id: int, name: str) -> bool:
        """Whether a member holds an administrator right (owners hold them all)."""
        status = self.member_status(chat, user_id)
        if status == "creator":
            return True
        return status == "administrator" and bool(self.member(chat, user_id).get(name))

    def _chat_owner(self, chat: Chat) -> User:
        for wanted in ("creator", "administrator"):
            for uid, status in chat.members.items():
                if status == wanted and uid != self.bot.id:
                    return self.users[uid]
        raise SandboxError(f"chat {chat.id} has no admin who could do that; pass by=")

    def channel_post(self, chat: Chat | int, text: str, *, author: User | int | None = None,
                     signature: str | None = None, entities: list[dict] | None = None) -> dict:
        """An admin posts in a channel; the bot gets a channel_post update if it is a member."""
        c = self.chat(chat)
        if c.type != "channel":
            raise SandboxError(f"chat {c.id} is not a channel")
        if not text:
            raise SandboxError("a post needs text")
        if author is not None and not self.right(c, self.user(author).id, "can_post_messages"):
            raise SandboxError(f"user {self.user(author).id} may not post in channel {c.id}")
        msg: dict = {"message_id": c.next_message_id(), "sender_chat": c.to_api(),
                     "date": self.date(), "chat": c.to_api(), "text": text}
        if signature is not None:
            msg["author_signature"] = signature
        if entities:
            for e in entities:
                if e["offset"] < 0 or e["length"] <= 0 or e["offset"] + e["length"] > utf16_len(text):
                    raise SandboxError(f"entity {e} lies outside the text")
            msg["entities"] = entities
        self.messages[(c.id, msg["message_id"])] = msg
        if self.member_status(c, self.bot.id) in ("administrator", "member"):
            self.updates.push("channel_post", msg)
        return msg

    def sent_by_bot(self, chat_id: int, msg: dict) -> bool:
        """The bot's own message: from the bot, or a channel post the bot made."""
        return msg.get("from", {}).get("id") == self.bot.id or \
            (chat_id, msg.get("message_id")) in self.bot_posts

    def migrate(self, chat: Chat | int, new_id: int | None = None) -> Chat:
        """Upgrade a group to a supergroup; the old id answers "migrate_to_chat_id" from now on."""
        old = self.chat(chat)
        if old.type != "group" or old.migrated_to is not None:
            raise SandboxError(f"chat {old.id} is not a basic group")
        new = self.supergroup(old.title or "", chat_id=new_id)
        new.members = dict(old.members)
        old.migrated_to = new.id
        owner = next((self.users[u] for u, s in old.members.items() if s == "creator"), None)
        sender = {"from": owner.to_api()} if owner else {}
        for c, key, value in ((old, "migrate_to_chat_id", new.id),
                              (new, "migrate_from_chat_id", old.id)):
            message_id = c.next_message_id()
            service = {"message_id": message_id, **sender, "date": self.date(),
                       "chat": c.to_api(), key: value}
            self.messages[(c.id, message_id)] = service
            self.updates.push("message", service)
        return new

    def _populate(self, chat: Chat, members, admins, owner) -> Chat:
        for u in members:
            chat.members[self.user(u).id] = "member"
        for u in admins:
            chat.members[self.user(u).id] = "administrator"
        if owner is not None:
            chat.members[self.user(owner).id] = "creator"
        chat.members[self.bot.id] = "administrator" if self.bot_is_admin else "member"
        return chat

    def _add_chat(self, chat: Chat) -> Chat:
        if chat.id in self.chats:
            raise SandboxError(f"chat id {chat.id} is taken")
        self.chats[chat.id] = chat
        if chat.type != "private":
            # message 1 is the creation notice; in forums it opens the General topic (id 1)
            created = {"group": "group_chat_created", "channel": "channel_chat_created"}.get(
                chat.type, "supergroup_chat_created")
            first = chat.next_message_id()
            self.messages[(chat.id, first)] = {"message_id": first, "date": self.date(),
                                               "chat": chat.to_api(), created: True}
        self.records.setdefault(chat.id, [])
        self.log.setdefault(chat.id, [])
        return chat

    # --- what users do -----------------------------------------------------------------
    def user_message(self, chat: Chat | int, user: User | int, text: str, *,
                     thread_id: int | None = None, entities: list[dict] | None = None,
                     reply_to: int | None = None, anonymous: bool = False) -> dict:
        """A user writes in a chat; queues the update the bot would get. Returns the Message.

        `anonymous`: a group admin posting as the group, as Telegram shows it: from GroupAnonymousBot,
        with the group as sender_chat."""
        c, u = self.chat(chat), self.user(user)
        if anonymous and (c.type == "private" or c.members.get(u.id) not in ("administrator", "creator")):
            raise SandboxError(f"only an admin of group {c.id} can post anonymously")
        if c.migrated_to is not None:
            raise SandboxError(f"chat {c.id} was migrated to {c.migrated_to}")
        if c.type == "channel":
            raise SandboxError("people post in channels with channel_post(chat, text)")
        if not text:
            raise SandboxError("a message needs text")
        if c.type == "private" and c.id != u.id:
            raise SandboxError(f"user {u.id} is not in private chat {c.id}")
        if c.type != "private" and u.id not in c.members:
            c.members[u.id] = "member"
        msg: dict = {"message_id": c.next_message_id(), "from": u.to_api(), "date": self.date(),
                     "chat": c.to_api()}
        if anonymous:
            msg["from"] = dict(GROUP_ANONYMOUS_BOT)
            msg["sender_chat"] = c.to_api()
        if thread_id is not None:
            if thread_id not in c.topics:
                raise SandboxError(f"chat {c.id} has no topic {thread_id}")
            msg["message_thread_id"] = thread_id
            msg["is_topic_message"] = True
            if reply_to is None:
                msg["reply_to_message"] = self.messages[(c.id, thread_id)]
        if reply_to is not None:
            if (c.id, reply_to) not in self.messages:
                raise SandboxError(f"no message {reply_to} in chat {c.id}")
            msg["reply_to_message"] = _without_reply(self.messages[(c.id, reply_to)])
        msg["text"] = text
        found = entities if entities is not None else detect_bot_commands(text)
        for e in found:
            if e["offset"] < 0 or e["length"] <= 0 or e["offset"] + e["length"] > utf16_len(text):
                raise SandboxError(f"entity {e} lies outside the text")
        if found:
            msg["entities"] = found
        self.messages[(c.id, msg["message_id"])] = msg
        if self._bot_sees(c, msg):
            self.updates.push("message", msg)
        return msg

    def user_document(self, chat: Chat | int, user: User | int, filename: str, data: bytes, *,
                      caption: str | None = None, reply_to: int | None = None) -> dict:
        """A user sends a file (with an optional caption, e.g. a command); the bot can getFile it."""
        c, u = self.chat(chat), self.user(user)
        if c.type == "private" and c.id != u.id:
            raise SandboxError(f"user {u.id} is not in private chat {c.id}")
        entry = self.store_file("document", {"file_name": filename, "file_size": len(data), "data": bytes(data),
                                             "mime_type": "application/octet-stream"})
        msg: dict = {"message_id": c.next_message_id(), "from": u.to_api(), "date": self.date(), "chat": c.to_api(),
                     "document": {"file_id": entry["file_id"], "file_unique_id": entry["file_unique_id"],
                                  "file_name": filename, "file_size": len(data),
                                  "mime_type": "application/octet-stream"}}
        if reply_to is not None:
            if (c.id, reply_to) not in self.messages:
                raise SandboxError(f"no message {reply_to} in chat {c.id}")
            msg["reply_to_message"] = _without_reply(self.messages[(c.id, reply_to)])
        if caption:
            msg["caption"] = caption
            found = detect_bot_commands(caption)
            if found:
                msg["caption_entities"] = found
        self.messages[(c.id, msg["message_id"])] = msg
        if c.type == "private" or not self.privacy_mode or caption and caption.startswith("/"):
            self.updates.push("message", msg)
        return msg

    def file_bytes(self, file_path: str) -> bytes | None:
        unique = file_path.rsplit("file_", 1)[-1]
        for entry in self.files.values():
            if entry.get("file_unique_id") == unique and entry.get("data") is not None:
                return entry["data"]
        return None

    def press(self, chat: Chat | int, user: User | int, message_id: int, data: str, *, forge: bool = False) -> dict:
        """A user presses the inline button carrying `data` under one of the bot's messages.

        forge=True plays a modified client that sends callback data no button carries.
        """
        c, u = self.chat(chat), self.user(user)
        msg = self.messages.get((c.id, message_id))
        if msg is None or not self.sent_by_bot(c.id, msg):
            raise SandboxError(f"the bot sent no message {message_id} in chat {c.id}")
        rows = msg.get("reply_markup", {}).get("inline_keyboard", [])
        if not forge and not any(b.get("callback_data") == data for row in rows for b in row):
            raise SandboxError(f"message {message_id} has no button with callback_data {data!r}")
        query_id = f"{self.bot.id}{next(self._callback_ids):012d}"
        query = {"id": query_id, "from": u.to_api(),
                 "message": msg, "chat_instance": str(abs(c.id) * 7 + 3), "data": data}
        self.callbacks[query_id] = {"query": query, "at": self.now(), "answered": None}
        self.updates.push("callback_query", query)
        return query

    def _bot_sees(self, chat: Chat, msg: dict) -> bool:
        """Privacy mode: in groups a bot gets commands, replies to it and mentions only."""
        if chat.type == "private" or not self.privacy_mode:
            return True
        if msg.get("reply_to_message", {}).get("from", {}).get("id") == self.bot.id:
            return True
        text = msg.get("text", "")
        if self.bot.username and f"@{self.bot.username}".lower() in text.lower():
            return True
        return any(e["type"] == "bot_command" and e["offset"] == 0
                   for e in msg.get("entities", []))

    # --- files ---------------------------------------------------------------------------
    def store_file(self, kind: str, info: dict) -> dict:
        n = next(self._file_ids)
        file_id = f"{kind[:2].upper()}ACAgIAAxkBAAI{n:06d}sandbox"
        entry = {"file_id": file_id, "file_unique_id": f"AQAD{n:06d}", "kind": kind, **info}
        self.files[file_id] = entry
        return entry

    def member_status(self, chat: Chat, user_id: int) -> str:
        if chat.type == "private":
            return "member" if user_id in (chat.id, self.bot.id) else "left"
        return chat.members.get(user_id, "left")


def _without_reply(msg: dict) -> dict:
    return {k: v for k, v in msg.items() if k != "reply_to_message"}
