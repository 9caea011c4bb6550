"""The `newsbot` command line: ingest posts, list and summarise articles, run the bot or the offline demo.

Every command exits 0 when its work completed (an ingest with rejected files included) and prints one
clear line, not a traceback, on a user error.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sqlite3
import sys
import traceback
from dataclasses import replace
from datetime import datetime, timezone, tzinfo
from pathlib import Path

from telegram.error import InvalidToken, NetworkError

from bot.app.config import load_settings
from bot.app.logs import RedactTokens, setup_logging
from bot.app.runtime import BotRuntime
from bot.cli.args import db_path
from bot.cli.demo import run_chat, run_demo
from bot.cli.feeds import add_commands
from bot.cli.ops import add_commands as add_ops_commands
from bot.cli.progress import progress
from bot.core.errors import CliError, QueryError, RejectedPost
from bot.core.settings import Settings, SettingsError
from bot.core.summarise import SUMMARISER_VERSION, choose_sentences, score_sentences, summarise
from bot.feeds.ingest import ingest_paths, iter_post_files, load_post
from sandbox.server import Sandbox
from storage.articles import get_article, latest, save_summary, stale_summaries
from storage.db import SchemaTooNew, open_db
from storage.index import rebuild_progress
from storage.lock import DatabaseBusy
from storage.search import SearchPage, search

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SHARED_CORPUS = PROJECT_ROOT.parent / "shared" / "corpus" / "real"
EXAMPLE_POSTS = Path(__file__).resolve().with_name("demo_posts")  # package data: the wheel's demo runs anywhere


def sample_posts() -> Path:
    """The demo's posts: ../shared/corpus/real when present, else the project's own examples."""
    return SHARED_CORPUS if SHARED_CORPUS.is_dir() else EXAMPLE_POSTS


# ---------------------------------------------------------------- ingest / articles
async def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    paths = [Path(p) for p in args.paths]
    for p in paths:
        if not p.exists():
            raise CliError("usage", f"no such file or folder: {p}")
    total = sum(1 for _ in iter_post_files(paths)) if sys.stderr.isatty() else None
    async with open_db(db_path(args, settings)) as db:
        with progress("ingest", total) as advance:
            report = await ingest_paths(db, paths, default_tz=settings.timezone, progress=advance,
                                        workers=args.workers)
    print(f"ingested {report.total} files: {report.summary_line()}")
    for source, reason in report.rejected:
        print(f"  rejected {source}: {reason}")
    return 0


async def cmd_articles(args: argparse.Namespace, settings: Settings) -> int:
    category = tuple(p.strip() for p in args.category.replace("›", "/").split("/") if p.strip()) if args.category else ()
    async with open_db(db_path(args, settings)) as db:
        rows = await latest(db, category=category, limit=args.limit)
    for s in rows:
        a = s.article
        local = a.published.astimezone(settings.timezone).strftime("%Y-%m-%d %H:%M")
        print(f"{s.id:>6}  {local}  [{a.category_path}]  {a.title}")
    if not rows:
        print("no articles" + (f" in {args.category}" if args.category else ""))
    return 0


# ---------------------------------------------------------------- summarise
async def cmd_summarise(args: argparse.Namespace, settings: Settings) -> int:
    target = args.target
    if Path(target).is_file():
        try:
            article = load_post(Path(target), tz=settings.timezone)
        except RejectedPost as exc:
            raise CliError("usage", f"{target}: rejected: {exc}") from exc
    elif target.isdigit():

        async with open_db(db_path(args, settings)) as db:
            stored = await get_article(db, int(target))
        if stored is None:
            raise CliError("usage", f"no article with id {target}")
        article = stored.article
    else:
        raise CliError("usage", f"not a file or an article id: {target}")
    chosen = choose_sentences(article.paragraphs, article.title, article.language, max_sentences=args.sentences)
    scored = score_sentences(article.paragraphs, article.title, article.language)
    print(article.title)
    print(f"[{article.category_path}] {article.language}, {len(article.paragraphs)} paragraphs")
    for index, sentence in chosen:
        print(f"  {scored[index].score:6.3f}  {sentence}")
    if not chosen:
        print("  (no text to summarise)" if not scored else
              "  (no summary: no real sentence to show; the digest shows the title alone)")
    if args.explain:
        print("every candidate sentence, in article order (* chosen; its likelihood as a share of the best one's, "
              "or why it is never chosen):")
        taken = {index for index, _ in chosen}
        for s in scored:
            mark = "*" if s.index in taken else " "
            verdict = f"{s.score:8.3g}" if s.score > 0.0 else f"— {s.why}"
            byline = f"  [byline cut: {s.byline}]" if s.byline else ""
            print(f" {mark}{s.index:3d}  {verdict}  {_clip(s.text, 70)}{byline}")
    return 0


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


async def cmd_resummarise(args: argparse.Namespace, settings: Settings) -> int:
    done = 0
    async with open_db(db_path(args, settings)) as db:
        with progress("resummarise") as advance:
            after = 0
            while batch := await stale_summaries(db, SUMMARISER_VERSION, after_id=after):
                for s in batch:
                    a = s.article
                    await save_summary(db, s.id, summarise(a.paragraphs, a.title, a.language, max_sentences=5),
                                       SUMMARISER_VERSION)
                    advance(str(s.id))
                    done += 1
                after = batch[-1].id
    print(f"resummarised {done} articles (summariser version {SUMMARISER_VERSION})")
    return 0


# ---------------------------------------------------------------- demo, chat, run, sandbox
async def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    """The main job: the real bot when TELEGRAM_BOT_TOKEN is set, else the offline demo over the sandbox."""
    posts = Path(args.posts) if args.posts else sample_posts()
    if settings.has_token and not args.offline:

        feeds = settings.feeds or (str(posts.resolve()),)
        return await cmd_run(args, replace(settings, feeds=feeds))

    return await run_demo(settings, posts)


async def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    return await run_chat(settings, Path(args.posts) if args.posts else sample_posts())


async def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.has_token:
        raise CliError("usage", "TELEGRAM_BOT_TOKEN: not set (see .env.example); `newsbot demo` runs offline without it")
    if getattr(args, "db", None):
        settings = replace(settings, db_path=args.db)

    print(f"newsbot: running against {settings.api_url} (Ctrl-C to stop)", file=sys.stderr)
    try:
        await BotRuntime(settings).run_until_signal(lock_wait=getattr(args, "wait", 0.0))
    except InvalidToken as exc:
        raise CliError("usage", "TELEGRAM_BOT_TOKEN: rejected by the Bot API (Unauthorized)") from exc
    except NetworkError as exc:
        raise CliError("usage", f"cannot reach the Bot API at {settings.api_url}: {exc.message}") from exc
    return 0


async def cmd_sandbox(args: argparse.Namespace, settings: Settings) -> int:
    async with Sandbox.running(port=args.port, host=args.host, limits=args.limits) as sb:
        print(f"Bot API sandbox at {sb.base_url} — token {sb.token}", flush=True)
        print(f"  TELEGRAM_API_URL={sb.base_url} TELEGRAM_BOT_TOKEN={sb.token} newsbot run", flush=True)
        print(f"  control API: {sb.base_url}/sandbox/info", flush=True)
        stop = asyncio.Event()

        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
    return 0


async def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    async with open_db(db_path(args, settings)) as db:
        page = await search(db, " ".join(args.query), limit=args.limit, now=datetime.now(timezone.utc))
    print(search_results_text(page, settings.timezone))
    return 0


def search_results_text(page: SearchPage | QueryError, tz: tzinfo) -> str:
    """Plain text for `newsbot search QUERY`: a header, then id, local time, category, title and excerpt."""
    if isinstance(page, QueryError):
        limit = f" (limit {page.limit})" if page.limit else ""
        detail = f": {page.detail}" if page.detail else ""
        return f"invalid query: {page.reason}{detail}{limit}"
    shown = page.query.describe()
    if not page.hits:
        return f"no results for {shown}"
    first = page.offset + 1
    count = f"{page.total}" if page.total_exact else f"about {page.total}"
    lines = [f"{count} results for {shown} (showing {first}–{page.offset + len(page.hits)}, "
             f"page {page.page + 1}/{page.pages})"]
    if page.ranked_among:
        lines[0] += f"; best of the newest {page.ranked_among}"
    for h in page.hits:
        local = h.published.astimezone(tz).strftime("%Y-%m-%d %H:%M")
        lines.append(f"{h.article_id:>7}  {local}  [{' › '.join(h.categories)}]  {h.title}")
        excerpt = h.snippet.plain("«", "»")
        if excerpt:
            lines.append(f"         {excerpt}")
    return "\n".join(lines)


# ---------------------------------------------------------------- wiring
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newsbot", description=__doc__.split("\n")[0])
    parser.add_argument("--db", type=Path, help="SQLite file (default: NEWSBOT_DB or ./data/newsbot.sqlite3)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", help="ingest post files or folders (recursive)")
    p.add_argument("paths", nargs="+")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                   help="worker processes for parsing and summarising (0: in this process)")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("articles", help="list stored articles, newest first")
    p.add_argument("--category", help="category path at any level, e.g. 金融/新浪财经")
    p.add_argument("--limit", type=int, default=20)
    p.set_defaults(func=cmd_articles)

    p = sub.add_parser("summarise", help="print the key sentences of a post file or stored article id")
    p.add_argument("target", metavar="PATH_OR_ID")
    p.add_argument("--sentences", type=int, default=2, choices=range(1, 6), metavar="N")
    p.add_argument("--explain", action="store_true",
                   help="also list every candidate sentence with its score or why it is never chosen")
    p.set_defaults(func=cmd_summarise)

    p = sub.add_parser("resummarise", help="recompute summaries made by an older summariser")
    p.set_defaults(func=cmd_resummarise)

    p = sub.add_parser("demo", help="the main job: offline demo over the sandbox, or the real bot with a token")
    p.add_argument("--posts", help="folder of posts (default: ../shared/corpus/real or the bundled bot/cli/demo_posts)")
    p.add_argument("--offline", action="store_true", help="the sandbox demo even when a token is set")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("chat", help="talk to the bot offline (sandbox), typing the user's side")
    p.add_argument("--posts", help="folder of posts (default: ../shared/corpus/real or the bundled bot/cli/demo_posts)")
    p.set_defaults(func=cmd_chat)

    p = sub.add_parser("run", help="run the bot (long polling) until SIGINT/SIGTERM")
    p.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                   help="wait this long for another bot on the same database to stop (default: exit at once)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("sandbox", help="run the local Bot API sandbox standalone")
    p.add_argument("--port", type=int, default=8081)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--limits", action="store_true", help="enforce Telegram-like flood limits")
    p.set_defaults(func=cmd_sandbox)

    p = sub.add_parser("search", help="search stored articles (same query language as /search)")
    p.add_argument("query", nargs="+")
    p.add_argument("--limit", type=int, default=10)
    p.set_defaults(func=cmd_search)


    add_commands(sub)
    add_ops_commands(sub)
    return parser


def _index_rebuild_bar(done: int, total: int) -> None:
    """A search index rebuild (storage.index: a new folding, #17) started by opening an older database."""
    if total:
        filled = 30 * done // total
        print(f"\rrebuilding the search index [{'#' * filled}{'.' * (30 - filled)}] {done}/{total}",
              end="\n" if done >= total else "", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    rebuild_progress.set(_index_rebuild_bar)
    try:
        settings = load_settings()

        setup_logging(settings.log_level, settings.token)
        return asyncio.run(args.func(args, settings))
    except (SettingsError, CliError) as exc:
        print(f"newsbot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("newsbot: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # storage refusing a newer schema, disk full, …: one line, not a traceback


        redact = RedactTokens(os.environ.get("TELEGRAM_BOT_TOKEN", "")).redact
        if isinstance(exc, (SchemaTooNew, DatabaseBusy, OSError, sqlite3.DatabaseError)):
            print(f"newsbot: {redact(str(exc))}", file=sys.stderr)
            return 1
        # A bug: the traceback is for the report, with anything shaped like a token removed.
        print(redact("".join(traceback.format_exception(exc))), file=sys.stderr)
        return 70
