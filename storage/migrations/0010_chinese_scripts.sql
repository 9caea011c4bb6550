-- Chinese without borders (#17): one script for matching, each chat its own for reading.

-- Category keys folded to Simplified (bot.core.script.match_fold), so 財經 and 财经 are one category for
-- /subscribe, /latest and cat:. The search index trigger is set aside while the keys change: the
-- index is rebuilt right after the migrations (storage.index.INDEX_VERSION changed with the folding).
DROP TRIGGER articles_search_update;

UPDATE articles SET category_key = newsbot_fold_script(category_key)
WHERE category_key <> newsbot_fold_script(category_key);

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

-- A chat subscribed to both spellings keeps one subscription (the other would now be the same key).
UPDATE OR IGNORE subscriptions SET category_key = newsbot_fold_script(category_key)
WHERE category_key <> newsbot_fold_script(category_key);
DELETE FROM subscriptions WHERE category_key <> newsbot_fold_script(category_key);

-- The script a chat reads Chinese in: hans, hant, tw or hk (bot.core.script); NULL: from its
-- user's Telegram language (zh-hant, zh-tw, zh-hk are Traditional).
ALTER TABLE chats ADD COLUMN script TEXT;
