"""`newsbot feeds list|add|remove|pause|resume|fetch|export|import` and `newsbot stats`.

Wired into bot/cli/main.py by `add_commands(subparsers)`. Examples:
    newsbot feeds add ~/blog/source/_posts --category 博客
    newsbot feeds add https://9to5mac.com/feed/
    newsbot feeds fetch --all
"""
from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from bot.cli.args import db_path
from bot.core.errors import CliError, FeedError, OpmlError
from bot.core.feed_items import redact_url
from bot.core.opml import MAX_OPML_BYTES, export_opml, parse_opml
from bot.feeds.egress import EgressPolicy
from bot.feeds.manage import ANY_FOLDER, add_feed, import_feeds, list_feeds, pause_feed, remove_feed, resume_feed
from bot.feeds.poller import Limits, poll_due_feeds
from storage.db import open_db


def _fail(message: str) -> Exception:
    return CliError("usage", message)


def _when(dt: datetime | None, settings: Any) -> str:
    return dt.astimezone(settings.timezone).strftime("%Y-%m-%d %H:%M") if dt else "never"


def _category(text: str | None) -> tuple[str, ...]:
    if not text:
        return ()
    return tuple(p.strip() for p in text.replace("›", "/").split("/") if p.strip())


async def cmd_feeds_list(args: argparse.Namespace, settings: Any) -> int:
    async with open_db(db_path(args, settings)) as db:
        feeds = await list_feeds(db)
    if not feeds:
        print("no feeds; add one with: newsbot feeds add FOLDER_OR_URL")
    day_ago = datetime.now(timezone.utc) - timedelta(days=1)
    for f in feeds:
        category = f" [{' › '.join(f.category)}]" if f.category else ""
        print(f"{f.id:>4}  {f.status:<7} {f.kind:<6} {f.name}{category}  {f.articles} articles  "
              f"last ok {_when(f.last_success, settings)}")
        print(f"      {redact_url(f.location)}")
        if f.last_error:
            print(f"      last error: {redact_url(f.last_error)} ({f.failures} in a row, "
                  f"next try {_when(f.next_poll_at, settings)})")
        if f.capped_since(day_ago):
            print(f"      capped {_when(f.capped_at, settings)}: {f.capped_skipped} older items not looked at "
                  f"(NEWSBOT_MAX_ITEMS_PER_FETCH={settings.max_items_per_fetch}), {f.capped_deferred} new items "
                  f"left for later (NEWSBOT_MAX_NEW_PER_FEED_DAY={settings.max_new_per_feed_day})")
    return 0


async def cmd_feeds_add(args: argparse.Namespace, settings: Any) -> int:
    async with open_db(db_path(args, settings)) as db:  # the operator's command: any folder
        got = await add_feed(db, args.location, _category(args.category), validate=not args.no_validate,
                             name=args.name, http_timeout=args.timeout, egress=EgressPolicy.of(settings))
    if isinstance(got, FeedError):
        raise _fail(f"cannot add {redact_url(args.location)}: {redact_url(str(got))}")
    f = got.feed
    if not got.created:
        print(f"already a feed: #{f.id} {f.name} ({redact_url(f.location)})")
        return 0
    found = ""
    if got.items is not None:
        found = f", {got.items} {'posts' if f.kind == 'folder' else 'items'}"
        if got.newest_title:
            found += f", newest: {got.newest_title}"
    print(f"added feed #{f.id} {f.name} ({f.kind}: {redact_url(f.location)}){found}")
    return 0


async def cmd_feeds_remove(args: argparse.Namespace, settings: Any) -> int:
    async with open_db(db_path(args, settings)) as db:
        got = await remove_feed(db, args.id, purge=args.purge)
    if isinstance(got, FeedError):
        raise _fail(f"no feed with id {args.id}")
    kept = f"deleted {got.purged} articles" if args.purge else f"kept its {got.feed.articles} articles"
    print(f"removed feed #{got.feed.id} {got.feed.name}; {kept}")
    return 0


async def _set_paused(args: argparse.Namespace, settings: Any, paused: bool) -> int:
    async with open_db(db_path(args, settings)) as db:
        got = await (pause_feed if paused else resume_feed)(db, args.id)
    if isinstance(got, FeedError):
        raise _fail(f"no feed with id {args.id}")
    print(f"{'paused' if paused else 'resumed'} feed #{got.id} {got.name}")
    return 0


async def cmd_feeds_pause(args: argparse.Namespace, settings: Any) -> int:
    return await _set_paused(args, settings, True)


async def cmd_feeds_resume(args: argparse.Namespace, settings: Any) -> int:
    return await _set_paused(args, settings, False)


async def cmd_feeds_fetch(args: argparse.Namespace, settings: Any) -> int:
    async with open_db(db_path(args, settings)) as db:
        done = await poll_due_feeds(
            db, now=datetime.now(timezone.utc), force=args.all, feed_id=args.id,
            interval=settings.poll_seconds, default_tz=settings.timezone, http_timeout=args.timeout,
            egress=EgressPolicy.of(settings), limits=Limits.of(settings),
        )
    if done.error is not None:
        raise _fail(f"no feed with id {args.id}")
    if not done.results:
        print("no feed is due; use --all to poll every feed now")
    for r in done.results:
        if r.error is not None:
            print(f"#{r.feed_id} {r.name}: FAILED {redact_url(str(r.error))} ({r.failures} in a row, "
                  f"next try {_when(r.next_poll_at, settings)})")
            continue
        if r.not_modified:
            print(f"#{r.feed_id} {r.name}: not modified")
            continue
        seen = f"{r.files_seen} files, {r.files_read} read" if r.kind == "folder" else f"{r.items} items"
        print(f"#{r.feed_id} {r.name}: {seen}: {r.new} new, {r.same_story} same story, {r.updated} updated, "
              f"{r.known} known, {r.duplicate} duplicate, {len(r.rejected)} rejected")
        if r.over_cap or r.deferred:
            print(f"  capped: {r.over_cap} older items not looked at, {r.deferred} new items left for later")
        for source, reason in r.rejected[: args.show_rejected]:
            print(f"  rejected {redact_url(source)}: {reason}")
    for n in done.notices:
        print(f"notice: feed #{n.feed_id} {n.name} {n.kind}" + (f" ({redact_url(str(n.error))})" if n.error else ""))
    return 0


async def cmd_feeds_export(args: argparse.Namespace, settings: Any) -> int:
    async with open_db(db_path(args, settings)) as db:
        data = export_opml(await list_feeds(db))
    if args.file in (None, "-"):
        sys.stdout.buffer.write(data)
    else:
        Path(args.file).write_bytes(data)
        print(f"wrote {args.file}")
    return 0


def _read_head(path: str, limit: int) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(limit)


async def cmd_feeds_import(args: argparse.Namespace, settings: Any) -> int:
    try:
        data = await asyncio.to_thread(_read_head, args.file, MAX_OPML_BYTES + 1)
    except OSError as exc:
        raise _fail(f"cannot read {args.file}: {exc.strerror or exc}") from exc
    parsed = parse_opml(data)
    if isinstance(parsed, OpmlError):
        raise _fail(f"{args.file}: not imported: {parsed.reason}" + (f" ({parsed.detail})" if parsed.detail else ""))
    async with open_db(db_path(args, settings)) as db:
        report = await import_feeds(db, parsed.entries, validate=args.validate,
                                    egress=EgressPolicy.of(settings), folder_roots=ANY_FOLDER)
    invalid = parsed.invalid + report.invalid
    print(f"{len(report.added)} added, {len(report.skipped)} already there, {len(invalid)} invalid")
    for what, reason in invalid:
        print(f"  invalid {redact_url(what)}: {redact_url(reason)}")
    return 0


def add_commands(subparsers: Any) -> None:
    """Add `feeds …` to the `newsbot` parser's subcommands (`stats` is in bot/cli/ops.py)."""
    feeds = subparsers.add_parser("feeds", help="list, add, remove, pause, resume and fetch feeds")
    sub = feeds.add_subparsers(dest="feeds_command", required=True)

    p = sub.add_parser("list", help="every feed with its state")
    p.set_defaults(func=cmd_feeds_list)

    p = sub.add_parser("add", help="add a folder of posts or an RSS/Atom URL (checked first)")
    p.add_argument("location", metavar="FOLDER_OR_URL")
    p.add_argument("--category", help="category path for its articles, e.g. 科技/苹果")
    p.add_argument("--name", help="display name (default: the folder name or the feed title)")
    p.add_argument("--no-validate", action="store_true", help="save without checking the folder or URL")
    p.add_argument("--timeout", type=float, default=20, help="seconds to wait for a URL (default 20)")
    p.set_defaults(func=cmd_feeds_add)

    p = sub.add_parser("remove", help="remove a feed (its articles stay unless --purge)")
    p.add_argument("id", type=int)
    p.add_argument("--purge", action="store_true", help="also delete the feed's articles")
    p.set_defaults(func=cmd_feeds_remove)

    for name, func, text in (("pause", cmd_feeds_pause, "stop polling a feed"),
                             ("resume", cmd_feeds_resume, "poll a paused feed again")):
        p = sub.add_parser(name, help=text)
        p.add_argument("id", type=int)
        p.set_defaults(func=func)

    p = sub.add_parser("fetch", help="poll due feeds now (or one feed, or --all)")
    p.add_argument("id", type=int, nargs="?", help="only this feed (even if paused or not due)")
    p.add_argument("--all", action="store_true", help="every unpaused feed, due or not")
    p.add_argument("--timeout", type=float, default=20, help="seconds to wait for each URL (default 20)")
    p.add_argument("--show-rejected", type=int, default=10, metavar="N", help="list up to N rejected posts")
    p.set_defaults(func=cmd_feeds_fetch)

    p = sub.add_parser("export", help="write the feed list as OPML")
    p.add_argument("file", nargs="?", help="output file (default: standard output)")
    p.set_defaults(func=cmd_feeds_export)

    p = sub.add_parser("import", help="add the feeds listed in an OPML file")
    p.add_argument("file")
    p.add_argument("--validate", action="store_true", help="fetch each URL before adding it")
    p.set_defaults(func=cmd_feeds_import)

