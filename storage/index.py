"""The full-text index's upkeep: what goes into it for an article, the SQL functions its triggers call,
and (re)building it when it is new or its token scheme changed. Searching it is storage.search.

The index (migration 0003; token scheme in bot/core/query.py): a new article is added by `index_article`
(storage.articles stores and indexes in one step); updates and deletes are kept in step by triggers
calling Python SQL functions, which `register_functions` adds to a connection (storage.db.connect does,
before migrating); `ensure_index` (re)builds the index when it is new or the scheme changed.
"""
from __future__ import annotations

import sqlite3
import unicodedata
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from contextvars import ContextVar
from typing import Protocol

import aiosqlite

from bot.core.query import IndexTerms, fts_chars, fts_text, index_terms, meta_tokens
from bot.core.script import FOLD_VERSION, fold_script
from storage.meta import write_meta

# Bump when bot.core.query's fts_* output changes. 3: Traditional Chinese folded to Simplified (#17).
INDEX_VERSION = f"3/unicode-{unicodedata.unidata_version}/{FOLD_VERSION}"
_META_KEY = "search_index_version"
REBUILD_BATCH = 1000

# Who is told how a rebuild goes: `(done, total)` after every batch of articles. The CLI sets a progress
# bar here once (bot.cli.main), so whichever command opens an old database shows the rebuild it triggers.
RebuildProgress = Callable[[int, int], None]
rebuild_progress: ContextVar[RebuildProgress | None] = ContextVar("rebuild_progress", default=None)


def index_article(conn: sqlite3.Connection, article_id: int, title: str, body: str, category_key: str,
                  published: int, terms: IndexTerms | None = None) -> None:
    """Add a newly stored article to both index tables (inside the caller's transaction). `terms` is
    its index text when already made (by an ingest worker); otherwise it is made here.

    Updates and deletes are kept in step by the triggers of migration 0003, which recompute the same
    text with the SQL functions below: contentless tables delete by exact tokens, so both must agree.
    """
    terms = terms or index_terms(title, body)
    meta = meta_tokens(category_key, published)
    conn.execute("INSERT INTO articles_fts (rowid, title, body, meta) VALUES (?, ?, ?, ?)",
                 (article_id, terms.title, terms.body, meta))
    conn.execute("INSERT INTO articles_chars (rowid, chars) VALUES (?, ?)", (article_id, f"{terms.chars} {meta}"))


# SQLite hands the triggers' functions whatever the column holds (NULL included): anything else reads as empty.
def _sql_fts_text(text: object) -> str:
    return fts_text(text) if isinstance(text, str) else ""


def _sql_fts_chars(title: object, body: object) -> str:
    return fts_chars(title if isinstance(title, str) else "", body if isinstance(body, str) else "")


def _sql_fts_meta(key: object, published: object) -> str:
    return meta_tokens(key if isinstance(key, str) else "", published if isinstance(published, int) else 0)


def _sql_fold_script(text: object) -> str:
    """An already folded category key in one Chinese script (migration 0010)."""
    return fold_script(text) if isinstance(text, str) else ""


_FUNCTIONS: tuple[tuple[str, int, Callable[..., str]], ...] = (
    ("newsbot_fts_text", 1, _sql_fts_text),
    ("newsbot_fts_chars", 2, _sql_fts_chars),
    ("newsbot_fts_meta", 2, _sql_fts_meta),
    ("newsbot_fold_script", 1, _sql_fold_script),
)


async def register_functions(conn: aiosqlite.Connection) -> None:
    """Add the SQL functions the search triggers call. Every connection that writes articles needs them."""
    for name, nargs, fn in _FUNCTIONS:
        await conn.create_function(name, nargs, fn, deterministic=True)


def register_functions_sync(conn: sqlite3.Connection) -> None:
    """The same for a plain sqlite3 connection (scripts, benchmarks)."""
    for name, nargs, fn in _FUNCTIONS:
        conn.create_function(name, nargs, fn, deterministic=True)


async def _has_index(conn: aiosqlite.Connection) -> bool:
    async with conn.execute("SELECT 1 FROM sqlite_schema WHERE name = 'articles_fts'") as cur:
        return await cur.fetchone() is not None


async def ensure_index(conn: aiosqlite.Connection) -> bool:
    """Build the index if it was never built or was built by another INDEX_VERSION. True if rebuilt.

    Called by storage.db.connect after migrating; one SELECT on every later start. The rebuild is one
    transaction: stopped half-way, the old index and its version stay, and the next start rebuilds.
    """
    if not await _has_index(conn):
        return False
    async with conn.execute("SELECT value FROM meta WHERE key = ?", (_META_KEY,)) as cur:
        row = await cur.fetchone()
    if row is not None and row[0] == INDEX_VERSION:
        return False
    await conn.execute("BEGIN IMMEDIATE")
    try:
        await _rebuild(conn)
        await conn.commit()
    except BaseException:
        await conn.rollback()
        raise
    return True


class Transactional(Protocol):
    """What `rebuild_index` needs of a storage.db.Database (named here: storage.db imports this module)."""

    def transaction(self) -> AbstractAsyncContextManager[aiosqlite.Connection]: ...


async def rebuild_index(db: Transactional, progress: RebuildProgress | None = None) -> int:
    """Drop and rebuild every index entry from the articles table; returns the number of articles."""
    async with db.transaction() as conn:
        return await _rebuild(conn, progress)


async def _rebuild(conn: aiosqlite.Connection, progress: RebuildProgress | None = None) -> int:
    progress = progress or rebuild_progress.get()
    async with conn.execute("SELECT count(*), coalesce(max(id), 0) FROM articles") as cur:
        row = await cur.fetchone()
    total, last_id = (int(row[0]), int(row[1])) if row is not None else (0, 0)
    # A contentless table's rows can only be deleted with their exact tokens; delete-all needs none.
    await conn.execute("INSERT INTO articles_fts (articles_fts) VALUES ('delete-all')")
    await conn.execute("INSERT INTO articles_chars (articles_chars) VALUES ('delete-all')")
    done = 0
    if progress is not None:
        progress(0, total)
    # In id ranges, so a large database shows its progress; the same transaction throughout.
    start = 0
    while start < last_id:
        end = start + REBUILD_BATCH
        cur = await conn.execute(
            "INSERT INTO articles_fts (rowid, title, body, meta) SELECT id, newsbot_fts_text(title), "
            "newsbot_fts_text(body), newsbot_fts_meta(category_key, published) FROM articles "
            "WHERE id > ? AND id <= ?", (start, end),
        )
        await conn.execute(
            "INSERT INTO articles_chars (rowid, chars) SELECT id, newsbot_fts_chars(title, body) || ' ' || "
            "newsbot_fts_meta(category_key, published) FROM articles WHERE id > ? AND id <= ?", (start, end),
        )
        done += max(cur.rowcount, 0)
        start = end
        if progress is not None and cur.rowcount:
            progress(done, total)
    await write_meta(conn, _META_KEY, INDEX_VERSION)
    return done
