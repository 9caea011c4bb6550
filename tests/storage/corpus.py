"""Articles for the search and index tests: hand-made ones stored through the real ingest path, and
helpers over the synth corpus that tests/storage/conftest.py ingests once per session."""
from __future__ import annotations

import hashlib
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

from bot.core.model import Article
from bot.feeds.ingest import store_batch
from storage.db import Database

NOW = datetime(2024, 1, 1, tzinfo=timezone.utc)  # synth dates fall in 2021–2023


def no_summary(_article: Article) -> tuple[list[str], int]:
    return [], 0


def copy_db(src: Path, dst: Path) -> Path:
    with sqlite3.connect(src) as a, sqlite3.connect(dst) as b:
        a.backup(b)
    return dst


def article(uid: str, title: str, body: str, *, days_ago: float = 1, cats=("金融", "新浪财经", "快讯"),
            author: str = "新浪财经") -> Article:
    published = NOW - timedelta(days=days_ago)
    paragraphs = tuple(body.split("\n"))
    return Article(
        uid=uid, feed_id=None, source=f"/posts/{uid}.md", title=title, categories=tuple(cats), author=author,
        published=published, image_url=None, paragraphs=paragraphs, language="zh",
        content_hash=hashlib.sha1((title + body).encode()).hexdigest(), story_key="s:" + uid, ingested=published,
    )


async def store(db: Database, *arts: Article) -> list[int]:
    report = await store_batch(db, list(arts), summariser=no_summary)
    return report.new_ids




async def fts_integrity(db: Database) -> None:
    for table in ("articles_fts", "articles_chars"):
        await db.write(f"INSERT INTO {table} ({table}, rank) VALUES ('integrity-check', 0)")
