"""Folder feeds, feed management, backoff and admin notices, stats and the `feeds` CLI (bot/feeds/{folder,manage,poller}.py,
storage/feeds.py, storage/stats.py, bot/cli/feeds.py). Real SQLite files in tmp_path; time is injected."""
from __future__ import annotations

import argparse
import os
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.feeds import folder as folder_mod
from bot.feeds.folder import scan_folder
from bot.feeds.manage import (
    AddResult,
    FeedError,
    RemoveResult,
    add_feed,
    classify_location,
    get_feed,
    list_feeds,
    pause_feed,
    register_feeds,
    remove_feed,
    resume_feed,
)
from bot.feeds.poller import (
    BACKOFF_CAP_SECONDS,
    backoff_delay,
    poll_due_feeds,
    poll_feed,
)
from storage.articles import get_article
from storage.db import open_db

T0 = datetime(2024, 5, 20, 12, 0, tzinfo=timezone.utc)
INTERVAL = 300


def post(title: str, categories: list[str] | None = None, body: str | None = None,
         date: str = "2024-05-19 10:00:00") -> str:
    cats = "".join(f"\n - {c}" for c in categories or [])
    head = f"---\ntitle: '{title}'\n" + (f"categories:{cats}\n" if categories else "") + f"date: {date}\n---\n"
    return head + (body or f"<p>{title} is the subject of this paragraph, which has enough words to summarise.</p>")


def write(path: Path, text: str, mtime: float | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


@pytest.fixture
async def db(tmp_path):
    async with open_db(tmp_path / "feeds.sqlite3") as database:
        yield database


@pytest.fixture
def posts(tmp_path) -> Path:
    root = tmp_path / "posts"
    write(root / "金融" / "新浪财经" / "央行降准.md", post(
        "央行宣布降准0.5个百分点", ["金融", "新浪财经"],
        "<p>中国人民银行今日宣布下调存款准备金率0.5个百分点，释放长期资金约一万亿元。</p>"))
    write(root / "科技" / "苹果" / "new-iphone.md", post("Apple announces a new iPhone"))
    write(root / "top.md", post("A post at the top of the feed folder"))
    write(root / ".hidden" / "skip.md", post("Hidden folders are skipped"))
    write(root / "notes.json", "{}")
    return root


async def add_folder(db, root: Path, category: tuple[str, ...] = ()):
    got = await add_feed(db, str(root), category, now=T0)
    assert isinstance(got, AddResult), got
    return got.feed


async def poll(db, feed_id: int, now: datetime = T0, **kw):
    feed = await get_feed(db, feed_id)
    return await poll_feed(db, feed, now=now, interval=INTERVAL, **kw)


async def articles_of(db, feed_id: int) -> list[dict]:
    rows = await db.fetchall(
        "SELECT id, title, categories, source, feed_id FROM articles WHERE feed_id = ? ORDER BY id", (feed_id,))
    return [dict(r) for r in rows]


# ---------------------------------------------------------------- folder feeds
async def test_new_files_are_ingested_with_feed_id_and_folder_categories(db, posts):
    feed = await add_folder(db, posts)
    r = await poll(db, feed.id)
    assert r.error is None and r.notice is None
    assert (r.new, r.files_seen, r.files_read) == (3, 3, 3)
    assert len(r.new_article_ids) == 3
    rows = {a["title"]: a for a in await articles_of(db, feed.id)}
    assert set(rows) == {
        "央行宣布降准0.5个百分点", "Apple announces a new iPhone", "A post at the top of the feed folder"}
    # categories from the post when it names them, else the folder path below the feed root
    assert rows["央行宣布降准0.5个百分点"]["categories"] == '["金融", "新浪财经"]'
    assert rows["Apple announces a new iPhone"]["categories"] == '["科技", "苹果"]'
    assert rows["A post at the top of the feed folder"]["categories"] == '["未分类"]'
    stored = await get_article(db, r.new_article_ids[0])
    assert stored.article.feed_id == feed.id and stored.summary
    info = await get_feed(db, feed.id)
    assert info.articles == 3 and info.status == "ok" and info.last_success == T0
    assert info.next_poll_at == T0 + timedelta(seconds=INTERVAL)


async def test_category_override_applies_to_every_post(db, posts):
    feed = await add_folder(db, posts, ("博客", "精选"))
    await poll(db, feed.id)
    assert {a["categories"] for a in await articles_of(db, feed.id)} == {'["博客", "精选"]'}


async def test_unchanged_rescan_reads_no_files(db, posts):
    feed = await add_folder(db, posts)
    await poll(db, feed.id)
    again = await poll(db, feed.id, T0 + timedelta(minutes=5))
    assert (again.files_seen, again.files_read, again.new, again.updated, again.known) == (3, 0, 0, 0, 0)


async def test_unchanged_rescan_does_not_open_files(db, posts, monkeypatch):
    feed = await add_folder(db, posts)
    await poll(db, feed.id)
    opened: list[Path] = []
    real = folder_mod.read_post_bytes
    monkeypatch.setattr(folder_mod, "read_post_bytes", lambda p, root=None: opened.append(p) or real(p, root))
    await poll(db, feed.id, T0 + timedelta(minutes=5))
    assert opened == []


async def test_changed_file_is_read_again_and_updates_its_article(db, posts):
    feed = await add_folder(db, posts)
    first = await poll(db, feed.id)
    target = posts / "科技" / "苹果" / "new-iphone.md"
    fixed = post("Apple announces a new iPhone", body="<p>Corrected: the phone ships in September, not October.</p>")
    write(target, fixed, mtime=target.stat().st_mtime + 10)
    r = await poll(db, feed.id, T0 + timedelta(minutes=5))
    assert (r.files_read, r.updated, r.new) == (1, 1, 0)
    assert r.new_article_ids == []  # an update is not news
    assert len(await articles_of(db, feed.id)) == len(first.new_article_ids)


async def test_touched_but_identical_file_is_known(db, posts):
    feed = await add_folder(db, posts)
    await poll(db, feed.id)
    target = posts / "top.md"
    os.utime(target, (target.stat().st_mtime + 60,) * 2)
    r = await poll(db, feed.id, T0 + timedelta(minutes=5))
    assert (r.files_read, r.known, r.new, r.updated) == (1, 1, 0, 0)


async def test_new_file_added_later_is_the_only_one_read(db, posts):
    feed = await add_folder(db, posts)
    await poll(db, feed.id)
    write(posts / "科技" / "苹果" / "watch.md", post("Apple Watch gets a blood pressure sensor"))
    r = await poll(db, feed.id, T0 + timedelta(minutes=5))
    assert (r.files_seen, r.files_read, r.new) == (4, 1, 1)


async def test_deleted_file_leaves_its_article(db, posts):
    feed = await add_folder(db, posts)
    await poll(db, feed.id)
    (posts / "top.md").unlink()
    r = await poll(db, feed.id, T0 + timedelta(minutes=5))
    assert (r.files_deleted, r.files_read, r.error) == (1, 0, None)
    assert len(await articles_of(db, feed.id)) == 3
    # recreated unchanged: read again, recognised as already known
    write(posts / "top.md", post("A post at the top of the feed folder"))
    r = await poll(db, feed.id, T0 + timedelta(minutes=10))
    assert (r.files_read, r.known, r.new) == (1, 1, 0)


async def test_rejected_file_is_reported_once_and_not_reread(db, posts):
    feed = await add_folder(db, posts)
    write(posts / "empty.md", "   \n")
    r = await poll(db, feed.id)
    assert r.rejected == [(str(posts / "empty.md"), "empty file")]
    again = await poll(db, feed.id, T0 + timedelta(minutes=5))
    assert (again.files_read, again.rejected) == (0, [])


async def test_vanished_folder_marks_feed_failing_and_keeps_articles(db, posts):
    feed = await add_folder(db, posts)
    await poll(db, feed.id)
    shutil.rmtree(posts)
    r = await poll(db, feed.id, T0 + timedelta(minutes=5))
    assert r.error is not None and r.error.reason == "not_found"
    info = await get_feed(db, feed.id)
    assert info.status == "failing" and info.failures == 1 and "not_found" in info.last_error
    assert info.articles == 3
    # the file index survives a vanished folder: when it comes back unchanged nothing is re-read as new
    assert (await db.fetchone("SELECT COUNT(*) FROM feed_files WHERE feed_id = ?", (feed.id,)))[0] == 3


async def test_folder_replaced_by_a_file_is_not_a_folder(db, posts):
    feed = await add_folder(db, posts)
    shutil.rmtree(posts)
    posts.write_text("not a folder")
    r = await poll(db, feed.id)
    assert r.error.reason == "not_a_folder"


async def test_folder_behind_broken_symlink_is_not_found(db, tmp_path, posts):
    link = tmp_path / "link"
    link.symlink_to(posts)
    got = await add_feed(db, str(link), validate=False, now=T0)
    # stored resolved: add_feed reports the real folder
    assert got.feed.location == str(posts.resolve())
    feed = (await add_feed(db, str(tmp_path / "gone-link"), validate=False, now=T0)).feed
    (tmp_path / "gone-link").symlink_to(tmp_path / "nowhere")
    r = await poll(db, feed.id)
    assert r.error.reason == "not_found" and "broken symbolic link" in r.error.detail


async def test_unreadable_folder_marks_feed_failing(db, posts, monkeypatch):
    feed = await add_folder(db, posts)
    if os.geteuid() != 0:
        posts.chmod(0)
        try:
            r = await poll(db, feed.id)
        finally:
            posts.chmod(0o755)
    else:
        # root reads through chmod 000: make listing the folder fail the way a permission error does
        real = os.scandir

        def denied(path="."):
            if Path(path) == posts:
                raise PermissionError(13, "Permission denied", str(path))
            return real(path)

        monkeypatch.setattr(folder_mod.os, "scandir", denied)
        r = await poll(db, feed.id)
    assert r.error is not None and r.error.reason == "unreadable"
    assert (await get_feed(db, feed.id)).status == "failing"


async def test_unreadable_subfolder_is_reported_and_its_files_not_forgotten(db, posts, monkeypatch):
    feed = await add_folder(db, posts)
    await poll(db, feed.id)
    blocked = posts / "科技"
    real = os.scandir

    def denied(path="."):
        if Path(path) == blocked:
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(folder_mod.os, "scandir", denied)
    r = await poll(db, feed.id, T0 + timedelta(minutes=5))
    assert r.error is None and r.files_deleted == 0
    assert (str(blocked), "unreadable folder") in r.rejected
    monkeypatch.setattr(folder_mod.os, "scandir", real)
    r = await poll(db, feed.id, T0 + timedelta(minutes=10))
    assert r.files_read == 0  # still indexed: nothing re-read once the folder is readable again


def test_scan_folder_skips_hidden_and_non_post_files(posts):
    scan = scan_folder(posts)
    assert sorted(scan.files) == ["top.md", "科技/苹果/new-iphone.md", "金融/新浪财经/央行降准.md"]


async def test_one_broken_feed_does_not_stop_the_round(db, tmp_path, posts):
    good = await add_folder(db, posts)
    other = tmp_path / "other"
    write(other / "x.md", post("A post in the other folder"))
    bad = await add_folder(db, other)
    shutil.rmtree(other)
    done = await poll_due_feeds(db, now=T0, interval=INTERVAL)
    by_id = {r.feed_id: r for r in done.results}
    assert by_id[good.id].new == 3 and by_id[good.id].error is None
    assert by_id[bad.id].error.reason == "not_found"
    assert sorted(done.new_article_ids) == sorted(by_id[good.id].new_article_ids)
    row = await db.fetchone("SELECT value FROM meta WHERE key = 'last_poll_at'")
    assert row["value"] == str(int(T0.timestamp()))


async def test_internal_error_in_one_feed_is_a_value(db, posts, monkeypatch):
    feed = await add_folder(db, posts)

    def boom(*a, **k):
        raise ZeroDivisionError("bug")

    monkeypatch.setattr(folder_mod, "scan_folder", boom)
    r = await poll(db, feed.id)
    assert r.error.reason == "internal" and (await get_feed(db, feed.id)).failures == 1


# ---------------------------------------------------------------- backoff and notices
def test_backoff_doubles_from_the_interval_and_caps_at_six_hours():
    assert [backoff_delay(300, n) for n in range(1, 9)] == [300, 600, 1200, 2400, 4800, 9600, 19200, 21600]
    assert backoff_delay(300, 500) == BACKOFF_CAP_SECONDS == 6 * 3600
    assert backoff_delay(300, 0) == 300


async def test_failing_feed_backs_off_notifies_once_and_on_recovery(db, tmp_path):
    root = tmp_path / "flaky"
    write(root / "a.md", post("The only post of the flaky feed"))
    feed = await add_folder(db, root)
    moved = tmp_path / "flaky-away"
    root.rename(moved)

    now = T0
    notices = []
    for n in range(1, 9):
        done = await poll_due_feeds(db, now=now, interval=INTERVAL)
        assert [r.feed_id for r in done.results] == [feed.id]
        r = done.results[0]
        assert r.failures == n and r.error.reason == "not_found"
        info = await get_feed(db, feed.id)
        assert info.next_poll_at == now + timedelta(seconds=backoff_delay(INTERVAL, n))
        # not due a second before the backoff ends
        early = await poll_due_feeds(db, now=info.next_poll_at - timedelta(seconds=1), interval=INTERVAL)
        assert early.results == []
        notices += [(n, x.kind) for x in done.notices]
        now = info.next_poll_at
    assert notices == [(5, "failing")]

    moved.rename(root)
    done = await poll_due_feeds(db, now=now, interval=INTERVAL)
    assert [x.kind for x in done.notices] == ["recovered"]
    assert done.results[0].new == 1
    info = await get_feed(db, feed.id)
    assert (info.failures, info.last_error, info.failure_notified, info.status) == (0, None, False, "ok")
    assert info.next_poll_at == now + timedelta(seconds=INTERVAL)
    # healthy again: the next success says nothing
    done = await poll_due_feeds(db, now=info.next_poll_at, interval=INTERVAL)
    assert done.notices == []


async def test_recovery_before_five_failures_sends_nothing(db, tmp_path):
    root = tmp_path / "blip"
    write(root / "a.md", post("A post of the feed with a blip"))
    feed = await add_folder(db, root)
    root.rename(tmp_path / "away")
    for i in range(4):
        r = await poll(db, feed.id, T0 + timedelta(hours=i))
        assert r.notice is None
    (tmp_path / "away").rename(root)
    r = await poll(db, feed.id, T0 + timedelta(hours=5))
    assert r.error is None and r.notice is None


# ---------------------------------------------------------------- managing feeds
@pytest.mark.parametrize("location, reason", [
    ("file:///etc/passwd", "bad_scheme"),
    ("FILE:/etc", "bad_scheme"),
    ("ftp://example.com/feed.xml", "bad_scheme"),
    ("javascript:alert(1)", "bad_scheme"),
    ("https://", "bad_url"),
    ("", "not_found"),
])
def test_classify_location_rejects_non_http_urls(location, reason):
    got = classify_location(location)
    assert isinstance(got, FeedError) and got.reason == reason


def test_classify_location_resolves_folders(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert classify_location("posts/../posts") == ("folder", str(tmp_path / "posts"))
    assert classify_location("./a:b") == ("folder", str(tmp_path / "a:b"))
    assert classify_location("HTTPS://Example.COM/feed") == ("rss", "https://example.com/feed")


async def test_add_feed_validates_folder(db, tmp_path, posts):
    missing = await add_feed(db, str(tmp_path / "nope"), now=T0)
    assert isinstance(missing, FeedError) and missing.reason == "not_found"
    a_file = write(tmp_path / "file.md", post("A file, not a folder"))
    assert (await add_feed(db, str(a_file), now=T0)).reason == "not_a_folder"
    bad = await add_feed(db, "file:///etc", now=T0)
    assert isinstance(bad, FeedError) and bad.reason == "bad_scheme"
    assert await list_feeds(db) == []

    got = await add_feed(db, str(posts / ".." / "posts"), now=T0)
    assert isinstance(got, AddResult) and got.created
    assert got.feed.location == str(posts.resolve()) and got.feed.kind == "folder" and got.feed.name == "posts"
    assert got.items == 3 and got.newest_title in {
        "央行宣布降准0.5个百分点", "Apple announces a new iPhone", "A post at the top of the feed folder"}
    assert got.feed.status == "new" and got.feed.articles == 0  # validation ingests nothing

    again = await add_feed(db, str(posts), now=T0)
    assert isinstance(again, AddResult) and not again.created and again.feed.id == got.feed.id


async def test_register_feeds_is_idempotent(db, tmp_path, posts):
    locations = [str(posts), "https://example.com/feed.xml", "file:///etc/passwd", "  "]
    first = await register_feeds(db, locations, now=T0)
    assert [type(x).__name__ for x in first] == ["AddResult", "AddResult", "FeedError"]
    assert [x.created for x in first[:2]] == [True, True] and first[2].reason == "bad_scheme"
    assert first[1].feed.kind == "rss" and first[1].feed.name == "example.com"
    second = await register_feeds(db, locations, now=T0)
    assert [x.created for x in second[:2]] == [False, False]
    assert len(await list_feeds(db)) == 2


async def test_remove_feed_keeps_articles_unless_purged(db, tmp_path, posts):
    keep = await add_folder(db, posts)
    await poll(db, keep.id)
    other = tmp_path / "other"
    write(other / "x.md", post("The other folder's only post, about tides"))
    purge = await add_folder(db, other)
    await poll(db, purge.id)

    got = await remove_feed(db, keep.id)
    assert isinstance(got, RemoveResult) and got.purged == 0 and got.feed.articles == 3
    row = await db.fetchone("SELECT COUNT(*) FROM articles WHERE feed_id IS NULL")
    assert row[0] == 3
    got = await remove_feed(db, purge.id, purge=True)
    assert got.purged == 1
    assert (await db.fetchone("SELECT COUNT(*) FROM articles"))[0] == 3
    assert (await db.fetchone("SELECT COUNT(*) FROM feed_files"))[0] == 0
    missing = await remove_feed(db, 999)
    assert isinstance(missing, FeedError) and missing.reason == "no_such_feed"


async def test_paused_feed_is_not_polled_until_resumed(db, posts):
    feed = await add_folder(db, posts)
    paused = await pause_feed(db, feed.id)
    assert paused.paused and paused.status == "paused"
    assert (await poll_due_feeds(db, now=T0)).results == []
    assert (await poll_due_feeds(db, now=T0, force=True)).results == []
    # asked for by id, it is polled even while paused
    one = await poll_due_feeds(db, now=T0, feed_id=feed.id)
    assert [r.new for r in one.results] == [3]
    resumed = await resume_feed(db, feed.id)
    assert not resumed.paused and resumed.next_poll_at is None
    assert [r.feed_id for r in (await poll_due_feeds(db, now=T0)).results] == [feed.id]
    assert (await pause_feed(db, 42)).reason == "no_such_feed"
    assert (await resume_feed(db, 42)).reason == "no_such_feed"
    assert (await poll_due_feeds(db, now=T0, feed_id=42)).error.reason == "no_such_feed"


async def test_force_polls_feeds_that_are_not_due(db, posts):
    feed = await add_folder(db, posts)
    await poll(db, feed.id)
    assert (await poll_due_feeds(db, now=T0 + timedelta(seconds=10))).results == []
    forced = await poll_due_feeds(db, now=T0 + timedelta(seconds=10), force=True)
    assert [r.feed_id for r in forced.results] == [feed.id]


# ---------------------------------------------------------------- stats
async def test_collect_stats(db, posts, tmp_path):
    from storage.stats import collect_stats

    feed = await add_folder(db, posts)
    await poll(db, feed.id)
    now = int(T0.timestamp())
    await db.write("INSERT INTO chats (id, type, timezone, created_at, updated_at) VALUES (1, 'private', 'UTC', ?, ?)",
                   (now, now))
    await db.write("INSERT INTO chats (id, type, timezone, created_at, updated_at, active) "
                   "VALUES (2, 'group', 'UTC', ?, ?, 0)", (now, now))
    await db.write("INSERT INTO subscriptions (chat_id, category_key, categories, since_article_id, created_at) "
                   "VALUES (1, 'x\x1f', '[\"x\"]', 0, ?)", (now,))
    await db.write("INSERT INTO sends (chat_id, state, body, created_at) VALUES (1, 'failed', 'b', ?)", (now,))
    art = (await articles_of(db, feed.id))[0]
    await db.write("INSERT INTO outbox (chat_id, story_key, article_id, reason, created_at) "
                   "VALUES (1, 'k', ?, 'sub:x', ?)", (art["id"], now))
    await db.write("INSERT INTO meta (key, value) VALUES ('last_dispatch_at', ?)", (str(now + 60),))
    s = await collect_stats(db, db.path)
    assert (s.articles, s.chats_active, s.chats_inactive, s.subscriptions) == (3, 1, 1, 1)
    assert (s.outbox_pending, s.sends_failed, s.feeds, s.feeds_failing, s.watches) == (1, 1, 1, 0, 0)
    assert s.last_poll_at is None and s.last_dispatch_at == T0 + timedelta(seconds=60)
    assert s.db_bytes >= os.stat(db.path).st_size > 0
    assert "token" not in repr(s).lower()


async def test_collect_stats_without_watches_table(tmp_path):
    from storage.stats import collect_stats

    async with open_db(tmp_path / "old.sqlite3", migrate_to=2) as old:
        s = await collect_stats(old, old.path)
    assert s.watches == 0 and s.articles == 0 and s.last_poll_at is None


# ---------------------------------------------------------------- CLI
def run_cli(argv: list[str], db_path: Path):
    from bot.cli import feeds, ops  # `stats` lives with the operations commands
    from bot.core.settings import Settings

    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path)
    subparsers = parser.add_subparsers(dest="command", required=True)
    feeds.add_commands(subparsers)
    ops.add_commands(subparsers)
    args = parser.parse_args(["--db", str(db_path), *argv])
    return args.func(args, Settings(db_path=db_path))


async def test_cli_feeds_round_trip(tmp_path, posts, capsys):
    from bot.core.errors import CliError

    db_path = tmp_path / "cli.sqlite3"
    assert await run_cli(["feeds", "add", str(posts), "--category", "博客/精选"], db_path) == 0
    assert "added feed #1 posts" in capsys.readouterr().out
    with pytest.raises(CliError, match="bad_scheme"):
        await run_cli(["feeds", "add", "file:///etc/passwd"], db_path)
    assert await run_cli(["feeds", "fetch"], db_path) == 0
    assert "3 new" in capsys.readouterr().out
    assert await run_cli(["feeds", "fetch"], db_path) == 0
    assert "no feed is due" in capsys.readouterr().out
    assert await run_cli(["feeds", "fetch", "--all"], db_path) == 0
    assert "3 files, 0 read" in capsys.readouterr().out
    assert await run_cli(["feeds", "pause", "1"], db_path) == 0
    assert await run_cli(["feeds", "list"], db_path) == 0
    out = capsys.readouterr().out
    assert "paused" in out and "3 articles" in out and "博客 › 精选" in out
    assert await run_cli(["feeds", "resume", "1"], db_path) == 0
    assert await run_cli(["stats"], db_path) == 0
    out = capsys.readouterr().out
    assert "articles        3" in out and "feeds           1" in out
    assert await run_cli(["feeds", "export", str(tmp_path / "feeds.opml")], db_path) == 0
    assert b"type=\"folder\"" in (tmp_path / "feeds.opml").read_bytes()
    with pytest.raises(CliError, match="no feed with id 7"):
        await run_cli(["feeds", "remove", "7"], db_path)
    assert await run_cli(["feeds", "remove", "1"], db_path) == 0
    assert "kept its 3 articles" in capsys.readouterr().out
    assert await run_cli(["feeds", "import", str(tmp_path / "feeds.opml")], db_path) == 0
    assert "1 added, 0 already there, 0 invalid" in capsys.readouterr().out
