-- Retention (storage/retention.py): what is left of a purged article, so it is never pushed twice.

-- A purged article leaves 64-bit fingerprints (storage.tombstones) of its story key, uid, content hash
-- and opening text: a story whose outbox rows went with the article is not queued again when it, or
-- an article of the same story, arrives again. About 30 bytes a fingerprint with its index, against
-- ~10 KB for the article, its summary and index entries.
CREATE TABLE story_tombstones (
    key      INTEGER PRIMARY KEY,  -- storage.tombstones.fingerprint(kind, value)
    expires  INTEGER NOT NULL      -- unix seconds; the daily retention job deletes expired rows
);
CREATE INDEX story_tombstones_by_expires ON story_tombstones (expires);

-- Finished messages by age: their text (HTML) is purged with the articles of the same age.
CREATE INDEX sends_finished_by_created_at ON sends (created_at) WHERE state IN ('sent', 'failed');
