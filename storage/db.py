"""Open the SQLite file (WAL, foreign keys) and bring its schema up to date with numbered migrations.

Migrations are `storage/migrations/NNNN_name.sql`, applied in order, each in its own transaction;
the applied number is kept in `PRAGMA user_version`. A file from a newer newsbot is refused.
"""
from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar, cast

import aiosqlite

from storage.backup import pre_migration_backup
from storage.index import ensure_index, register_functions

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
T = TypeVar("T")


class _ThreadQueue(Protocol):
    """The part of aiosqlite.Connection's private API used here (pinned < 0.23): the sqlite3 connection
    and the ordered queue of calls to the thread that owns it."""

    _conn: sqlite3.Connection

    def _execute(self, fn: Callable[[sqlite3.Connection], T], conn: sqlite3.Connection, /) -> Awaitable[T]: ...


async def on_db_thread(conn: aiosqlite.Connection, fn: Callable[[sqlite3.Connection], T]) -> T:
    """Run `fn(sqlite3 connection)` on the connection's own thread, in order with its other calls: one
    hop for many statements instead of one hop each."""
    queue = cast(_ThreadQueue, conn)
    return await queue._execute(fn, queue._conn)


def inserted_id(lastrowid: int | None) -> int:
    """The id of the row an INSERT statement just added (sqlite3 leaves None only after other statements)."""
    if lastrowid is None:
        raise RuntimeError("not an INSERT: no row id")
    return lastrowid


class SchemaTooNew(RuntimeError):
    """The database was written by a newer newsbot than this one."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def migrations() -> list[Migration]:
    """Every migration shipped with the package, in order; numbers must be 1..N without gaps."""
    found: list[Migration] = []
    for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
        m = re.match(r"(\d{4})_(\w+)\.sql$", path.name)
        if m:
            found.append(Migration(int(m.group(1)), m.group(2), path.read_text("utf-8")))
    for expected, mig in enumerate(found, start=1):
        if mig.version != expected:
            raise RuntimeError(f"migration numbering gap: expected {expected:04d}, found {mig.version:04d}")
    return found


LATEST_VERSION = len(migrations())


async def schema_version(conn: aiosqlite.Connection) -> int:
    async with conn.execute("PRAGMA user_version") as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def migrate(conn: aiosqlite.Connection, target: int | None = None) -> int:
    """Apply pending migrations up to `target` (default: all). Returns the resulting version."""
    current = await schema_version(conn)
    known = migrations()
    if current > len(known):
        raise SchemaTooNew(
            f"database schema version {current} is newer than this newsbot knows ({len(known)}); "
            "upgrade newsbot or use another NEWSBOT_DB"
        )
    for mig in known[current : target if target is not None else None]:
        # executescript would COMMIT first; run statements one by one inside an explicit transaction.
        await conn.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have applied it while we waited for the write lock (two starts at once).
            if await schema_version(conn) >= mig.version:
                await conn.rollback()
                current = mig.version
                continue
            for statement in _statements(mig.sql):
                await conn.execute(statement)
            await conn.execute(f"PRAGMA user_version = {mig.version:d}")
            await conn.commit()
        except BaseException:
            await conn.rollback()
            raise
        current = mig.version
    return current


def _statements(sql: str) -> list[str]:
    """Split a migration script into complete statements (triggers contain inner semicolons)."""
    out: list[str] = []
    buf = ""
    for line in sql.splitlines(keepends=True):
        if not buf and line.strip().startswith("--"):
            continue
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip():
                out.append(buf.strip())
            buf = ""
    if buf.strip() and not all(line.strip().startswith("--") or not line.strip() for line in buf.splitlines()):
        raise RuntimeError(f"incomplete SQL statement in migration: {buf[:80]!r}")
    return out


def _fetch(conn: sqlite3.Connection, sql: str, params: Sequence[Any] | dict[str, Any], *,
           all_rows: bool) -> list[aiosqlite.Row]:
    cur = conn.execute(sql, params)
    try:
        return list(cur.fetchall()) if all_rows else ([row] if (row := cur.fetchone()) is not None else [])
    finally:
        cur.close()  # reset now: a statement left active blocks checkpoints and sees rows change under it


class Database:
    """One aiosqlite connection plus a lock that serialises writers.

    Several coroutines share the connection (handlers, poller, dispatcher); without the lock a write
    issued by one could land inside another's open transaction. Reads need no lock.
    """

    def __init__(self, conn: aiosqlite.Connection, path: str) -> None:
        self.conn = conn
        self.path = path
        self._write_lock = asyncio.Lock()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """BEGIN IMMEDIATE … COMMIT under the write lock, rolled back on any error."""
        async with self._write_lock:
            await self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                await self.conn.rollback()
                raise
            else:
                await self.conn.commit()

    async def run_in_transaction(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn(connection)` inside BEGIN IMMEDIATE … COMMIT entirely on the database thread.

        For bulk work (ingest batches): one hop to the thread instead of one per statement.
        """
        def work(conn: sqlite3.Connection) -> T:
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = fn(conn)
            except BaseException:
                conn.rollback()
                raise
            conn.commit()
            return result

        async with self._write_lock:
            return await on_db_thread(self.conn, work)

    async def run_locked(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn(connection)` on the database thread under the writers' lock but outside a transaction,
        for statements that make their own (`PRAGMA incremental_vacuum` through executescript)."""
        async with self._write_lock:
            return await on_db_thread(self.conn, fn)

    async def write(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> int:
        """One statement in its own transaction; returns lastrowid (or rowcount for UPDATE/DELETE)."""
        async with self.transaction() as conn:
            cur = await conn.execute(sql, params)
            return (cur.lastrowid or 0) if sql.lstrip().upper().startswith("INSERT") else cur.rowcount

    # Reads run and finish in one call on the database thread: between aiosqlite's execute() and fetchall()
    # another call on this connection could run — a retention batch deleting rows — and a statement half
    # read while its pages were freed failed with "database disk image is malformed" (bench.retention).
    async def fetchall(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[aiosqlite.Row]:
        return await on_db_thread(self.conn, lambda c: _fetch(c, sql, params, all_rows=True))

    async def fetchone(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> aiosqlite.Row | None:
        rows = await on_db_thread(self.conn, lambda c: _fetch(c, sql, params, all_rows=False))
        return rows[0] if rows else None

    async def close(self) -> None:
        async with self._write_lock:
            await self.conn.close()


CACHE_KIB = 16 * 1024          # page cache per connection (a ceiling: pages are allocated as used)
WAL_CHECKPOINT_PAGES = 4000    # checkpoint when the WAL passes ~16 MB (default ~4 MB)


RETENTION_MIGRATION = "retention"  # from this migration on, freed pages go back to the file system


async def _incremental_vacuum_on(conn: aiosqlite.Connection, before: int) -> None:
    """Right after an older database took the retention migration: switch it to incremental vacuum.

    SQLite changes auto_vacuum on a file that has tables only by rewriting it (VACUUM: minutes for a
    few GB, free disk space the size of the file, nothing else can use the database meanwhile), so it is
    done once, here, at the start that upgrades the file (after the pre-migration backup). A new file
    gets the setting before its first table, for free.
    """
    version = next((m.version for m in migrations() if m.name == RETENTION_MIGRATION), None)
    if version is None or not before < version <= await schema_version(conn):
        return
    async with conn.execute("PRAGMA auto_vacuum") as cur:
        row = await cur.fetchone()
    if row is not None and int(row[0]) != 2:
        await conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
        await conn.execute("VACUUM")


async def connect(path: Path | str, *, migrate_to: int | None = None, backup_first: bool = True) -> Database:
    """Open (creating folder and file) and migrate. The caller closes it; prefer `open_db`.

    An existing file with pending migrations is copied first (`backup_first`, storage.backup:
    `<db>.vOLD-before-vNEW-<time>.bak` beside it); a file from a newer newsbot is refused (SchemaTooNew).
    """
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = await aiosqlite.connect(str(path), isolation_level=None)
    try:
        conn.row_factory = aiosqlite.Row
        # Before the first table of a new file (a no-op on an existing one): retention returns space.
        await conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
        await conn.execute("PRAGMA journal_mode = WAL")
        await conn.execute("PRAGMA foreign_keys = ON")
        await conn.execute("PRAGMA synchronous = NORMAL")
        await conn.execute("PRAGMA busy_timeout = 10000")
        # Storing articles rewrites pages of the search index that the next ones need again: with
        # SQLite's 2 MB default cache they were read back from the file, and a checkpoint every 4 MB
        # of WAL copied the same pages over and over (at 20,000 articles: store time -15%).
        await conn.execute(f"PRAGMA cache_size = -{CACHE_KIB:d}")
        await conn.execute(f"PRAGMA wal_autocheckpoint = {WAL_CHECKPOINT_PAGES:d}")
        # Search index (migration 0003): its triggers call a Python SQL function, which must exist on
        # the connection before any migration or article write; ensure_index builds it when needed.
        await register_functions(conn)
        before = await schema_version(conn)
        target = min(migrate_to if migrate_to is not None else LATEST_VERSION, LATEST_VERSION)
        if backup_first and 0 < before < target and str(path) != ":memory:":
            await asyncio.to_thread(pre_migration_backup, path, before, target)
        await migrate(conn, migrate_to)
        await _incremental_vacuum_on(conn, before)
        await ensure_index(conn)
    except BaseException:
        await conn.close()
        raise
    return Database(conn, str(path))


@asynccontextmanager
async def open_db(path: Path | str, *, migrate_to: int | None = None,
                  backup_first: bool = True) -> AsyncIterator[Database]:
    db = await connect(path, migrate_to=migrate_to, backup_first=backup_first)
    try:
        yield db
    finally:
        await db.close()
