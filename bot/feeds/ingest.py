"""From files to stored articles: scan folders, parse, clean, summarise, dedupe, store in batches.

`build_article` is the pure step (bytes → Article); `ingest_paths` drives it over many files with
bounded memory (files are streamed, stored in batches) and returns an `IngestReport`.
"""
from __future__ import annotations

import asyncio
import errno
import functools
import multiprocessing
import os
import stat
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.core.clean import clean_body, guess_language, is_lead_image, unescape_entities
from bot.core.dedupe import content_hash
from bot.core.errors import RejectedPost
from bot.core.feed_items import article_uid
from bot.core.model import UNCATEGORISED, Article
from bot.core.parse import MAX_POST_BYTES, parse_post
from bot.core.query import IndexTerms, index_terms
from bot.core.settings import DEFAULT_ZONE
from bot.core.summarise import Summariser, default_summariser

POST_SUFFIXES = (".md", ".markdown", ".txt", ".html", ".htm")
BATCH_SIZE = 200
WORKER_CHUNK = 50
WORKER_MODULES = ("bot.feeds.ingest", "bot.core.summarise", "bot.core.query", "bs4", "lxml.etree", "frontmatter", "yaml")


def build_article(
    data: bytes,
    *,
    source: str,
    name: str = "",
    feed_id: int | None = None,
    fallback_categories: tuple[str, ...] = (),
    default_tz: ZoneInfo = DEFAULT_ZONE,
    mtime: datetime | None = None,
    now: datetime | None = None,
    category_override: tuple[str, ...] = (),
) -> Article:
    """Parse and clean one post. Raises RejectedPost with a reason."""
    raw = parse_post(data, name=name, fallback_categories=fallback_categories, default_tz=default_tz)
    paragraphs, images = clean_body(raw.body)
    now = now or datetime.now(timezone.utc)
    flags = set(raw.notes)
    if not paragraphs:
        flags.add("no_text")
    if is_lead_image(raw.image_url, images):
        flags.add("lead_image")
    published = raw.published
    if published is None:
        published = mtime or now
        flags.add("date_guessed")
    elif published > now + timedelta(days=1):  # a wrong clock would pin the post to the top of /latest
        published = now
        flags.add("date_in_future")
    title = unescape_entities(raw.title)  # feeds often escape titles twice: "A &amp; B"
    if "title_guessed" in raw.notes and paragraphs:
        title = paragraphs[0][:200]  # from the cleaned text: not a script, a comment or a 原标题： line
    categories = category_override or raw.categories or (UNCATEGORISED,)
    chash = content_hash(title, paragraphs)
    uid = article_uid(feed_id, source)
    return Article(
        uid=uid, feed_id=feed_id, source=source, title=title, categories=categories, author=raw.author,
        published=published, image_url=raw.image_url, paragraphs=paragraphs,
        language=guess_language(title + "\n" + "\n".join(paragraphs[:5])),
        content_hash=chash, story_key="s:" + uid, ingested=now, url=raw.url, flags=frozenset(flags),
    )


def load_post(path: Path, root: Path | None = None, tz: ZoneInfo = DEFAULT_ZONE) -> Article:
    """Read and build one post file (categories fall back to its folder path below `root`)."""
    data = read_post_bytes(path, real_path(root) if root is not None else None)
    return build_article(
        data, source=str(path), name=path.stem, fallback_categories=folder_categories(path, root),
        default_tz=tz, mtime=datetime.fromtimestamp(path.stat().st_mtime, tz=timezone.utc),
    )


OUTSIDE = "symbolic link to outside the feed folder"
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)


def inside(path: str, real_root: str) -> bool:
    """Whether the real path `path` is `real_root` or below it (both already resolved)."""
    return path == real_root or path.startswith(real_root.rstrip(os.sep) + os.sep)


def read_post_bytes(path: Path, real_root: str | None = None) -> bytes:
    """The bytes of one post file (at most MAX_POST_BYTES + 1). Raises RejectedPost.

    With `real_root` (the real path of the folder being walked) a symbolic link is followed only when its
    target lies inside that folder: a post that links to ../../.env is refused, never opened. The file is
    opened without following a link in its last component (so it cannot be swapped for one after the
    check) and without blocking (a FIFO is refused, not waited on).
    """
    try:
        target = str(path)
        if real_root is not None and not getattr(os, "O_NOFOLLOW", 0) and os.path.islink(target):
            target = _inside_or_refuse(target, real_root)
        try:
            fd = os.open(target, _OPEN_FLAGS)
        except OSError as exc:
            if exc.errno != errno.ELOOP:  # ELOOP: the last component is a symbolic link
                raise
            target = _inside_or_refuse(target, real_root) if real_root is not None else os.path.realpath(target)
            fd = os.open(target, _OPEN_FLAGS)
        with os.fdopen(fd, "rb") as fh:
            st = os.fstat(fh.fileno())
            if not stat.S_ISREG(st.st_mode):
                raise RejectedPost("unreadable", "not a regular file")
            if st.st_size > MAX_POST_BYTES:
                raise RejectedPost(
                    "too_large", f"file too large ({st.st_size // 1024} KB > {MAX_POST_BYTES // 1024 // 1024} MB)")
            return fh.read(MAX_POST_BYTES + 1)
    except OSError as exc:
        raise RejectedPost("unreadable", f"unreadable: {exc.strerror or exc.__class__.__name__}") from exc


def _inside_or_refuse(link: str, real_root: str) -> str:
    real = os.path.realpath(link)
    if not inside(real, real_root):
        raise RejectedPost("outside_folder", OUTSIDE)
    return real


def folder_categories(path: Path, root: Path | None) -> tuple[str, ...]:
    if root is None:
        return ()
    try:
        rel = path.parent.relative_to(root)
    except ValueError:
        return ()
    return tuple(p for p in rel.parts if p and not p.startswith(("_", ".")))


def iter_post_files(paths: Iterable[Path]) -> Iterator[tuple[Path, Path | None]]:
    """(file, feed root) for every post under the given files/folders, recursively, in a stable order.

    Symbolic links to folders are not followed; one that leads outside its root is yielded too, so that
    `prepare_file` reports it as rejected (as it does a linked file whose target is outside).
    """
    for p in paths:
        if p.is_dir():
            real_root = real_path(p)
            for dirpath, dirnames, filenames in os.walk(p):
                for d in sorted(dirnames):
                    link = os.path.join(dirpath, d)
                    if not d.startswith(".") and os.path.islink(link) and not inside(os.path.realpath(link), real_root):
                        yield Path(link), p
                dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
                for fname in sorted(filenames):
                    if fname.lower().endswith(POST_SUFFIXES) and not fname.startswith("."):
                        yield Path(dirpath) / fname, p
        else:
            yield p, None


@functools.lru_cache(maxsize=64)
def real_path(root: Path) -> str:
    """The real path of a folder being walked (cached: asked once per file)."""
    return os.path.realpath(root)


@dataclass
class IngestReport:
    new: int = 0
    known: int = 0
    updated: int = 0
    duplicate: int = 0
    same_story: int = 0
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (source, reason)
    new_ids: list[int] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.new + self.known + self.updated + self.duplicate + self.same_story + len(self.rejected)

    def summary_line(self) -> str:
        return (
            f"{self.new} new, {self.known} already known, {self.updated} updated, "
            f"{self.duplicate} duplicate, {self.same_story} same story, {len(self.rejected)} rejected"
        )


async def store_batch(db, articles: list[Article], summariser: Summariser = default_summariser) -> IngestReport:
    """Summarise and store built articles in one transaction; returns counts and the ids of new articles."""
    from storage.articles import Outcome, store_articles  # noqa: PLC0415 -- worker processes import this module without the database

    report = IngestReport()
    items = [(art, *summariser(art)) for art in articles]
    for stored in await store_articles(db, items):
        if stored.outcome in (Outcome.NEW, Outcome.SAME_STORY):
            report.new_ids.append(stored.article_id)
        attr = stored.outcome.value
        setattr(report, attr, getattr(report, attr) + 1)
    return report


def prepare_file(path: Path, root: Path | None, feed_id: int | None, default_tz: ZoneInfo,
                 category_override: tuple[str, ...], summariser: Summariser | None = default_summariser,
                 ) -> tuple[Article, list[str], int, IndexTerms] | tuple[str, str]:
    """Read, build, summarise and tokenise one file for the index: (article, summary, version, index
    terms), or (source, reason) if rejected.

    Pure apart from reading the file, so it can run in a worker process.
    """
    try:
        data = read_post_bytes(path, real_path(root) if root is not None else None)
        mtime = datetime.fromtimestamp(path.stat().st_mtime, tz=timezone.utc)
        art = build_article(
            data, source=str(path), name=path.stem, feed_id=feed_id,
            fallback_categories=folder_categories(path, root), default_tz=default_tz, mtime=mtime,
            category_override=category_override,
        )
    except RejectedPost as exc:
        return str(path), str(exc)
    except OSError as exc:
        return str(path), f"unreadable: {exc.strerror or exc}"
    summary, version = summariser(art) if summariser is not None else ([], 0)
    return art, summary, version, index_terms(art.title, art.text)


def _prepare_chunk(files: list[tuple[Path, Path | None]], feed_id, default_tz, category_override):
    return [prepare_file(p, r, feed_id, default_tz, category_override) for p, r in files]


def _chunks(items: Iterator[tuple[Path, Path | None]], size: int) -> Iterator[list[tuple[Path, Path | None]]]:
    chunk: list[tuple[Path, Path | None]] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


async def ingest_paths(
    db,
    paths: Iterable[Path],
    *,
    default_tz: ZoneInfo = DEFAULT_ZONE,
    feed_id: int | None = None,
    category_override: tuple[str, ...] = (),
    progress: Callable[[str], None] | None = None,
    summariser: Summariser = default_summariser,
    workers: int = 0,
) -> IngestReport:
    """Ingest every post under `paths`. One bad file is reported and skipped; the batch goes on.

    Files are streamed in batches (memory stays bounded for any number of files). With `workers` > 0
    (and the default summariser), parsing, cleaning and summarising run in that many worker processes
    while this process stores the previous batch; results are stored in file order either way.
    """
    from storage.articles import Outcome, store_articles  # noqa: PLC0415 -- worker processes import this module without the database

    report = IngestReport()

    async def store(results) -> None:
        items = []
        for result in results:
            if isinstance(result[0], Article):
                items.append(result)
            else:
                report.rejected.append(result)
            if progress:
                progress(result[0].source if isinstance(result[0], Article) else result[0])
        for stored in await store_articles(db, items):
            if stored.outcome in (Outcome.NEW, Outcome.SAME_STORY):
                report.new_ids.append(stored.article_id)
            setattr(report, stored.outcome.value, getattr(report, stored.outcome.value) + 1)

    files = iter_post_files(paths)
    if workers <= 0 or summariser is not default_summariser:
        for chunk in _chunks(files, BATCH_SIZE):
            await store([prepare_file(p, r, feed_id, default_tz, category_override, summariser) for p, r in chunk])
        return report

    loop = asyncio.get_running_loop()
    pending: list[asyncio.Future] = []
    ready: list = []
    # Bounded read-ahead keeps memory flat, and is deep enough that the workers keep going while a
    # batch is being stored (stored in batches of BATCH_SIZE: fewer, larger transactions).
    ahead = BATCH_SIZE // WORKER_CHUNK + 2 * workers
    # forkserver: workers never inherit this process's threads (aiosqlite, asyncio) mid-flight. The
    # server imports the pipeline once, so the workers forked from it share those pages. Workers are
    # not recycled (max_tasks_per_child) although a 1.3 MB post leaves one ~50 MB bigger: on Python
    # 3.11–3.13 a pool with a queued backlog can stop replacing them and hang (CPython gh-115634).
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(WORKER_MODULES))
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        for chunk in _chunks(files, WORKER_CHUNK):
            pending.append(loop.run_in_executor(pool, _prepare_chunk, chunk, feed_id, default_tz, category_override))
            if len(pending) > ahead:
                ready += await pending.pop(0)
                if len(ready) >= BATCH_SIZE:
                    await store(ready)
                    ready = []
        for fut in pending:
            ready += await fut
        await store(ready)
    return report
