"""Retention: purge old articles in small batches while the bot keeps answering, then return the space.

An article published before the cut-off (articles without a date carry their ingest time) goes with its
summary, its search-index entries (the delete trigger of migration 0003) and its outbox rows; it leaves
tombstones (storage/tombstones.py) so its story is never pushed twice. An article still waiting to be
delivered (an outbox row pending or planned) stays until it is sent. Finished messages (`sends`) older
than the cut-off go too, and expired tombstones.

Each batch is one short write transaction sized to take about BATCH_SECONDS (deleting an article
recomputes its index tokens, ~1 ms), with a pause after it, so a reply waits at most one batch. The
freed pages go back to the file system with `PRAGMA incremental_vacuum`, a few MB at a time
(the database has auto_vacuum=INCREMENTAL: storage.db sets it on new files and converts old ones once).
"""
from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from storage.db import Database, on_db_thread
from storage.tombstones import TOMBSTONE_COLUMNS, bury

BATCH_SECONDS = 0.015       # target length of one delete transaction
FIRST_BATCH = 10            # articles in the first batch; later batches follow the measured speed
MAX_BATCH = 1000
PAUSE_FACTOR = 1.0          # pause after a batch, relative to its length (the bot gets at least half the time)
MIN_PAUSE = 0.005
VACUUM_PAGES = 512          # pages returned per incremental_vacuum step (2 MB at 4 KB pages)

# Held back: an article some chat has not received yet.
_UNDELIVERED = ("EXISTS (SELECT 1 FROM outbox o WHERE o.article_id = articles.id "
                "AND o.state IN ('pending', 'planned'))")


@dataclass
class PurgeReport:
    """What a purge removed (or, with dry_run, would remove)."""

    cutoff: datetime
    articles: int = 0
    summaries: int = 0
    outbox_rows: int = 0
    sends: int = 0
    held_back: int = 0          # old articles kept because they are still to be delivered
    tombstones: int = 0         # fingerprints written (dry run: to be written)
    tombstones_expired: int = 0
    bytes_before: int = 0
    bytes_after: int = 0        # dry run: an estimate
    batches: int = 0
    seconds: float = 0.0
    longest_batch: float = 0.0  # seconds of the longest write transaction
    dry_run: bool = False
    incremental_vacuum: bool = True
    batch_sizes: list[int] = field(default_factory=list)

    @property
    def bytes_freed(self) -> int:
        return max(0, self.bytes_before - self.bytes_after)

    def summary_line(self) -> str:
        verb = "would purge" if self.dry_run else "purged"
        freed = "would free about" if self.dry_run else "freed"
        line = (f"{verb} {self.articles} articles published before {self.cutoff:%Y-%m-%d %H:%M} UTC "
                f"({self.summaries} summaries, {self.outbox_rows} delivery records, {self.sends} sent messages, "
                f"{self.tombstones_expired} expired tombstones); {freed} {self.bytes_freed / 1e6:.1f} MB")
        if self.held_back:
            line += f"; {self.held_back} kept until delivered"
        if not self.incremental_vacuum and not self.dry_run:
            line += " (space reused by new articles: this file predates incremental vacuum)"
        return line


def cutoff_for(now: datetime, days: int) -> datetime:
    return now - timedelta(days=days)


def _size(conn: sqlite3.Connection) -> tuple[int, int, int]:
    """(page size, pages in the file, free pages)."""
    size = int(conn.execute("PRAGMA page_size").fetchone()[0])
    pages = int(conn.execute("PRAGMA page_count").fetchone()[0])
    free = int(conn.execute("PRAGMA freelist_count").fetchone()[0])
    return size, pages, free


def _count(conn: sqlite3.Connection, sql: str, params: tuple[object, ...]) -> int:
    row = conn.execute(sql, params).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def _estimate(conn: sqlite3.Connection, cut: int, now: int, report: PurgeReport) -> None:
    """Counts for a dry run, and the space as the purged articles' share of the used pages."""
    report.articles = _count(conn, f"SELECT COUNT(*) FROM articles WHERE published < ? AND NOT {_UNDELIVERED}", (cut,))
    report.held_back = _count(conn, f"SELECT COUNT(*) FROM articles WHERE published < ? AND {_UNDELIVERED}", (cut,))
    report.summaries = _count(conn, "SELECT COUNT(*) FROM summaries s JOIN articles ON articles.id = s.article_id "
                              f"WHERE articles.published < ? AND NOT {_UNDELIVERED}", (cut,))
    report.outbox_rows = _count(conn, "SELECT COUNT(*) FROM outbox o JOIN articles ON articles.id = o.article_id "
                                f"WHERE articles.published < ? AND NOT {_UNDELIVERED}", (cut,))
    report.sends = _count(conn, "SELECT COUNT(*) FROM sends WHERE state IN ('sent', 'failed') AND created_at < ?",
                          (cut,))
    report.tombstones_expired = _count(conn, "SELECT COUNT(*) FROM story_tombstones WHERE expires < ?", (now,))
    total = _count(conn, "SELECT COUNT(*) FROM articles", ())
    page, pages, free = _size(conn)
    used = (pages - free) * page
    report.bytes_after = report.bytes_before - (used * report.articles // total if total else 0)


def _purge_batch(conn: sqlite3.Connection, cut: int, limit: int, report: PurgeReport) -> int:
    """Up to `limit` old articles (oldest first) with everything hanging off them (one transaction)."""
    ids = [r[0] for r in conn.execute(
        f"SELECT id FROM articles WHERE published < ? AND NOT {_UNDELIVERED} ORDER BY published LIMIT ?",
        (cut, limit))]
    if ids:
        marks = ",".join("?" * len(ids))
        report.tombstones += bury(conn, conn.execute(
            f"SELECT {TOMBSTONE_COLUMNS} FROM articles WHERE id IN ({marks})", ids).fetchall())
        report.summaries += _count(conn, f"SELECT COUNT(*) FROM summaries WHERE article_id IN ({marks})",
                                   tuple(ids))
        report.outbox_rows += _count(conn, f"SELECT COUNT(*) FROM outbox WHERE article_id IN ({marks})",
                                     tuple(ids))
        # Summaries and outbox rows cascade; the delete trigger removes the index entries.
        report.articles += conn.execute(f"DELETE FROM articles WHERE id IN ({marks})", ids).rowcount
    return len(ids)


def _delete_some(conn: sqlite3.Connection, sql: str, params: tuple[object, ...]) -> int:
    return int(conn.execute(sql, params).rowcount)


async def _timed(db: Database, fn: Callable[[sqlite3.Connection], int], report: PurgeReport, *,
                 transaction: bool = True) -> tuple[int, float]:
    """Run `fn` on the database thread, in one write transaction (or, for what may not run inside one,
    only under the write lock); count the batch, then pause in proportion so the bot keeps answering.
    Returns (its result, seconds it took)."""
    started = time.perf_counter()
    n = await (db.run_in_transaction(fn) if transaction else db.run_locked(fn))
    took = time.perf_counter() - started
    report.batches += 1
    report.longest_batch = max(report.longest_batch, took)
    await asyncio.sleep(max(MIN_PAUSE, took * PAUSE_FACTOR))
    return n, took


async def purge(db: Database, *, older_than: datetime, now: datetime, dry_run: bool = False,
                vacuum: bool = True) -> PurgeReport:
    """Purge what is older than `older_than` (see the module doc); `dry_run` only counts and estimates."""
    report = PurgeReport(cutoff=older_than, dry_run=dry_run)
    cut, ts = int(older_than.timestamp()), int(now.timestamp())
    started = time.perf_counter()
    page, pages, _ = await on_db_thread(db.conn, _size)
    report.bytes_before = page * pages
    if dry_run:
        await on_db_thread(db.conn, lambda c: _estimate(c, cut, ts, report))
        report.seconds = time.perf_counter() - started
        return report

    limit = FIRST_BATCH
    while True:
        n, took = await _timed(db, partial(_purge_batch, cut=cut, limit=limit, report=report), report)
        if n:
            report.batch_sizes.append(n)
        if n < limit:
            break
        # Aim the next batch at BATCH_SECONDS from this one's speed, growing at most 2x at a time.
        per_row = took / n
        limit = max(1, min(MAX_BATCH, limit * 2, int(BATCH_SECONDS / per_row) if per_row > 0 else MAX_BATCH))
    report.held_back = await on_db_thread(db.conn, lambda c: _count(
        c, f"SELECT COUNT(*) FROM articles WHERE published < ? AND {_UNDELIVERED}", (cut,)))

    for sql, params, attr in (
        ("DELETE FROM sends WHERE id IN (SELECT id FROM sends WHERE state IN ('sent', 'failed') "
         "AND created_at < ? LIMIT 500)", (cut,), "sends"),
        ("DELETE FROM story_tombstones WHERE key IN (SELECT key FROM story_tombstones WHERE expires < ? LIMIT 2000)",
         (ts,), "tombstones_expired"),
    ):
        while True:
            n, _ = await _timed(db, partial(_delete_some, sql=sql, params=params), report)
            setattr(report, attr, getattr(report, attr) + n)
            if n == 0:
                break

    if vacuum:
        report.incremental_vacuum = await return_space(db, report)
    page, pages, free = await on_db_thread(db.conn, _size)
    report.bytes_after = page * (pages - (0 if report.incremental_vacuum else free))
    report.seconds = time.perf_counter() - started
    return report


async def return_space(db: Database, report: PurgeReport | None = None) -> bool:
    """Give free pages back to the file system, VACUUM_PAGES at a time; False when the file does not
    have auto_vacuum=INCREMENTAL (then SQLite reuses the free pages for new rows instead)."""
    mode = await on_db_thread(db.conn, lambda c: int(c.execute("PRAGMA auto_vacuum").fetchone()[0]))
    if mode != 2:
        return False
    scratch = report or PurgeReport(cutoff=datetime.now())

    def step(conn: sqlite3.Connection) -> int:
        free = int(conn.execute("PRAGMA freelist_count").fetchone()[0])
        if free:
            # executescript steps the pragma to its end and finalizes it: sqlite3's execute() steps a
            # statement without result columns once (one page) and leaves it active, and reads on the
            # same connection then failed with "database disk image is malformed" (bench.retention).
            conn.executescript(f"PRAGMA incremental_vacuum({VACUUM_PAGES:d});")
        return free

    while True:
        free, _ = await _timed(db, step, scratch, transaction=False)  # a vacuum cannot run in a transaction
        if free <= VACUUM_PAGES:
            break
    # The file shrinks when the write-ahead log is copied back; PASSIVE never waits for readers.
    await db.run_locked(lambda c: c.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall())
    return True


def parse_age(text: str) -> timedelta:
    """'90d', '12w', '36h' or a plain number of days → a timedelta; ValueError otherwise."""
    text = text.strip().lower()
    units = {"d": 86400, "w": 7 * 86400, "h": 3600}
    number, unit = (text[:-1], text[-1]) if text and text[-1] in units else (text, "d")
    if not number.isdigit():
        raise ValueError(f"expected an age such as 90d, 12w or 36h, got {text!r}")
    return timedelta(seconds=int(number) * units[unit])
