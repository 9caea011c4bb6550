"""Folder feeds and `newsbot ingest` never read outside the folder (bot/feeds/folder.py, bot/feeds/ingest.py).

A post that is a symbolic link to ../../.env, or a linked folder that leads elsewhere, is reported as
rejected with a reason and never opened; links that stay inside the folder keep working.
"""
from __future__ import annotations

import os
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from bot.core.errors import RejectedPost
from bot.feeds import folder as folder_mod
from bot.feeds.folder import OUTSIDE, scan_folder
from bot.feeds.ingest import ingest_paths, iter_post_files, read_post_bytes
from bot.feeds.manage import AddResult, add_feed, get_feed
from bot.feeds.poller import poll_feed
from storage.db import open_db

T0 = datetime(2024, 5, 20, 12, 0, tzinfo=timezone.utc)
SECRET = "TELEGRAM_BOT_TOKEN=123456:very-secret-token-value"


def post(title: str) -> str:
    return f"---\ntitle: '{title}'\ndate: 2024-05-19 10:00:00\n---\n<p>{title} has a paragraph with enough words.</p>\n"


@pytest.fixture
def site(tmp_path) -> Path:
    """tmp/app/.env (the secret), tmp/app/outside/leak.md, and the feed folder tmp/app/blog/posts with links out."""
    app = tmp_path / "app"
    posts = app / "blog" / "posts"
    (posts / "news").mkdir(parents=True)
    (app / ".env").write_text(SECRET, encoding="utf-8")
    (app / "outside").mkdir()
    (app / "outside" / "leak.md").write_text(post("A post that lives outside the feed folder"), encoding="utf-8")
    (posts / "news" / "real.md").write_text(post("A real post inside the folder"), encoding="utf-8")
    (posts / "env.md").symlink_to("../../.env")                       # relative link out
    (posts / "news" / "abs.md").symlink_to(app / ".env")              # absolute link out
    (posts / "linked-dir").symlink_to(app / "outside", target_is_directory=True)
    (posts / "alias.md").symlink_to("news/real.md")                   # stays inside: allowed
    return posts


@pytest.fixture
async def db(tmp_path):
    async with open_db(tmp_path / "folder.sqlite3") as database:
        yield database


async def bodies(db) -> str:
    rows = await db.fetchall("SELECT title, body FROM articles")
    return "\n".join(f"{r['title']}\n{r['body']}" for r in rows)


def test_scan_skips_and_reports_links_that_lead_outside(site):
    scan = scan_folder(site)
    assert sorted(scan.files) == ["alias.md", "news/real.md"]
    assert sorted(scan.skipped) == [("env.md", OUTSIDE), ("linked-dir", OUTSIDE), ("news/abs.md", OUTSIDE)]


async def test_a_post_linking_to_the_env_file_is_rejected_not_ingested(db, site, monkeypatch):
    opened: list[str] = []
    real_read = folder_mod.read_post_bytes
    monkeypatch.setattr(folder_mod, "read_post_bytes", lambda p, root=None: opened.append(str(p)) or real_read(p, root))
    got = await add_feed(db, str(site), now=T0)
    assert isinstance(got, AddResult) and got.items == 2
    r = await poll_feed(db, await get_feed(db, got.feed.id), now=T0)
    assert r.error is None and r.new == 1 and r.known + r.duplicate + r.same_story == 1  # alias.md: the same post
    rejected = {Path(p).name: why for p, why in r.rejected}
    assert rejected == {"env.md": OUTSIDE, "abs.md": OUTSIDE, "linked-dir": OUTSIDE}
    assert not any(name.endswith(("env.md", "abs.md", "leak.md")) for name in opened)
    text = await bodies(db)
    assert "very-secret-token-value" not in text and "outside the feed folder" not in text
    hits = await db.fetchall("SELECT rowid FROM articles WHERE body LIKE '%secret%'")
    assert hits == []


def test_a_file_swapped_for_a_link_after_the_scan_is_not_read(site, tmp_path):
    """The read checks again: a file replaced by a link between the scan and the read is refused."""
    target = site / "news" / "real.md"
    scan = scan_folder(site)
    target.unlink()
    target.symlink_to(tmp_path / "app" / ".env")
    with pytest.raises(RejectedPost) as caught:
        read_post_bytes(target, scan.real_root)
    assert caught.value.reason == "outside_folder"


def test_link_chains_are_judged_by_where_they_end(site, tmp_path):
    (site / "news" / "real.md").unlink()
    (site / "news" / "real.md").symlink_to(tmp_path / "app" / ".env")
    with pytest.raises(RejectedPost, match="outside"):
        read_post_bytes(site / "alias.md", os.path.realpath(site))


def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "posts" / "pipe.md"
    fifo.parent.mkdir()
    os.mkfifo(fifo)
    started = time.monotonic()
    with pytest.raises(RejectedPost):
        read_post_bytes(fifo, os.path.realpath(fifo.parent))
    assert time.monotonic() - started < 1


async def test_newsbot_ingest_of_a_folder_does_not_follow_links_out(db, site):
    files = [str(p.relative_to(site)) for p, _ in iter_post_files([site])]
    assert "linked-dir" in files and "linked-dir/leak.md" not in files  # listed to be reported, not walked
    report = await ingest_paths(db, [site])
    rejected = {Path(p).name: why for p, why in report.rejected}
    assert rejected == {"env.md": "symbolic link to outside the feed folder",
                        "abs.md": "symbolic link to outside the feed folder",
                        "linked-dir": "symbolic link to outside the feed folder"}
    assert report.new == 1
    assert "very-secret-token-value" not in await bodies(db)


async def test_a_single_file_named_on_the_command_line_is_read_even_through_a_link(db, site):
    """The operator naming a file is trusted; only walks are fenced."""
    report = await ingest_paths(db, [site / "alias.md"])
    assert report.new == 1 and report.rejected == []


def test_the_scan_does_not_descend_a_linked_folder_inside_either(site):
    (site / "again").symlink_to(site / "news", target_is_directory=True)
    assert sorted(scan_folder(site).files) == ["alias.md", "news/real.md"]  # no duplicate via again/


def _special_files(folder: Path) -> dict[str, str]:
    """A FIFO, a socket and (as root) a character and a block device, all named like posts."""
    import socket as socket_mod
    import stat as stat_mod

    os.mkfifo(folder / "pipe.md")
    made = {"pipe.md": "not a regular file (a FIFO)"}
    sock = socket_mod.socket(socket_mod.AF_UNIX)
    try:
        sock.bind(str(folder / "sock.md"))
        made["sock.md"] = "not a regular file (a socket)"
    except OSError:  # a path too long for AF_UNIX
        pass
    finally:
        sock.close()
    try:
        os.mknod(folder / "null.md", 0o600 | stat_mod.S_IFCHR, os.makedev(1, 3))
        os.mknod(folder / "disk.md", 0o600 | stat_mod.S_IFBLK, os.makedev(7, 0))
        made |= {"null.md": "not a regular file (a character device)", "disk.md": "not a regular file (a block device)"}
    except (PermissionError, OSError):  # not root
        pass
    return made


def test_fifos_sockets_and_devices_are_skipped_with_a_reason(site):
    made = _special_files(site)
    scan = scan_folder(site)
    skipped = dict(scan.skipped)
    for name, reason in made.items():
        assert skipped[name] == reason and name not in scan.files
    assert skipped["linked-dir"] == OUTSIDE  # a linked folder resolving outside is skipped too


async def test_a_folder_feed_with_special_files_and_links_out_polls_quickly(db, site):
    made = _special_files(site)
    got = await add_feed(db, str(site), validate=False, now=T0)
    assert isinstance(got, AddResult)
    started = time.monotonic()
    r = await poll_feed(db, got.feed, now=T0)
    assert time.monotonic() - started < 30 and r.error is None and r.new >= 1
    rejected = {Path(p).name: why for p, why in r.rejected}
    for name, reason in made.items():
        assert rejected[name] == reason
    assert rejected["linked-dir"] == OUTSIDE and rejected["env.md"] == OUTSIDE
    assert "very-secret-token-value" not in await bodies(db)
