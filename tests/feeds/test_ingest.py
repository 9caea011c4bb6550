"""bot/feeds/ingest.py end to end into a real SQLite file: synth corpora with defects, dedupe, idempotence."""
from __future__ import annotations

import importlib.util
import random
import sys
from collections import Counter
from pathlib import Path

import pytest

from bot.feeds.ingest import article_uid, build_article, ingest_paths
from storage.articles import count_articles, latest
from tests.support.corpora import SYNTH_ODD
from tests.support.paths import REAL, SYNTH


def synth_manifest(count: int, seed: int, oddities: float) -> list[tuple[str, str, bytes]]:
    """Replay synth.py's generator to learn which defect each file carries: (relative path, kind, bytes)."""
    spec = importlib.util.spec_from_file_location("newsbot_synth", SYNTH)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["newsbot_synth"] = mod
    spec.loader.exec_module(mod)
    rng = random.Random(seed)
    pools, cats, bodies = mod.load_pools()
    chains = {lang: mod.Markov(pool, words=(lang == "en")) for lang, pool in pools.items()}
    out, last = [], None
    for n in range(count):
        rel, data, odd = mod.render(rng, n, pools, chains, cats, bodies, oddities)
        if odd == "duplicate" and last is not None:
            data = last
        out.append((rel, odd or "clean", data))
        last = data
    return out


@pytest.fixture(scope="module")
def manifest():
    return synth_manifest(SYNTH_ODD.count, SYNTH_ODD.seed, SYNTH_ODD.oddities)


async def test_synth_with_defects_every_kind_stored_or_rejected(db, synth_odd, manifest):
    report = await ingest_paths(db, [synth_odd])
    assert report.total == SYNTH_ODD.count
    kinds = Counter(kind for _, kind, _ in manifest)
    assert len(kinds) >= 12  # every defect kind is present in this corpus
    rejected = {Path(src).relative_to(synth_odd).as_posix(): reason for src, reason in report.rejected}
    for reason in rejected.values():
        assert reason  # rejected with a reason
    by_uid = {}
    for s in await latest(db, limit=10_000):
        by_uid[s.article.uid] = s
    previous = None
    for rel, kind, data in manifest:
        uid = article_uid(None, str(synth_odd / rel))
        stored = by_uid.get(uid)
        prev_rel, previous = previous, rel
        if rel in rejected:
            assert kind in {"empty_body", "no_front", "broken_yaml"}, (rel, kind, rejected[rel])
            continue
        if kind == "duplicate":
            # the same bytes as the previous file under another name: exactly one of the two is stored
            twin = by_uid.get(article_uid(None, str(synth_odd / prev_rel)))
            assert (stored is None) != (twin is None), rel
            continue
        if stored is None:  # the twin of a later duplicate may be the one kept
            (nxt_rel, nxt_kind, _), = [m for i, m in enumerate(manifest) if i and manifest[i - 1][0] == rel]
            assert nxt_kind == "duplicate", (rel, kind)
            continue
        art = stored.article
        assert "\ufffd" not in art.title, (rel, kind)
        if kind == "gbk":
            twin = build_article(data.decode("gbk").encode("utf-8"), source="utf8-twin")
            assert (art.title, art.paragraphs) == (twin.title, twin.paragraphs)
            assert art.language in ("zh", "ja") or art.title.isascii()
        elif kind == "bom":
            twin = build_article(data[3:], source="no-bom-twin")
            assert (art.title, art.paragraphs) == (twin.title, twin.paragraphs)
        elif kind == "html_title":
            assert art.title.endswith(" <b>&</b> <script>alert(1)</script>")
        elif kind == "broken_yaml":
            assert not art.title.startswith(('"', "'")) and "yaml_salvaged" in art.flags
        elif kind == "empty_body":
            assert "no_text" in art.flags and art.paragraphs == ()
        elif kind == "script_style":
            assert "alert(" not in art.text and "color:red" not in art.text
        elif kind == "no_front":
            assert art.categories == tuple(rel.split("/")[:-1])
        if kind != "empty_body":
            assert "责任编辑" not in art.text
    n, stories = await count_articles(db)
    assert n == report.new + report.same_story
    assert report.duplicate >= kinds["duplicate"] - 5


async def test_reingest_adds_nothing_and_same_content_other_name_adds_nothing(db, tmp_path):
    first = await ingest_paths(db, [REAL])
    assert first.new >= 25 and not first.rejected
    again = await ingest_paths(db, [REAL])
    assert again.new == 0 and again.same_story == 0 and again.known == first.new + first.same_story
    copy_dir = tmp_path / "copy" / "金融" / "新浪财经" / "新浪财经－国內"
    copy_dir.mkdir(parents=True)
    src = REAL / "金融" / "新浪财经" / "新浪财经－国內" / "100万吨国家钾肥储备投放保春耕.md"
    (copy_dir / "another-name.md").write_bytes(src.read_bytes())
    third = await ingest_paths(db, [tmp_path / "copy"])
    assert third.duplicate == 1 and third.new == 0


async def test_same_story_from_two_sources_shares_story_key(db):
    await ingest_paths(db, [REAL])
    rows = [s for s in await latest(db, limit=100) if s.article.title == "007系列电影制作人表示：不想要女邦德"]
    assert {s.article.categories[1] for s in rows} == {"cnBeta", "3DMGame"}
    assert len({s.article.story_key for s in rows}) == 1
    rows = [s for s in await latest(db, limit=100) if s.article.title.startswith("100多篇论文被知网擅自收录")]
    assert len(rows) == 2 and len({s.article.story_key for s in rows}) == 1


async def test_changed_file_updates_in_place(db, tmp_path):
    post = tmp_path / "feed" / "A" / "p.md"
    post.parent.mkdir(parents=True)
    post.write_text("---\ntitle: '第一版标题内容'\n---\n<p>第一版。</p>", encoding="utf-8")
    r1 = await ingest_paths(db, [tmp_path / "feed"])
    post.write_text("---\ntitle: '第一版标题内容'\n---\n<p>第二版正文。</p>", encoding="utf-8")
    r2 = await ingest_paths(db, [tmp_path / "feed"])
    assert (r1.new, r2.updated, r2.new) == (1, 1, 0)
    (stored,) = await latest(db)
    assert stored.article.paragraphs == ("第二版正文。",) and stored.article.categories == ("A",)


async def test_one_bad_file_never_stops_the_batch(db, tmp_path):
    feed = tmp_path / "feed"
    feed.mkdir()
    (feed / "a.md").write_text("---\ntitle: '好的文章一'\n---\n<p>正文。</p>", encoding="utf-8")
    (feed / "b.md").write_bytes(b"\x00\x01\x02\x03" * 50)
    (feed / "c.md").write_bytes(b"")
    (feed / "d.md").symlink_to(feed / "missing-target.md")
    (feed / "e.md").write_text("---\ntitle: '好的文章二'\n---\n<p>正文二。</p>", encoding="utf-8")
    report = await ingest_paths(db, [feed])
    assert report.new == 2
    reasons = {Path(s).name: r for s, r in report.rejected}
    assert set(reasons) == {"b.md", "c.md", "d.md"}
    assert "binary" in reasons["b.md"] and "empty" in reasons["c.md"] and "unreadable" in reasons["d.md"]
