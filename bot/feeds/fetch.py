"""The HTTP fetcher for RSS/Atom feeds: conditional GET, one deadline, a size cap, redirects vetted hop by hop.

Every request goes through a `FeedSession` (bot/feeds/egress.py): the URL of each hop is checked and
its host's addresses vetted before the connection is made. Errors are `FeedError(reason, detail)`.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass

import aiohttp
from yarl import URL

from bot.core.errors import FeedError
from bot.feeds.egress import FeedSession, blocked_cause, check_url
from bot.feeds.tasks import NotAFeed, inspect_document
from bot.feeds.workers import DOCUMENT_BUDGET, TookTooLong, WorkerFailed, WorkerPool, shared_pool

DEFAULT_HTTP_TIMEOUT = 20              # seconds for a whole fetch, body included
MAX_FEED_BYTES = 10 * 1024 * 1024      # a feed document larger than this is refused while streaming
MAX_REDIRECTS = 5
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
USER_AGENT = "newsbot/0.1 (RSS reader; +https://github.com/)"
ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"


@dataclass(frozen=True, slots=True)
class Fetched:
    status: int                      # 200 or 304
    body: bytes
    url: str                         # after redirects
    content_type: str
    etag: str | None
    last_modified: str | None


async def fetch_feed(
    session: FeedSession, url: str, *, etag: str | None = None, last_modified: str | None = None,
    timeout: float = DEFAULT_HTTP_TIMEOUT, max_bytes: int = MAX_FEED_BYTES,
) -> Fetched:
    """GET with If-None-Match / If-Modified-Since. Raises FeedError; a 304 is a Fetched with no body.

    Redirects are followed here, not by aiohttp, at most MAX_REDIRECTS of them, and each new URL is
    checked like the first (scheme, credentials, addresses) before it is requested.
    """
    assert session.http is not None, "use the FeedSession with async with"
    headers = {"User-Agent": USER_AGENT, "Accept": ACCEPT}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    current = check_url(url, session.policy)
    try:
        # One deadline for connect, redirects and body: a server dripping bytes cannot hold a poll.
        async with asyncio.timeout(timeout):
            for _ in range(MAX_REDIRECTS + 1):
                async with session.http.get(
                    current, headers=headers, allow_redirects=False, timeout=aiohttp.ClientTimeout(total=timeout),
                ) as resp:
                    if resp.status in REDIRECT_STATUSES:
                        current = _next_hop(current, resp.headers.get("Location"), session)
                        continue
                    return await _read(resp, str(current), etag, last_modified, max_bytes)
            raise FeedError("too_many_redirects", f"more than {MAX_REDIRECTS} redirects")
    except TimeoutError as exc:
        raise FeedError("timeout", f"no complete answer within {timeout:g} s") from exc
    except aiohttp.ClientResponseError as exc:
        raise FeedError("http_status", f"HTTP {exc.status}") from exc
    except (aiohttp.ClientError, OSError) as exc:
        blocked = blocked_cause(exc)
        if blocked is not None:
            raise blocked from None
        if isinstance(exc, aiohttp.InvalidURL):
            raise FeedError("bad_url", f"cannot follow {exc}") from exc
        raise FeedError("network", str(exc) or exc.__class__.__name__) from exc


def _next_hop(current: URL, location: str | None, session: FeedSession) -> URL:
    if not location:
        raise FeedError("http_status", "redirect without a Location")
    try:
        target = current.join(URL(location))
    except (ValueError, TypeError) as exc:
        raise FeedError("bad_url", f"cannot follow redirect to {location[:200]!r}") from exc
    try:
        return check_url(target, session.policy)
    except FeedError as exc:
        if exc.reason == "bad_scheme":  # file:, ftp:, javascript: …
            raise FeedError("bad_url", f"cannot follow redirect to {str(target)[:200]}") from None
        raise


async def _read(resp: aiohttp.ClientResponse, final: str, etag: str | None, last_modified: str | None,
                max_bytes: int) -> Fetched:
    if resp.status == 304:
        return Fetched(304, b"", final, "", etag, last_modified)
    if not 200 <= resp.status < 300:
        raise FeedError("http_status", f"HTTP {resp.status}")
    if resp.content_length is not None and resp.content_length > max_bytes:
        raise FeedError("too_large", f"{resp.content_length // 1024} KB > {max_bytes // 1024} KB")
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > max_bytes:
            raise FeedError("too_large", f"more than {max_bytes // 1024} KB")
        chunks.append(chunk)
    return Fetched(
        resp.status, b"".join(chunks), final, resp.headers.get("Content-Type", ""),
        resp.headers.get("ETag"), resp.headers.get("Last-Modified"),
    )


async def inspect_url(url: str, session: FeedSession, timeout: float, max_bytes: int,
                      workers: WorkerPool | None = None) -> tuple[int, str | None, str]:
    """(items, newest item title, feed title) for add_feed's answer; the document is parsed in a worker."""
    fetched = await fetch_feed(session, url, timeout=timeout, max_bytes=max_bytes)
    try:
        got = await (workers or shared_pool()).run(DOCUMENT_BUDGET, inspect_document, fetched.body, fetched.url,
                                                   fetched.content_type)
    except (TookTooLong, WorkerFailed) as exc:
        raise FeedError("not_a_feed", str(exc)) from None
    if isinstance(got, NotAFeed):
        raise got.error()
    return got
