"""What stays of a purged article: 64-bit fingerprints of its story key, uid, content hash and opening text.

The outbox's UNIQUE (chat, story) is the exactly-once ledger, and its rows go with their article. A story
whose article was purged (by retention or `feeds remove --purge`) leaves fingerprints here, so when it
arrives again — the same item re-served, or another article of the same story — it is not queued again.
"""
from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable, Sequence

# Kinds of fingerprint: a story key, an article uid, a content hash, a text key (bot/core/dedupe.py).
STORY, UID, CONTENT, TEXT = "s", "u", "c", "x"


def fingerprint(kind: str, value: str) -> int:
    """A signed 64-bit integer (SQLite's INTEGER PRIMARY KEY) for one key of a purged article."""
    digest = hashlib.blake2b(f"{kind}\x00{value}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def article_fingerprints(uid: str, content_hash: str, text_key: str | None) -> list[int]:
    """The keys that recognise a purged article if it is served again (its story key is kept apart)."""
    keys = [fingerprint(UID, uid), fingerprint(CONTENT, content_hash)]
    if text_key:
        keys.append(fingerprint(TEXT, text_key))
    return keys


def bury(conn: sqlite3.Connection, rows: Iterable[Sequence[object]]) -> int:
    """Leave fingerprints for articles about to be deleted: rows of (story_key, uid, content_hash,
    text_key, expires). Inside the caller's transaction; a fingerprint already there keeps the later expiry."""
    keys: list[tuple[int, int]] = []
    for story_key, uid, content_hash, text_key, expires in rows:
        until = int(str(expires))
        keys.append((fingerprint(STORY, str(story_key)), until))
        keys += [(k, until) for k in article_fingerprints(str(uid), str(content_hash),
                                                          str(text_key) if text_key else None)]
    conn.executemany(
        "INSERT INTO story_tombstones (key, expires) VALUES (?, ?) "
        "ON CONFLICT(key) DO UPDATE SET expires = MAX(expires, excluded.expires)", keys)
    return len(keys)


# How long a purged story is remembered, from the later of its publication and ingest: feeds re-serve
# recent items, rarely ones years old. About 30 bytes a fingerprint, 3–4 an article (README: Operating).
KEEP_SECONDS = 3 * 365 * 86400
TOMBSTONE_COLUMNS = f"story_key, uid, content_hash, text_key, MAX(published, ingested) + {KEEP_SECONDS:d}"


def bury_articles(conn: sqlite3.Connection, where: str, params: Sequence[object]) -> int:
    """`bury` for the articles selected by `where` (an SQL condition on `articles`)."""
    rows = conn.execute(f"SELECT {TOMBSTONE_COLUMNS} FROM articles WHERE {where}", params).fetchall()
    return bury(conn, rows)


def _has_table(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_schema WHERE name = 'story_tombstones'").fetchone() is not None


def buried(conn: sqlite3.Connection, keys: Sequence[int]) -> set[int]:
    """Which of these fingerprints belong to purged articles."""
    if not keys or not _has_table(conn):
        return set()
    marks = ",".join("?" * len(keys))
    return {r[0] for r in conn.execute(f"SELECT key FROM story_tombstones WHERE key IN ({marks})", list(keys))}


def resurfaced(conn: sqlite3.Connection, uid: str, content_hash: str, text_key: str | None, story_key: str,
               ) -> bool:
    """A new article that is a purged one served again: its story key is buried too (same expiry), so
    the matcher leaves it out. Called by storage.articles for an article with no live match."""
    keys = article_fingerprints(uid, content_hash, text_key)
    hits = buried(conn, keys)
    if not hits:
        return False
    marks = ",".join("?" * len(hits))
    row = conn.execute(f"SELECT MAX(expires) FROM story_tombstones WHERE key IN ({marks})", list(hits)).fetchone()
    conn.execute("INSERT INTO story_tombstones (key, expires) VALUES (?, ?) "
                 "ON CONFLICT(key) DO UPDATE SET expires = MAX(expires, excluded.expires)",
                 (fingerprint(STORY, story_key), int(row[0])))
    return True


def buried_stories(conn: sqlite3.Connection, story_keys: Iterable[str]) -> set[str]:
    """The story keys among these whose story was purged (the matcher does not queue them)."""
    by_key = {fingerprint(STORY, s): s for s in story_keys}
    return {by_key[k] for k in buried(conn, list(by_key))}
