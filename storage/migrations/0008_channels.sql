-- Channels the bot posts in (chats of type 'channel') and who may manage them from a private chat.

-- @username of a channel (or group), lower-cased, so `/subscribe @channel …` finds it without a Bot API call.
ALTER TABLE chats ADD COLUMN username TEXT;
CREATE INDEX chats_by_username ON chats (username) WHERE username IS NOT NULL;

-- Channels: in quiet hours, post silently (0, the default: disable_notification) or hold posts until they end (1).
ALTER TABLE chats ADD COLUMN quiet_hold INTEGER NOT NULL DEFAULT 0;

-- A planned message to be sent without a notification sound (a channel's quiet hours).
ALTER TABLE sends ADD COLUMN silent INTEGER NOT NULL DEFAULT 0;

-- Users seen as administrators of a channel who may post (the one who added the bot, those listed by
-- getChatAdministrators, and anyone getChatMember confirmed). Only a hint of whom to tell when the
-- channel stops: every command re-checks getChatMember before changing anything.
CREATE TABLE channel_admins (
    channel_id  INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE ON UPDATE CASCADE,
    user_id     INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (channel_id, user_id)
);
CREATE INDEX channel_admins_by_user ON channel_admins (user_id);
