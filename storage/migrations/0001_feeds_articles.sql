-- Feeds (folders or RSS/Atom URLs) and the articles ingested from them.
CREATE TABLE feeds (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    name           TEXT NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN ('folder', 'rss')),
    location       TEXT NOT NULL UNIQUE,
    category       TEXT,                      -- JSON list: category path override, or NULL
    paused         INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL,
    last_success   INTEGER,
    last_error     TEXT,
    failures       INTEGER NOT NULL DEFAULT 0,
    next_poll_at   INTEGER,
    etag           TEXT,
    last_modified  TEXT
);

CREATE TABLE articles (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,  -- ingest order: delivery cursors compare ids
    uid           TEXT NOT NULL UNIQUE,               -- stable: derived from feed and source
    feed_id       INTEGER REFERENCES feeds(id) ON DELETE SET NULL,
    source        TEXT NOT NULL,
    url           TEXT,
    title         TEXT NOT NULL,
    categories    TEXT NOT NULL,                      -- JSON list, top level first
    category_key  TEXT NOT NULL,                      -- folded names joined and ended by U+001F
    author        TEXT NOT NULL DEFAULT '',
    published     INTEGER NOT NULL,                   -- unix seconds, UTC
    ingested      INTEGER NOT NULL,
    image_url     TEXT,
    body          TEXT NOT NULL,                      -- cleaned paragraphs joined by newline
    language      TEXT NOT NULL,
    content_hash  TEXT NOT NULL,
    story_key     TEXT NOT NULL,
    title_key     TEXT,
    text_key      TEXT,
    flags         TEXT NOT NULL DEFAULT ''
);
CREATE INDEX articles_by_content_hash ON articles (content_hash);
CREATE INDEX articles_by_story_key ON articles (story_key);
CREATE INDEX articles_by_title_key_published ON articles (title_key, published) WHERE title_key IS NOT NULL;
CREATE INDEX articles_by_text_key ON articles (text_key) WHERE text_key IS NOT NULL;
CREATE INDEX articles_by_published ON articles (published);
CREATE INDEX articles_by_category_key_published ON articles (category_key, published);
CREATE INDEX articles_by_feed ON articles (feed_id);

-- Extractive summaries, recomputed when the summariser version changes.
CREATE TABLE summaries (
    article_id  INTEGER PRIMARY KEY REFERENCES articles(id) ON DELETE CASCADE,
    version     INTEGER NOT NULL,
    sentences   TEXT NOT NULL                         -- JSON list of sentences, in article order
);
