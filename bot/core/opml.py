"""OPML 2.0 export and import of the feed list. Pure: feeds in, bytes out; bytes in, entries out.

Import parses through defusedxml with DTDs forbidden: a DOCTYPE, an entity declaration or an external
reference is refused outright (no billion laughs, no external entities), and the document size, the
number of outlines and their nesting are capped. Folder feeds round-trip as
`<outline type="folder" path="…">`, which other readers ignore.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import format_datetime
from typing import Protocol

import defusedxml
import defusedxml.ElementTree as SafeET

from bot.core.errors import OpmlError
from bot.core.feed_items import redact_url

MAX_OPML_BYTES = 2 * 1024 * 1024
MAX_OUTLINES = 5000
MAX_DEPTH = 16

# Characters XML 1.0 cannot carry at all, even escaped.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_DECL = re.compile(r"\A\s*<\?xml[^>]*\?>", re.S)
_DECLARED_ENCODING = re.compile(rb"""\A\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_DTD_LIKE = re.compile(r"<!\s*(?:DOCTYPE|ENTITY)", re.I)
_SAFE_ENCODINGS = {"utf-8", "utf8", "us-ascii", "ascii", "iso-8859-1", "latin-1", "latin1"}


class FeedLike(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def location(self) -> str: ...
    @property
    def category(self) -> tuple[str, ...]: ...


@dataclass(frozen=True, slots=True)
class OpmlEntry:
    location: str                 # http(s) URL or folder path, as found (add_feed validates further)
    title: str
    category: tuple[str, ...]


@dataclass
class OpmlImport:
    entries: list[OpmlEntry] = field(default_factory=list)
    invalid: list[tuple[str, str]] = field(default_factory=list)  # (outline text or location, reason)


def _text(value: str) -> str:
    return _XML_INVALID.sub("", value)


def export_opml(feeds: Iterable[FeedLike], *, title: str = "newsbot feeds", now: datetime | None = None) -> bytes:
    """OPML 2.0 document listing the feeds; categories go in the standard `category` attribute."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = _text(title)
    ET.SubElement(head, "dateCreated").text = format_datetime((now or datetime.now(timezone.utc)), usegmt=True)
    body = ET.SubElement(root, "body")
    for feed in feeds:
        attrs = {"text": _text(feed.name), "title": _text(feed.name)}
        if feed.kind == "rss":
            attrs.update(type="rss", xmlUrl=_text(redact_url(feed.location)))  # never a password
        else:
            attrs.update(type="folder", path=_text(feed.location))
        if feed.category:
            # OPML 2.0: comma-separated, slash-delimited category paths.
            attrs["category"] = "/" + "/".join(_text(c).replace("/", "／").replace(",", "，") for c in feed.category)
        ET.SubElement(body, "outline", attrs)
    ET.indent(root)
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data + b"\n"


def _decode(data: bytes) -> str | OpmlError:
    if b"\x00" in data or data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return OpmlError("encoding", "only UTF-8 OPML is accepted")
    m = _DECLARED_ENCODING.match(data.removeprefix(b"\xef\xbb\xbf"))
    encoding = m.group(1).decode("ascii").lower() if m else "utf-8"
    if encoding not in _SAFE_ENCODINGS:
        # Checking the raw bytes for <!DOCTYPE is only sound for ASCII-compatible encodings.
        return OpmlError("encoding", f"unsupported encoding {encoding!r}")
    try:
        return data.decode("utf-8-sig" if encoding in ("utf-8", "utf8", "us-ascii", "ascii") else "latin-1")
    except UnicodeDecodeError:
        return OpmlError("encoding", "not valid UTF-8")


def _category(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    first = value.split(",")[0]
    return tuple(p.strip() for p in first.split("/") if p.strip())


def parse_opml(data: bytes, *, max_bytes: int = MAX_OPML_BYTES) -> OpmlImport | OpmlError:
    """Entries of an OPML file. Nested outlines without a feed give their text as the category."""
    if len(data) > max_bytes:
        return OpmlError("too_large", f"{len(data) // 1024} KB > {max_bytes // 1024} KB")
    text = _decode(data)
    if isinstance(text, OpmlError):
        return text
    try:
        root = SafeET.fromstring(_DECL.sub("", text, count=1), forbid_dtd=True, forbid_entities=True,
                                 forbid_external=True)
    except defusedxml.DTDForbidden:
        return OpmlError("doctype", "a DOCTYPE (DTD) is not allowed")
    except defusedxml.EntitiesForbidden:
        return OpmlError("doctype", "entity declarations are not allowed")
    except defusedxml.ExternalReferenceForbidden:
        return OpmlError("doctype", "external references are not allowed")
    except (ET.ParseError, defusedxml.DefusedXmlException) as exc:
        if _DTD_LIKE.search(text):  # e.g. <!doctype …> in lower case: not even XML, but named for what it tried
            return OpmlError("doctype", "a DOCTYPE (DTD) is not allowed")
        return OpmlError("malformed", str(exc)[:300])
    if root.tag != "opml":
        return OpmlError("not_opml", f"root element is <{root.tag}>, not <opml>")
    body = root.find("body")
    if body is None:
        return OpmlError("not_opml", "no <body>")

    result = OpmlImport()
    seen: set[str] = set()
    count = 0
    stack: list[tuple[ET.Element, tuple[str, ...], int]] = [(o, (), 1) for o in reversed(body.findall("outline"))]
    while stack:
        node, parents, depth = stack.pop()
        count += 1
        if count > MAX_OUTLINES:
            result.invalid.append(("…", f"more than {MAX_OUTLINES} outlines; the rest were ignored"))
            break
        label = " ".join((node.get("title") or node.get("text") or "").split())
        url = (node.get("xmlUrl") or node.get("xmlurl") or "").strip()
        path = (node.get("path") or "").strip() if node.get("type") == "folder" else ""
        children = node.findall("outline")
        if url or path:
            location = url or path
            category = _category(node.get("category")) or parents
            if url and not re.match(r"https?://[^/\s]+", url, re.I):
                result.invalid.append((url, "not an http(s) URL"))
            elif location in seen:
                result.invalid.append((location, "listed twice"))
            else:
                seen.add(location)
                result.entries.append(OpmlEntry(location, label[:200], category))
        elif not children:
            result.invalid.append((label or "(untitled outline)", "no xmlUrl"))
        if children:
            if depth >= MAX_DEPTH:
                result.invalid.append((label or "(untitled outline)", f"nested deeper than {MAX_DEPTH}"))
                continue
            inner = parents + (label,) if label and not (url or path) else parents
            stack.extend((c, inner, depth + 1) for c in reversed(children))
    return result
