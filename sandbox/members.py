"""ChatMember objects as Telegram shows them: statuses, administrator rights per chat type.

Pure functions over a chat's member table; `World` keeps the table, `BotApi` answers with these.
"""
from __future__ import annotations

#: Statuses a member table may hold (a missing entry is "left").
STATUSES = ("creator", "administrator", "member", "left", "kicked")

#: Rights every ChatMemberAdministrator carries (Bot API 10.1), with the sandbox's defaults.
BASE_RIGHTS = {
    "can_be_edited": False, "is_anonymous": False, "can_manage_chat": True,
    "can_delete_messages": True, "can_manage_video_chats": True, "can_restrict_members": True,
    "can_promote_members": False, "can_change_info": True, "can_invite_users": True,
    "can_post_stories": True, "can_edit_stories": True, "can_delete_stories": True,
}
#: Rights that exist only in some chats: channels post and edit; groups pin; forums manage topics.
CHANNEL_RIGHTS = {"can_post_messages": True, "can_edit_messages": True}
GROUP_RIGHTS = {"can_pin_messages": True}
FORUM_RIGHTS = {"can_manage_topics": True}


def default_rights(chat_type: str, is_forum: bool = False) -> dict[str, bool]:
    """An administrator's rights in a chat of this type, before any override."""
    rights = dict(BASE_RIGHTS)
    if chat_type == "channel":
        rights.update(CHANNEL_RIGHTS)
    else:
        rights.update(GROUP_RIGHTS)
        if is_forum:
            rights.update(FORUM_RIGHTS)
    return rights


def check_rights(chat_type: str, is_forum: bool, overrides: dict) -> dict[str, bool]:
    """`overrides` validated against the rights a chat of this type has (ValueError if not)."""
    allowed = default_rights(chat_type, is_forum)
    for key, value in overrides.items():
        if key not in allowed:
            raise ValueError(f"{key!r} is not an administrator right in a {chat_type} chat; "
                             f"one of {sorted(allowed)}")
        if not isinstance(value, bool):
            raise ValueError(f"{key} must be true or false")
    return dict(overrides)


def member_object(user: dict, status: str, *, chat_type: str, is_forum: bool = False,
                  rights: dict | None = None, until_date: int = 0) -> dict:
    """The ChatMember for a user with `status` (ChatMemberOwner, ...Administrator, ...)."""
    if status == "creator":
        return {"status": "creator", "user": user, "is_anonymous": False}
    if status == "administrator":
        return {"status": "administrator", "user": user,
                **default_rights(chat_type, is_forum), **(rights or {})}
    if status == "kicked":
        return {"status": "kicked", "user": user, "until_date": until_date}
    return {"status": status, "user": user}
