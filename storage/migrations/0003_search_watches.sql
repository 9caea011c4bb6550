-- Full-text search over articles, the pages of a search kept across restarts, and standing alerts.

-- Search index (how and why: bot/query.py). Contentless FTS5 tables store no copy of the text; the
-- triggers below feed them through Python SQL functions that storage.db.connect registers on every
-- connection (storage.search.register_functions), and a contentless 'delete' recomputes the old
-- tokens from the old row. Existing articles are indexed by storage.search.ensure_index on the first
-- connect (not here, so this script runs without the functions).
--   articles_fts: title and text as CJK bigrams and whole Latin words (phrases, bm25 ranking), and
--                 meta = category and time tokens (cat:, since:, newest-first windows).
--   articles_chars: each article's distinct CJK characters plus the same meta tokens, no positions:
--                 one-character queries.
CREATE VIRTUAL TABLE articles_fts USING fts5(
    title, body, meta, content = '', tokenize = 'unicode61 remove_diacritics 0'
);
CREATE VIRTUAL TABLE articles_chars USING fts5(
    chars, content = '', detail = none, columnsize = 0, tokenize = 'unicode61 remove_diacritics 0'
);

CREATE TRIGGER articles_search_insert AFTER INSERT ON articles BEGIN
    INSERT INTO articles_fts (rowid, title, body, meta)
    VALUES (new.id, newsbot_fts_text(new.title), newsbot_fts_text(new.body),
            newsbot_fts_meta(new.category_key, new.published));
    INSERT INTO articles_chars (rowid, chars)
    VALUES (new.id, newsbot_fts_chars(new.title, new.body) || ' ' || newsbot_fts_meta(new.category_key, new.published));
END;

CREATE TRIGGER articles_search_delete AFTER DELETE ON articles BEGIN
    INSERT INTO articles_fts (articles_fts, rowid, title, body, meta)
    VALUES ('delete', old.id, newsbot_fts_text(old.title), newsbot_fts_text(old.body),
            newsbot_fts_meta(old.category_key, old.published));
    INSERT INTO articles_chars (articles_chars, rowid, chars)
    VALUES ('delete', old.id, newsbot_fts_chars(old.title, old.body) || ' ' || newsbot_fts_meta(old.category_key, old.published));
END;

CREATE TRIGGER articles_search_update AFTER UPDATE OF title, body, category_key, published ON articles BEGIN
    INSERT INTO articles_fts (articles_fts, rowid, title, body, meta)
    VALUES ('delete', old.id, newsbot_fts_text(old.title), newsbot_fts_text(old.body),
            newsbot_fts_meta(old.category_key, old.published));
    INSERT INTO articles_chars (articles_chars, rowid, chars)
    VALUES ('delete', old.id, newsbot_fts_chars(old.title, old.body) || ' ' || newsbot_fts_meta(old.category_key, old.published));
    INSERT INTO articles_fts (rowid, title, body, meta)
    VALUES (new.id, newsbot_fts_text(new.title), newsbot_fts_text(new.body),
            newsbot_fts_meta(new.category_key, new.published));
    INSERT INTO articles_chars (rowid, chars)
    VALUES (new.id, newsbot_fts_chars(new.title, new.body) || ' ' || newsbot_fts_meta(new.category_key, new.published));
END;

-- A search's query text, so Next/Previous buttons carry only "search:<id>:<page>" and survive a
-- restart. No foreign key: searches may come from chats never registered; rows expire after 30 days.
CREATE TABLE search_sessions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id     INTEGER NOT NULL,
    query       TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    UNIQUE (chat_id, query)
);
CREATE INDEX search_sessions_by_created_at ON search_sessions (created_at);

-- Standing alerts: a search query matched against every newly ingested article.
CREATE TABLE watches (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id     INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE ON UPDATE CASCADE,
    thread_id   INTEGER NOT NULL DEFAULT 0,
    query       TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX watches_by_chat_thread_query ON watches (chat_id, thread_id, query);
