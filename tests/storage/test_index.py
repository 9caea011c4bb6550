"""storage.index: the index kept in step with articles by its triggers, rebuilt on a scheme change, and
the same text whether made by ingest workers or by the SQL functions."""
from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from bot.feeds.ingest import ingest_paths
from storage.articles import store_article
from storage.db import open_db
from storage.index import INDEX_VERSION, ensure_index, rebuild_index
from storage.search import matching_ids
from tests.storage.corpus import NOW, article, copy_db, fts_integrity, store
from tests.support.paths import SYNTH


async def test_update_and_delete_keep_the_index_in_step(db) -> None:
    [aid] = await store(db, article("u", "海关通报", "第一版内容提到芯片"))
    assert await matching_ids(db, "芯片", now=NOW) == [aid]
    changed = article("u", "海关通报", "第二版内容改说疫情")                     # same uid, new content
    async with db.transaction() as conn:
        stored = await store_article(conn, changed, [], 0)
    assert stored.outcome.value == "updated"
    assert await matching_ids(db, "芯片", now=NOW) == []
    assert await matching_ids(db, "疫情", now=NOW) == [aid]
    assert await matching_ids(db, "海关", now=NOW) == [aid]
    await db.write("UPDATE articles SET title = ? WHERE id = ?", ("新标题", aid))
    assert await matching_ids(db, "海关", now=NOW) == []
    assert await matching_ids(db, "新标题", now=NOW) == [aid]
    await fts_integrity(db)
    await db.write("DELETE FROM articles WHERE id = ?", (aid,))
    for q in ("疫情", "新标题", "第二版"):
        assert await matching_ids(db, q, now=NOW) == []
    row = await db.fetchone("SELECT count(*) FROM articles_fts WHERE articles_fts MATCH '\"疫情\"'")
    assert row[0] == 0
    row = await db.fetchone("SELECT count(*) FROM articles_chars WHERE articles_chars MATCH '\"疫\"'")
    assert row[0] == 0
    await fts_integrity(db)


async def test_reingest_after_delete_and_rebuild(corpus_db: Path, tmp_path: Path, folded_corpus) -> None:
    path = copy_db(corpus_db, tmp_path / "copy.sqlite3")
    async with open_db(path) as db:
        before = await matching_ids(db, "中国", now=NOW)
        victims = before[:50]
        await db.write(f"DELETE FROM articles WHERE id IN ({','.join(map(str, victims))})")
        after = await matching_ids(db, "中国", now=NOW)
        assert after == before[50:]
        await db.write("UPDATE meta SET value = 'stale' WHERE key = 'search_index_version'")
    async with open_db(path) as db:  # a tokenizer change: the index is rebuilt on connect
        row = await db.fetchone("SELECT value FROM meta WHERE key = 'search_index_version'")
        assert row[0] == INDEX_VERSION
        assert await matching_ids(db, "中国", now=NOW) == before[50:]
        assert await rebuild_index(db) == len(folded_corpus) - 50
        assert await ensure_index(db.conn) is False
        assert await matching_ids(db, "中国", now=NOW) == before[50:]
        await fts_integrity(db)


async def test_index_text_made_in_worker_processes_is_the_triggers_own(tmp_path: Path) -> None:
    """Ingest with worker processes hands the index text over ready-made (bot.core.query.IndexTerms): it must
    be exactly what the update/delete triggers and a rebuild compute, or contentless deletes would leave
    stale entries behind."""
    await asyncio.to_thread(subprocess.run, [sys.executable, str(SYNTH), "--out", str(tmp_path / "posts"), "--count",
                                             "150", "--seed", "5"], check=True, capture_output=True)
    queries = ["中国", "公司", "市场", "the", "国", "中国 -公司"]
    async with open_db(tmp_path / "w.sqlite3") as db:
        report = await ingest_paths(db, [tmp_path / "posts"], workers=2)
        assert report.new > 100
        found = {q: await matching_ids(db, q, now=NOW) for q in queries}
        assert all(found[q] for q in queries[:4])
        victims = found["中国"][:10]
        await db.write(f"DELETE FROM articles WHERE id IN ({','.join(map(str, victims))})")  # recomputes tokens
        await fts_integrity(db)
        await rebuild_index(db)  # every entry recomputed by the SQL functions
        for q in queries:
            assert await matching_ids(db, q, now=NOW) == [i for i in found[q] if i not in victims], q
        await fts_integrity(db)
