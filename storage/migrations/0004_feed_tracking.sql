-- Feed polling state: what each folder-feed file looked like when last read, and failure notices.

-- One row per post file of a folder feed, as it was when last read (or rejected for its content).
-- An unchanged folder is re-scanned with stat() alone: only files whose size or mtime differ are read.
CREATE TABLE feed_files (
    feed_id   INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,
    path      TEXT NOT NULL,                  -- relative to the feed folder, '/'-separated
    size      INTEGER NOT NULL,
    mtime_ns  INTEGER NOT NULL,
    PRIMARY KEY (feed_id, path)
) WITHOUT ROWID;

-- 1 once the admins were told the feed is failing; cleared, with a "recovered" notice, on success.
ALTER TABLE feeds ADD COLUMN failure_notified INTEGER NOT NULL DEFAULT 0;
ALTER TABLE feeds ADD COLUMN last_poll_at INTEGER;
