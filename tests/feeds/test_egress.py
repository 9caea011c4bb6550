"""Egress policy (bot/feeds/egress.py): feeds reach public addresses only, in every spelling, on every hop.

A real aiohttp server on 127.0.0.1 plays the internal service; a fake resolver plays DNS (names that
resolve to internal addresses, and a name whose answer changes between the check and the connect).
"""
from __future__ import annotations

import ipaddress
import socket
from datetime import datetime, timezone
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver
from aiohttp.test_utils import TestServer

from bot.core.catalogue import en, zh
from bot.core.errors import FeedError
from bot.core.i18n import t
from bot.core.settings import SettingsError, settings_from
from bot.feeds.egress import STRICT, EgressPolicy, check_url, embedded_ipv4, literal_address
from bot.feeds.manage import AddResult, add_feed, get_feed, import_feeds, list_feeds, register_feeds
from bot.feeds.poller import Limits, poll_due_feeds, poll_feed
from storage.db import open_db
from tests.support.paths import FIXTURES

T0 = datetime(2024, 5, 20, 12, 0, tzinfo=timezone.utc)
LOCAL = EgressPolicy.allowing("127.0.0.1/32")
RSS = (FIXTURES / "feeds" / "rss2.xml").read_bytes()

HOSTILE = [
    "http://2852039166/latest/meta-data/",          # 169.254.169.254 as one decimal number
    "http://0x7f.1/",                                # 127.0.0.1, hex and short form
    "http://017700000001/",                          # 127.0.0.1 in octal
    "http://127.1/",
    "http://[::1]:6379/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://0.0.0.0:8080/",
    "http://[::]/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[fd00:ec2::254]/",                       # AWS metadata over IPv6
    "http://100.100.100.200/",                       # Alibaba Cloud metadata (CGNAT range)
    "http://100.64.0.1/",                            # CGNAT
    "http://10.0.0.1/", "http://172.16.5.4/", "http://192.168.1.1/",
    "http://224.0.0.1/", "http://[ff02::1]/",        # multicast
    "http://240.0.0.1/", "http://255.255.255.255/",  # reserved, broadcast
    "http://[fe80::1]/",                             # link-local
    "http://[64:ff9b::7f00:1]/",                     # NAT64 of 127.0.0.1
    "http://[2002:7f00:1::]/",                       # 6to4 of 127.0.0.1
    "http://[2002:a9fe:a9fe::]/",                    # 6to4 of 169.254.169.254
    "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/",  # Teredo, client 127.0.0.1
    "http://localhost:8080/",                        # a name that resolves to loopback
    "HTTP://LOCALHOST/feed",
]


class FakeDNS(AbstractResolver):
    """Answers from a table; a list of answers is used one per lookup (the last one repeats)."""

    def __init__(self, table: dict[str, list[list[str]]]) -> None:
        self.table, self.asked = table, []

    async def resolve(self, host, port=0, family=socket.AF_INET):
        self.asked.append(host)
        answers = self.table.get(host)
        if not answers:
            raise OSError(socket.EAI_NONAME, f"{host} not found")
        addresses = answers.pop(0) if len(answers) > 1 else answers[0]
        return [{"hostname": host, "host": a, "port": port,
                 "family": socket.AF_INET6 if ":" in a else socket.AF_INET, "proto": 0,
                 "flags": socket.AI_NUMERICHOST} for a in addresses]

    async def close(self):
        pass


class Server:
    """A feed on 127.0.0.1, with redirects to wherever a test says."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.redirect_to = ""
        app = web.Application()
        app.router.add_get("/rss", self.rss)
        app.router.add_get("/bounce", self.bounce)
        self.server = TestServer(app, host="127.0.0.1")

    async def rss(self, request: web.Request) -> web.Response:
        self.requests.append(f"{request.host}{request.path}")
        return web.Response(body=RSS, content_type="application/rss+xml")

    async def bounce(self, request: web.Request) -> web.Response:
        self.requests.append(f"{request.host}{request.path}")
        raise web.HTTPFound(self.redirect_to)

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))

    @property
    def port(self) -> int:
        return self.server.port


@pytest.fixture
async def server():
    s = Server()
    await s.server.start_server()
    try:
        yield s
    finally:
        await s.server.close()


@pytest.fixture
async def db(tmp_path):
    async with open_db(tmp_path / "egress.sqlite3") as database:
        yield database


# ---------------------------------------------------------------- the policy, pure
@pytest.mark.parametrize("url", HOSTILE)
def test_every_spelling_of_an_internal_address_is_refused_or_resolved_later(url):
    host = url.split("//", 1)[1].split("/", 1)[0].rsplit(":", 1)[0] if "]" not in url else \
        url.split("[", 1)[1].split("]", 1)[0]
    if "localhost" in url.lower():
        assert literal_address(host) is None  # a name: vetted where it is resolved (below)
        return
    with pytest.raises(FeedError) as caught:
        check_url(url)
    assert caught.value.reason == "blocked_address", url


@pytest.mark.parametrize("spelling, address", [
    ("2852039166", "169.254.169.254"), ("0x7f.1", "127.0.0.1"), ("017700000001", "127.0.0.1"),
    ("127.1", "127.0.0.1"), ("[::1]", "::1"), ("0x7f000001", "127.0.0.1"), ("example.org", None),
    ("deadbeef", None), ("1e100.net", None),
])
def test_literal_addresses_are_read_the_way_resolvers_read_them(spelling, address):
    got = literal_address(spelling)
    assert (str(got) if got else None) == address


def test_embedded_ipv4_forms():
    assert str(embedded_ipv4(ipaddress.IPv6Address("::ffff:10.1.2.3"))) == "10.1.2.3"
    assert str(embedded_ipv4(ipaddress.IPv6Address("2002:c0a8:0101::"))) == "192.168.1.1"
    assert str(embedded_ipv4(ipaddress.IPv6Address("64:ff9b::a9fe:a9fe"))) == "169.254.169.254"
    assert embedded_ipv4(ipaddress.IPv6Address("2606:4700::1111")) is None


@pytest.mark.parametrize("address", ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111", "64:ff9b::808:808"])
def test_public_addresses_pass(address):
    assert STRICT.refusal(ipaddress.ip_address(address)) is None


def test_the_allow_list_opens_exactly_what_it_names():
    policy = EgressPolicy.allowing("127.0.0.1/32", "10.0.0.0/8")
    assert policy.refusal(ipaddress.ip_address("127.0.0.1")) is None
    assert policy.refusal(ipaddress.ip_address("::ffff:127.0.0.1")) is None  # the same address, mapped
    assert policy.refusal(ipaddress.ip_address("10.20.30.40")) is None
    assert policy.refusal(ipaddress.ip_address("127.0.0.2")).reason == "blocked_address"
    assert policy.refusal(ipaddress.ip_address("192.168.0.1")).reason == "blocked_address"
    assert policy.refusal(ipaddress.ip_address("::1")).reason == "blocked_address"


@pytest.mark.parametrize("url", ["http://user:pw@10.0.0.1/", "https://admin@example.org/feed", "http://:pw@example.org/"])
def test_urls_with_credentials_are_refused(url):
    with pytest.raises(FeedError) as caught:
        check_url(url)
    assert caught.value.reason == "credentials"


def test_settings_read_the_allow_list_and_refuse_nonsense():
    s = settings_from({"NEWSBOT_ALLOW_PRIVATE_NETWORKS": "127.0.0.1/32, 10.0.0.0/8;fd00::/8"})
    assert [str(n) for n in s.private_networks] == ["127.0.0.1/32", "10.0.0.0/8", "fd00::/8"]
    assert not s.allow_private_networks
    assert settings_from({}).private_networks == () and not settings_from({}).allow_private_networks
    with pytest.raises(SettingsError, match="NEWSBOT_ALLOW_PRIVATE_NETWORKS"):
        settings_from({"NEWSBOT_ALLOW_PRIVATE_NETWORKS": "intranet"})


@pytest.mark.parametrize("value, on", [("1", True), ("true", True), ("TRUE", True), ("0", False), ("false", False),
                                       ("", False)])
def test_allow_private_networks_is_a_switch_too(value, on):
    s = settings_from({"NEWSBOT_ALLOW_PRIVATE_NETWORKS": value})
    assert s.allow_private_networks is on and s.private_networks == ()
    policy = EgressPolicy.of(s)
    for address in ("127.0.0.1", "10.1.2.3", "192.168.1.20", "169.254.10.1", "::1", "fd12::1", "::ffff:10.0.0.1"):
        assert (policy.refusal(ipaddress.ip_address(address)) is None) is on, address
    # Never, even for a LAN: cloud metadata endpoints, multicast; public addresses are always fine.
    for address in ("169.254.169.254", "fd00:ec2::254", "224.0.0.1", "::ffff:169.254.169.254"):
        assert policy.refusal(ipaddress.ip_address(address)) is not None, address
    assert policy.refusal(ipaddress.ip_address("93.184.216.34")) is None


@pytest.mark.parametrize("old, new", [("NEWSBOT_FEEDS_ALLOW", "NEWSBOT_ALLOW_PRIVATE_NETWORKS"),
                                      ("NEWSBOT_FOLDER_ROOTS", "NEWSBOT_FEED_ROOTS")])
def test_an_old_setting_name_stops_start_up_naming_the_new_one(old, new):
    with pytest.raises(SettingsError, match=f"{old}: renamed to {new}"):
        settings_from({old: "127.0.0.1/32"})


def test_feed_roots_are_colon_separated_and_caps_have_defaults():
    s = settings_from({"NEWSBOT_FEED_ROOTS": "/srv/blogs:/home/ann/posts:"})
    assert s.feed_roots == (Path("/srv/blogs"), Path("/home/ann/posts"))
    assert settings_from({}).feed_roots == ()
    assert (s.max_items_per_fetch, s.max_new_per_feed_day) == (100, 1000)
    s = settings_from({"NEWSBOT_MAX_ITEMS_PER_FETCH": "20", "NEWSBOT_MAX_NEW_PER_FEED_DAY": "50"})
    assert Limits.of(s) == Limits(items_per_fetch=20, new_per_day=50)
    for var in ("NEWSBOT_MAX_ITEMS_PER_FETCH", "NEWSBOT_MAX_NEW_PER_FEED_DAY"):
        with pytest.raises(SettingsError, match=var):
            settings_from({var: "0"})


def test_blocked_address_has_a_message_in_both_catalogues():
    for lang, catalogue in (("en", en.MESSAGES), ("zh", zh.MESSAGES)):
        for reason in ("blocked_address", "credentials", "folder_not_allowed"):
            assert f"feed_err_{reason}" in catalogue
        text = t(lang, "feed_err_blocked_address", detail="127.0.0.1 is a loopback address")
        assert "127.0.0.1" in text and "NEWSBOT_ALLOW_PRIVATE_NETWORKS" in text
        assert "NEWSBOT_FEED_ROOTS" in t(lang, "feed_err_folder_not_allowed", detail="/etc")


# ---------------------------------------------------------------- adding feeds
@pytest.mark.parametrize("url", HOSTILE + ["http://user:pw@10.0.0.1/"])
@pytest.mark.parametrize("validate", [False, True])
async def test_add_feed_refuses_internal_addresses(db, url, validate):
    got = await add_feed(db, url, validate=validate, now=T0, http_timeout=2)
    assert isinstance(got, FeedError) and got.reason in ("blocked_address", "credentials"), got
    assert await list_feeds(db) == []


async def test_loopback_is_refused_without_the_allowance_and_fetched_with_it(db, server):
    got = await add_feed(db, server.url("/rss"), now=T0)
    assert isinstance(got, FeedError) and got.reason == "blocked_address"
    assert "127.0.0.1 is a loopback address" in got.detail
    assert server.requests == []
    got = await add_feed(db, server.url("/rss"), now=T0, egress=LOCAL)
    assert isinstance(got, AddResult) and got.items == 3
    assert server.requests == [f"127.0.0.1:{server.port}/rss"]


async def test_a_name_resolving_to_an_internal_address_is_refused(db, server):
    dns = FakeDNS({"feeds.example.com": [["93.184.216.34", "10.0.0.7"]]})  # ANY bad address refuses
    got = await add_feed(db, "http://feeds.example.com/rss", validate=False, now=T0, resolver=dns)
    assert isinstance(got, FeedError) and got.reason == "blocked_address" and "10.0.0.7" in got.detail
    assert dns.asked == ["feeds.example.com"]


async def test_the_connection_goes_to_the_vetted_address(db, server):
    """The poll resolves through the guarded resolver and connects to what it vetted (127.0.0.1, allowed)."""
    dns = FakeDNS({"feeds.example.com": [["127.0.0.1"]]})
    got = await add_feed(db, f"http://feeds.example.com:{server.port}/rss", validate=False, now=T0,
                         egress=LOCAL, resolver=dns)
    assert isinstance(got, AddResult)
    r = await poll_feed(db, got.feed, now=T0, egress=LOCAL, resolver=dns)
    assert (r.error, r.new) == (None, 3)
    assert server.requests == [f"feeds.example.com:{server.port}/rss"]
    r = await poll_feed(db, await get_feed(db, got.feed.id), now=T0, resolver=dns)  # no allowance now
    assert r.error.reason == "blocked_address" and len(server.requests) == 1


async def test_dns_rebinding_between_the_check_and_the_connect_is_caught(db, server):
    dns = FakeDNS({"rebind.example.com": [["93.184.216.34"], ["127.0.0.1"]]})
    got = await add_feed(db, f"http://rebind.example.com:{server.port}/rss", validate=False, now=T0, resolver=dns)
    assert isinstance(got, AddResult)  # the check saw a public address
    r = await poll_feed(db, got.feed, now=T0, resolver=dns)
    assert r.error.reason == "blocked_address" and "127.0.0.1" in r.error.detail
    assert server.requests == []  # never connected


@pytest.mark.parametrize("target", [
    "http://169.254.169.254/latest/meta-data/", "http://[::1]:{port}/rss", "http://127.0.0.2:{port}/rss",
    "http://2130706433:{port}/rss", "http://user:pw@127.0.0.1:{port}/rss", "file:///etc/passwd",
])
async def test_redirects_to_internal_addresses_are_refused_hop_by_hop(db, server, target):
    server.redirect_to = target.format(port=server.port)
    got = await add_feed(db, server.url("/bounce"), validate=False, now=T0, egress=LOCAL)
    r = await poll_feed(db, got.feed, now=T0, egress=LOCAL)
    assert r.error is not None and r.error.reason in ("blocked_address", "credentials", "bad_url"), r.error
    assert server.requests == [f"127.0.0.1:{server.port}/bounce"]  # the first hop only


async def test_a_redirect_within_the_allowance_is_followed(db, server):
    server.redirect_to = "/rss"
    got = await add_feed(db, server.url("/bounce"), validate=False, now=T0, egress=LOCAL)
    r = await poll_feed(db, got.feed, now=T0, egress=LOCAL)
    assert (r.error, r.new) == (None, 3)


async def test_a_registered_internal_feed_is_refused_when_polled(db, server):
    """NEWSBOT_FEEDS is registered without DNS; a literal internal address is refused then, a name when polled."""
    (refused,) = await register_feeds(db, [server.url("/rss")], now=T0)
    assert isinstance(refused, FeedError) and refused.reason == "blocked_address"
    dns = FakeDNS({"intranet.example": [["127.0.0.1"]]})
    (got,) = await register_feeds(db, [f"http://intranet.example:{server.port}/rss"], now=T0)
    assert isinstance(got, AddResult)
    done = await poll_due_feeds(db, now=T0, force=True, resolver=dns)
    assert done.results[0].error.reason == "blocked_address" and server.requests == []


async def test_opml_import_refuses_internal_urls_and_folders(db, tmp_path):
    from bot.core.opml import OpmlEntry

    dns = FakeDNS({"intranet.example": [["192.168.10.10"]], "news.example.org": [["93.184.216.34"]]})
    entries = [OpmlEntry(loc, "", ()) for loc in (
        "http://0x7f.1/", "http://[::ffff:127.0.0.1]/", "http://user:pw@news.example.org/feed",
        "http://intranet.example/rss", str(tmp_path), "/etc", "https://news.example.org/feed")]
    report = await import_feeds(db, entries, now=T0, resolver=dns)
    assert [f.location for f in await list_feeds(db)] == ["https://news.example.org/feed"]
    reasons = {loc: why.split(":")[0] for loc, why in report.invalid}
    assert reasons == {
        "http://0x7f.1/": "blocked_address", "http://[::ffff:127.0.0.1]/": "blocked_address",
        "http://user:pw@news.example.org/feed": "credentials", "http://intranet.example/rss": "blocked_address",
        str(tmp_path): "folder_not_allowed", "/etc": "folder_not_allowed",
    }


async def test_folders_from_a_chat_only_below_the_roots(db, tmp_path):
    allowed, other = tmp_path / "blogs" / "mine", tmp_path / "elsewhere"
    allowed.mkdir(parents=True)
    other.mkdir()
    (tmp_path / "blogs" / "sneaky").symlink_to(other)
    roots = (tmp_path / "blogs",)
    assert isinstance(await add_feed(db, str(allowed), folder_roots=roots), AddResult)
    for refused in (other, tmp_path / "blogs" / "sneaky", tmp_path / "blogs" / ".." / "elsewhere", "/etc"):
        got = await add_feed(db, str(refused), folder_roots=roots)
        assert isinstance(got, FeedError) and got.reason == "folder_not_allowed", refused
    got = await add_feed(db, str(tmp_path / "blogs" / "missing"), folder_roots=roots)
    assert got.reason == "not_found"
    got = await add_feed(db, "/no/such/place", folder_roots=())  # nothing allowed: not even told it is missing
    assert got.reason == "folder_not_allowed"
