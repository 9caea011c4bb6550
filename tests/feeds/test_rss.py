"""RSS/Atom feeds (bot/feeds/{fetch,poller}.py, bot/core/feed_items.py) against a real local aiohttp server: conditional GET, errors, limits,
redirects, and item identity (reordered, rewritten, undated items). Fixture feeds: tests/fixtures/feeds/."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import feedparser
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.core.feed_items import entry_source, entry_to_article
from bot.feeds.egress import EgressPolicy
from bot.feeds.manage import AddResult, FeedError, add_feed, get_feed
from bot.feeds.poller import poll_due_feeds, poll_feed
from storage.db import open_db
from tests.support.paths import FIXTURES as FIXTURES_ROOT

FIXTURES = FIXTURES_ROOT / "feeds"
T0 = datetime(2024, 5, 20, 12, 0, tzinfo=timezone.utc)
ETAG = '"v1-abc"'
LOCAL = EgressPolicy.allowing("127.0.0.1/32")  # the fixture server is on loopback: allowed explicitly
LAST_MODIFIED = "Mon, 20 May 2024 11:00:00 GMT"


class FeedServer:
    """Serves fixture documents at /<name>; tests swap documents and read back the request headers."""

    def __init__(self) -> None:
        self.docs: dict[str, bytes] = {
            "rss": (FIXTURES / "rss2.xml").read_bytes(),
            "atom": (FIXTURES / "atom.xml").read_bytes(),
            "undated": (FIXTURES / "no_dates.xml").read_bytes(),
            "malformed": (FIXTURES / "malformed.xml").read_bytes(),
            "truncated": (FIXTURES / "truncated.xml").read_bytes(),
            "page": (FIXTURES / "not_a_feed.html").read_bytes(),
        }
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.conditional = True
        self.slow_seconds = 2.0
        app = web.Application()
        app.router.add_get("/status/{code}", self.status)
        app.router.add_get("/slow", self.slow)
        app.router.add_get("/big-declared", self.big_declared)
        app.router.add_get("/big-streamed", self.big_streamed)
        app.router.add_get("/redirect/{n}", self.redirect)
        app.router.add_get("/to-file", self.to_file)
        app.router.add_get("/{name}", self.doc)
        self.server = TestServer(app)

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))

    async def doc(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        self.requests.append((name, dict(request.headers)))
        if name not in self.docs:
            raise web.HTTPNotFound()
        if self.conditional and (request.headers.get("If-None-Match") == ETAG
                                 or request.headers.get("If-Modified-Since") == LAST_MODIFIED):
            return web.Response(status=304, headers={"ETag": ETAG})
        ctype = "text/html" if name == "page" else "application/rss+xml; charset=utf-8"
        return web.Response(body=self.docs[name], content_type=ctype.split(";")[0], charset="utf-8",
                            headers={"ETag": ETAG, "Last-Modified": LAST_MODIFIED} if self.conditional else {})

    async def status(self, request: web.Request) -> web.Response:
        return web.Response(status=int(request.match_info["code"]), text="oops")

    async def slow(self, request: web.Request) -> web.Response:
        await asyncio.sleep(self.slow_seconds)
        return web.Response(body=self.docs["rss"])

    async def big_declared(self, request: web.Request) -> web.Response:
        return web.Response(body=b"<rss>" + b" " * 200_000 + b"</rss>")

    async def big_streamed(self, request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()  # chunked: no Content-Length to check up front
        await resp.prepare(request)
        for _ in range(100):
            await resp.write(b"<!-- padding -->" * 1024)
        await resp.write_eof()
        return resp

    async def redirect(self, request: web.Request) -> web.Response:
        n = int(request.match_info["n"])
        raise web.HTTPFound("/rss" if n <= 0 else f"/redirect/{n - 1}")

    async def to_file(self, request: web.Request) -> web.Response:
        raise web.HTTPFound("file:///etc/passwd")


@pytest.fixture
async def server():
    s = FeedServer()
    await s.server.start_server()
    try:
        yield s
    finally:
        await s.server.close()


@pytest.fixture
async def db(tmp_path):
    async with open_db(tmp_path / "rss.sqlite3") as database:
        yield database


async def add_url(db, url: str, category: tuple[str, ...] = ()):
    got = await add_feed(db, url, category, validate=False, now=T0, egress=LOCAL)
    assert isinstance(got, AddResult), got
    return got.feed


async def poll(db, feed_id: int, now: datetime = T0, **kw):
    return await poll_feed(db, await get_feed(db, feed_id), now=now, interval=300, egress=LOCAL, **kw)


async def stored(db, feed_id: int) -> dict[str, dict]:
    rows = await db.fetchall("SELECT * FROM articles WHERE feed_id = ? ORDER BY id", (feed_id,))
    return {r["title"]: dict(r) for r in rows}


# ---------------------------------------------------------------- formats and fields
async def test_rss2_items_become_articles(db, server):
    feed = await add_url(db, server.url("/rss"))
    r = await poll(db, feed.id)
    assert (r.error, r.items, r.new, r.rejected) == (None, 3, 3, [])
    arts = await stored(db, feed.id)
    solar = arts["Solar farm opens & powers 20,000 homes"]
    assert solar["url"] == "https://news.example.org/2024/05/solar-farm"
    assert solar["source"] == "tag:news.example.org,2024:solar-farm"
    assert solar["published"] == int(datetime(2024, 5, 14, 8, 30, tzinfo=timezone.utc).timestamp())
    assert solar["author"] == "Ada Writer" and solar["categories"] == '["Energy", "Solar"]'
    assert solar["image_url"] == "https://img.example.org/solar.jpg"
    # content:encoded preferred over the teaser, cleaned: no script, no editor credit
    assert solar["body"].startswith("The new solar farm")
    assert "alert" not in solar["body"] and "责任编辑" not in solar["body"]
    bikes = arts["City council approves new bicycle lanes"]
    assert bikes["image_url"] == "https://img.example.org/bikes.png"  # from the enclosure
    assert bikes["published"] == int(datetime(2024, 5, 13, 15, 0, tzinfo=timezone.utc).timestamp())
    assert bikes["categories"] == '["Fixture Tech News"]'  # no tags, no configured category: the feed title
    summary = await db.fetchone("SELECT sentences FROM summaries WHERE article_id = ?", (solar["id"],))
    assert "solar farm" in summary["sentences"]


async def test_configured_category_is_used_for_items_without_tags(db, server):
    feed = await add_url(db, server.url("/rss"), ("科技", "新闻"))
    await poll(db, feed.id)
    cats = {t: a["categories"] for t, a in (await stored(db, feed.id)).items()}
    assert cats["City council approves new bicycle lanes"] == '["科技", "新闻"]'
    assert cats["Solar farm opens & powers 20,000 homes"] == '["Energy", "Solar"]'


async def test_atom_entries_become_articles(db, server):
    feed = await add_url(db, server.url("/atom"))
    r = await poll(db, feed.id)
    assert (r.error, r.new) == (None, 2)
    arts = await stored(db, feed.id)
    rover = arts["Rover finds ancient lake bed"]  # type="html" title: markup stripped
    assert rover["url"] == "https://atom.example.net/rover-lake"
    assert rover["published"] == int(datetime(2024, 5, 14, 0, 0, tzinfo=timezone.utc).timestamp())
    assert rover["author"] == "Grace Reporter" and rover["categories"] == '["Space"]'
    assert rover["image_url"] == "https://img.example.net/lake.jpg"
    assert rover["body"].split("\n") == [
        "The rover's cameras showed layered rock that scientists say formed at the bottom of a lake three billion "
        "years ago.",
        "The team will drill a sample next week.",
    ]
    probe = arts["探测器传回新照片"]
    assert probe["language"] == "zh" and probe["categories"] == '["Fixture Atom Journal"]'
    assert probe["published"] == int(datetime(2024, 5, 13, 12, 0, tzinfo=timezone.utc).timestamp())


# ---------------------------------------------------------------- conditional GET
async def test_not_modified_sends_validators_and_stores_nothing(db, server):
    feed = await add_url(db, server.url("/rss"))
    first = await poll(db, feed.id)
    assert first.new == 3 and "If-None-Match" not in server.requests[-1][1]
    info = await get_feed(db, feed.id)
    assert (info.etag, info.last_modified) == (ETAG, LAST_MODIFIED)

    second = await poll(db, feed.id, T0 + timedelta(minutes=5))
    headers = server.requests[-1][1]
    assert headers["If-None-Match"] == ETAG and headers["If-Modified-Since"] == LAST_MODIFIED
    assert second.not_modified and (second.new, second.known, second.error) == (0, 0, None)
    info = await get_feed(db, feed.id)
    assert info.etag == ETAG and info.last_success == T0 + timedelta(minutes=5)


async def test_server_without_validators_clears_stored_ones(db, server):
    feed = await add_url(db, server.url("/rss"))
    await poll(db, feed.id)
    server.conditional = False
    r = await poll(db, feed.id, T0 + timedelta(minutes=5))
    assert (r.not_modified, r.known, r.new) == (False, 3, 0)
    info = await get_feed(db, feed.id)
    assert (info.etag, info.last_modified) == (None, None)


# ---------------------------------------------------------------- failures
async def test_http_500_is_a_failure(db, server):
    feed = await add_url(db, server.url("/status/500"))
    r = await poll(db, feed.id)
    assert r.error.reason == "http_status" and r.error.detail == "HTTP 500"
    info = await get_feed(db, feed.id)
    assert info.failures == 1 and info.last_error == "http_status: HTTP 500"


async def test_timeout_is_a_failure(db, server):
    feed = await add_url(db, server.url("/slow"))
    started = asyncio.get_running_loop().time()
    r = await poll(db, feed.id, http_timeout=0.3)
    assert r.error.reason == "timeout"
    assert asyncio.get_running_loop().time() - started < 1.5


@pytest.mark.parametrize("path", ["/big-declared", "/big-streamed"])
async def test_oversized_body_is_refused(db, server, path):
    feed = await add_url(db, server.url(path))
    r = await poll(db, feed.id, max_bytes=50_000)
    assert r.error.reason == "too_large"


@pytest.mark.parametrize("name, reason", [("malformed", "not_a_feed"), ("page", "not_a_feed")])
async def test_documents_that_are_not_feeds(db, server, name, reason):
    feed = await add_url(db, server.url(f"/{name}"))
    r = await poll(db, feed.id)
    assert r.error.reason == reason and r.new == 0


async def test_truncated_feed_keeps_what_was_salvaged(db, server):
    feed = await add_url(db, server.url("/truncated"))
    r = await poll(db, feed.id)
    assert r.error is None and r.new == 1
    assert list(await stored(db, feed.id)) == ["Only this item survived the cut"]


async def test_redirects_are_followed_within_reason(db, server):
    ok = await add_url(db, server.url("/redirect/3"))
    r = await poll(db, ok.id)
    assert (r.error, r.new) == (None, 3)
    too_many = await add_url(db, server.url("/redirect/9"))
    r = await poll(db, too_many.id)
    assert r.error.reason == "too_many_redirects"
    to_file = await add_url(db, server.url("/to-file"))
    r = await poll(db, to_file.id)
    assert r.error.reason == "bad_url"


async def test_connection_refused_is_a_network_failure(db, server):
    url = server.url("/rss")
    await server.server.close()
    feed = await add_url(db, url)
    r = await poll(db, feed.id)
    assert r.error.reason == "network"


# ---------------------------------------------------------------- identity of items
async def test_reordered_items_are_not_new(db, server):
    feed = await add_url(db, server.url("/rss"))
    server.conditional = False
    await poll(db, feed.id)
    server.docs["rss"] = (FIXTURES / "rss2_reordered.xml").read_bytes()
    r = await poll(db, feed.id, T0 + timedelta(minutes=5))
    assert (r.new, r.same_story, r.updated, r.known, r.new_article_ids) == (0, 0, 0, 3, [])


async def test_rewritten_item_updates_without_counting_as_new(db, server):
    feed = await add_url(db, server.url("/rss"))
    server.conditional = False
    await poll(db, feed.id)
    server.docs["rss"] = (FIXTURES / "rss2_rewritten.xml").read_bytes()
    r = await poll(db, feed.id, T0 + timedelta(minutes=5))
    assert (r.new, r.updated, r.known, r.new_article_ids) == (0, 1, 2, [])
    solar = (await stored(db, feed.id))["Solar farm opens & powers 20,000 homes"]
    assert "twenty-two thousand" in solar["body"]


async def test_items_without_dates_or_guids_are_stable(db, server):
    feed = await add_url(db, server.url("/undated"))
    server.conditional = False
    r = await poll(db, feed.id)
    assert (r.new, len(r.rejected)) == (2, 1)
    assert r.rejected[0][1] == "item has no title and no text"
    arts = await stored(db, feed.id)
    ferry, market = arts["Harbour ferry timetable changes"], arts["Market hall reopens after repairs"]
    assert ferry["source"] == "https://undated.example.com/ferry"  # no guid: the link
    assert market["source"].startswith("h:") and market["url"] is None  # neither: a hash of the title
    assert ferry["published"] == int(T0.timestamp()) and "date_guessed" in ferry["flags"]
    later = await poll(db, feed.id, T0 + timedelta(hours=1))
    assert (later.new, later.known) == (0, 2)


async def test_same_story_in_two_feeds_shares_a_story_key(db, server):
    a = await add_url(db, server.url("/rss"))
    server.docs["copy"] = server.docs["rss"]
    b = await add_url(db, server.url("/copy"))
    await poll(db, a.id)
    r = await poll(db, b.id)
    # different feed, same content and categories: recognised as duplicates, nothing to push again
    assert r.new == 0 and r.new_article_ids == [] and r.duplicate == 3


# ---------------------------------------------------------------- add_feed for URLs
async def test_add_feed_validates_url_and_reports_what_it_found(db, server):
    got = await add_feed(db, server.url("/rss"), now=T0, egress=LOCAL)
    assert isinstance(got, AddResult) and got.created
    assert got.items == 3 and got.newest_title == "Solar farm opens & powers 20,000 homes"
    assert got.feed.name == "Fixture Tech News" and got.feed.kind == "rss"
    # validation kept no ETag: the first poll fetches everything
    r = await poll(db, got.feed.id)
    assert r.new == 3 and not r.not_modified


@pytest.mark.parametrize("path, reason", [("/page", "not_a_feed"), ("/status/404", "http_status"),
                                          ("/malformed", "not_a_feed")])
async def test_add_feed_refuses_urls_that_are_not_feeds(db, server, path, reason):
    got = await add_feed(db, server.url(path), now=T0, egress=LOCAL)
    assert isinstance(got, FeedError) and got.reason == reason
    assert (await db.fetchone("SELECT COUNT(*) FROM feeds"))[0] == 0


async def test_add_feed_timeout(db, server):
    got = await add_feed(db, server.url("/slow"), http_timeout=0.3, now=T0, egress=LOCAL)
    assert isinstance(got, FeedError) and got.reason == "timeout"


async def test_rss_failures_back_off_and_notify_once(db, server):
    feed = await add_url(db, server.url("/status/503"))
    now, kinds = T0, []
    for _ in range(7):
        done = await poll_due_feeds(db, now=now, interval=60, egress=LOCAL)
        kinds += [n.kind for n in done.notices]
        now = (await get_feed(db, feed.id)).next_poll_at
    assert kinds == ["failing"]
    assert now - T0 == timedelta(seconds=60 * (1 + 2 + 4 + 8 + 16 + 32 + 64))


# ---------------------------------------------------------------- pure item mapping
def test_entry_source_prefers_guid_then_link_then_hash():
    parsed = feedparser.parse((FIXTURES / "no_dates.xml").read_bytes())
    again = feedparser.parse((FIXTURES / "no_dates.xml").read_bytes())
    assert entry_source(parsed.entries[0]) == "https://undated.example.com/ferry"
    assert entry_source(parsed.entries[1]) == entry_source(again.entries[1])
    assert entry_source(parsed.entries[1]).startswith("h:")


def test_future_dates_are_clamped_to_now():
    doc = b"""<rss version="2.0"><channel><title>F</title><item><title>From the future</title>
    <guid>f1</guid><pubDate>Fri, 01 Jan 2100 00:00:00 GMT</pubDate><description>Text.</description>
    </item></channel></rss>"""
    entry = feedparser.parse(doc).entries[0]
    art = entry_to_article(entry, feed_id=1, now=T0)
    assert art.published == T0 and "date_in_future" in art.flags


def test_non_http_links_and_images_are_dropped():
    doc = b"""<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel><title>F</title><item>
    <title>Sneaky links</title><link>javascript:alert(1)</link><guid>s1</guid>
    <media:content url="file:///etc/passwd" medium="image"/><description>Body text.</description>
    </item></channel></rss>"""
    art = entry_to_article(feedparser.parse(doc).entries[0], feed_id=1, now=T0)
    assert art.url is None and art.image_url is None


async def test_unchanged_items_are_not_summarised_again(db, server):
    calls: list[str] = []

    def counting(article):
        calls.append(article.title)
        return [article.title], 1

    feed = await add_url(db, server.url("/rss"))
    server.conditional = False
    await poll(db, feed.id, summariser=counting)
    assert len(calls) == 3
    server.docs["rss"] = (FIXTURES / "rss2_rewritten.xml").read_bytes()
    r = await poll(db, feed.id, T0 + timedelta(minutes=5), summariser=counting)
    assert (r.known, r.updated) == (2, 1)
    assert calls[3:] == ["Solar farm opens & powers 20,000 homes"]


def test_plain_text_titles_keep_angle_brackets():
    doc = b"""<rss version="2.0"><channel><title>F</title><item><title>Why 3 &lt; 5 and 7 &gt; 2 matter</title>
    <guid>m1</guid><description>Maths.</description></item></channel></rss>"""
    art = entry_to_article(feedparser.parse(doc).entries[0], feed_id=1, now=T0)
    assert art.title == "Why 3 < 5 and 7 > 2 matter"


# ---------------------------------------------------------------- caps: items per fetch, new per poll and per day
WORDS = ("harbour", "orchard", "glacier", "meadow", "canyon", "lantern", "violin", "compass", "thunder", "pepper")


def many_items(n: int, series: str = "s", oldest_first: bool = False) -> bytes:
    """An RSS document of n distinct items, item i dated i minutes before T0 (newest first unless oldest_first)."""
    from email.utils import format_datetime

    def item(i: int) -> str:
        words = " ".join(WORDS[int(d)] for d in f"{i:04d}")
        return (f"<item><title>{series} {words}</title><guid>{series}-{i}</guid>"
                f"<pubDate>{format_datetime(T0 - timedelta(minutes=i))}</pubDate>"
                f"<description>The {words} report, part {series}, has its own paragraph of text.</description></item>")

    order = range(n - 1, -1, -1) if oldest_first else range(n)
    return ('<?xml version="1.0"?><rss version="2.0"><channel><title>Many</title>'
            + "".join(item(i) for i in order) + "</channel></rss>").encode()


async def test_only_the_newest_items_of_a_huge_document_are_looked_at(db, server):
    from bot.feeds.poller import Limits

    server.docs["many"] = many_items(50, oldest_first=True)
    feed = await add_url(db, server.url("/many"))
    r = await poll(db, feed.id, limits=Limits(items_per_fetch=10))
    assert (r.error, r.items, r.over_cap, r.new, r.deferred) == (None, 50, 40, 10, 0)
    newest = {f"s-{i}" for i in range(10)}
    assert {a["source"].rsplit("/", 1)[-1] for a in (await stored(db, feed.id)).values()} == newest


async def test_new_articles_per_poll_are_capped_and_the_rest_wait_their_turn(db, server):
    from bot.feeds.poller import Limits

    server.conditional = False
    server.docs["many"] = many_items(30)
    feed = await add_url(db, server.url("/many"))
    limits = Limits(items_per_fetch=100, new_per_poll=12, new_per_day=1000)
    got = []
    for k in range(4):
        r = await poll(db, feed.id, T0 + timedelta(minutes=5 * k), limits=limits)
        got.append((r.new, r.deferred, r.known))
    assert got == [(12, 18, 0), (12, 6, 12), (6, 0, 24), (0, 0, 30)]
    first = sorted(int(a["source"].rsplit("-", 1)[1]) for a in (await stored(db, feed.id)).values())
    assert first == list(range(30))


async def test_a_publisher_rotating_guids_hits_the_daily_cap(db, server):
    from bot.feeds.poller import Limits

    server.conditional = False
    feed = await add_url(db, server.url("/rotating"))
    limits = Limits(items_per_fetch=100, new_per_poll=15, new_per_day=40)
    news = []
    for k in range(5):
        server.docs["rotating"] = many_items(20, series=f"r{k}")  # every poll: 20 "new" items
        r = await poll(db, feed.id, T0 + timedelta(minutes=5 * k), limits=limits)
        news.append((r.new, r.deferred))
    assert news == [(15, 5), (15, 5), (10, 10), (0, 20), (0, 20)]
    server.docs["rotating"] = many_items(20, series="tomorrow")
    r = await poll(db, feed.id, T0 + timedelta(hours=25), limits=limits)
    assert r.new == 15  # a day later the budget is back
    assert (await db.fetchone("SELECT COUNT(*) FROM articles WHERE feed_id = ?", (feed.id,)))[0] == 55


async def test_a_known_item_costs_nothing_on_each_poll(db, server, monkeypatch):
    """Identity and fingerprint are checked before the clean: a repeated item is never built or summarised."""
    from bot.feeds.tasks import build_item
    from bot.feeds.workers import WorkerPool

    built: list[str] = []

    class Counting(WorkerPool):  # items are built in worker processes: count what is sent to them
        async def run(self, budget, func, *args):
            if func is build_item:
                built.append(args[0].get("id"))
            return await super().run(budget, func, *args)

    workers = Counting(1)
    summarised: list[str] = []

    def counting(article):
        summarised.append(article.title)
        return [article.title], 1

    server.conditional = False
    feed = await add_url(db, server.url("/rss"))
    first = await poll(db, feed.id, summariser=counting, workers=workers)
    assert (first.new, len(built), len(summarised)) == (3, 3, 3)
    for k in range(1, 4):
        again = await poll(db, feed.id, T0 + timedelta(minutes=5 * k), summariser=counting, workers=workers)
        assert (again.new, again.known, again.updated) == (0, 3, 0)
    assert (len(built), len(summarised)) == (3, 3)
    server.docs["rss"] = (FIXTURES / "rss2_rewritten.xml").read_bytes()  # one item rewritten: only it is built
    r = await poll(db, feed.id, T0 + timedelta(hours=1), summariser=counting, workers=workers)
    assert (r.updated, r.known, len(built), len(summarised)) == (1, 2, 4, 4)
    workers.close()


async def test_a_ten_thousand_item_feed_stores_a_bounded_batch(db, server):
    server.docs["flood"] = many_items(10_000, series="flood")
    feed = await add_url(db, server.url("/flood"))
    r = await poll(db, feed.id, max_bytes=20 * 1024 * 1024)
    assert (r.error, r.items, r.over_cap, r.new, r.deferred) == (None, 10_000, 9_900, 100, 0)
