-- Chats the bot talks to, their settings and subscriptions, and the delivery outbox.
CREATE TABLE chats (
    id              INTEGER PRIMARY KEY,               -- Telegram chat id (moves on group→supergroup migration)
    type            TEXT NOT NULL,                     -- private | group | supergroup | channel
    title           TEXT NOT NULL DEFAULT '',
    is_forum        INTEGER NOT NULL DEFAULT 0,
    language        TEXT,                              -- chosen with /settings lang; NULL: from the user's client
    client_language TEXT NOT NULL DEFAULT 'en',
    active          INTEGER NOT NULL DEFAULT 1,        -- 0: /stop, blocked or chat gone; settings kept
    inactive_reason TEXT,
    mode            TEXT NOT NULL DEFAULT 'instant' CHECK (mode IN ('instant', 'digest')),
    digest_times    TEXT NOT NULL DEFAULT '08:00',     -- comma-separated local HH:MM
    quiet_start     TEXT,                              -- local HH:MM, or NULL for no quiet hours
    quiet_end       TEXT,
    summary_length  INTEGER NOT NULL DEFAULT 2 CHECK (summary_length BETWEEN 1 AND 5),
    timezone        TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    last_digest_at  INTEGER                            -- digest mode: when the last scheduled digest went out
);
CREATE INDEX chats_by_active ON chats (active);

CREATE TABLE subscriptions (
    chat_id          INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE ON UPDATE CASCADE,
    thread_id        INTEGER NOT NULL DEFAULT 0,       -- forum topic, 0 for the main chat
    category_key     TEXT NOT NULL,                    -- folded path ending in U+001F (prefix match)
    categories       TEXT NOT NULL,                    -- JSON list, as shown to the user
    since_article_id INTEGER NOT NULL,                 -- no backfill: only articles with a larger id
    created_at       INTEGER NOT NULL,
    PRIMARY KEY (chat_id, thread_id, category_key)
);
CREATE INDEX subscriptions_by_category_key ON subscriptions (category_key);

-- One Telegram message: planned, then in flight, then sent (with its message_id) or failed.
CREATE TABLE sends (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id     INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE ON UPDATE CASCADE,
    thread_id   INTEGER NOT NULL DEFAULT 0,
    state       TEXT NOT NULL DEFAULT 'planned' CHECK (state IN ('planned', 'in_flight', 'sent', 'failed')),
    kind        TEXT NOT NULL DEFAULT 'text',          -- text | photo
    body        TEXT NOT NULL,                         -- message text (HTML) or photo caption
    photo_url   TEXT,
    created_at  INTEGER NOT NULL,
    sent_at     INTEGER,
    message_id  INTEGER,
    attempts    INTEGER NOT NULL DEFAULT 0,          -- tries whose outcome was unknown (timeouts)
    next_attempt_at INTEGER NOT NULL DEFAULT 0,      -- backoff after transient errors
    item_ids    TEXT NOT NULL DEFAULT '',            -- article ids in this message, for logs
    last_error  TEXT
);
CREATE INDEX sends_due ON sends (state, next_attempt_at, chat_id);

-- One row per (chat, story): the exactly-once ledger. A story is offered to a chat at most once.
CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id     INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE ON UPDATE CASCADE,
    thread_id   INTEGER NOT NULL DEFAULT 0,
    story_key   TEXT NOT NULL,
    article_id  INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    reason      TEXT NOT NULL,                         -- sub:<category path> | watch:<id>
    state       TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'planned', 'sent', 'dropped')),
    send_id     INTEGER REFERENCES sends(id) ON DELETE SET NULL,
    created_at  INTEGER NOT NULL,
    UNIQUE (chat_id, story_key)
);
CREATE INDEX outbox_by_state_chat ON outbox (state, chat_id);
CREATE INDEX outbox_by_send ON outbox (send_id);

-- Small named values: the matcher's article cursor, last poll and dispatch times.
CREATE TABLE meta (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
