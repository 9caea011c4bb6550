-- RSS/Atom items seen by the poller get their own table (they used to borrow feed_files: the item's
-- identity in `path`, its fingerprint in size/mtime_ns), and feeds remember the last time a volume cap held
-- items back, for /feeds.

-- One row per item identity (GUID, else link, else a hash) of an RSS/Atom feed, as it looked when last built.
-- An item seen again with the same fingerprint is skipped before any cleaning; `refused` marks one rejected
-- for its content (reported once, built again only when it changes).
CREATE TABLE feed_items (
    feed_id      INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,
    item_key     TEXT NOT NULL,
    fingerprint  TEXT NOT NULL,                -- "size:digest" of what the item mapping reads
    refused      INTEGER NOT NULL DEFAULT 0,
    seen_at      INTEGER NOT NULL              -- unix seconds of the poll that built (or refused) it
);
-- Every poll reads a feed's known items and upserts or deletes them by (feed, item key).
CREATE UNIQUE INDEX feed_items_by_feed_item_key ON feed_items (feed_id, item_key);

-- The rows RSS feeds kept in feed_files move over: a refused item was stored with size -(size + 1).
INSERT INTO feed_items (feed_id, item_key, fingerprint, refused, seen_at)
    SELECT ff.feed_id, ff.path,
           (CASE WHEN ff.size < 0 THEN -ff.size - 1 ELSE ff.size END) || ':' || ff.mtime_ns,
           ff.size < 0, CAST(strftime('%s', 'now') AS INTEGER)
    FROM feed_files ff JOIN feeds f ON f.id = ff.feed_id
    WHERE f.kind = 'rss';
DELETE FROM feed_files WHERE feed_id IN (SELECT id FROM feeds WHERE kind = 'rss');

-- The last successful poll whose items a cap held back: when, how many older items were not looked at
-- (NEWSBOT_MAX_ITEMS_PER_FETCH) and how many new ones wait for a later poll (NEWSBOT_MAX_NEW_PER_FEED_DAY).
ALTER TABLE feeds ADD COLUMN capped_at INTEGER;
ALTER TABLE feeds ADD COLUMN capped_skipped INTEGER NOT NULL DEFAULT 0;
ALTER TABLE feeds ADD COLUMN capped_deferred INTEGER NOT NULL DEFAULT 0;
