"""Turn a post's HTML (or plain-text) body into readable paragraphs of plain text.

Pure: str in, tuple of paragraphs out. The junk rules live in two tables below (elements and lines),
so a new source's boilerplate is one line to add.
"""
from __future__ import annotations

import html
import re
import unicodedata
import warnings
from collections.abc import Callable

from bs4 import (
    BeautifulSoup,
    MarkupResemblesLocatorWarning,
    NavigableString,
    PageElement,
    Tag,
    XMLParsedAsHTMLWarning,
)

from bot.core.parse import drop_invisible, web_url

warnings.filterwarnings("ignore", category=MarkupResemblesLocatorWarning)
warnings.filterwarnings("ignore", category=XMLParsedAsHTMLWarning)

# Elements whose whole subtree is never text a reader wants.
DROP_TAGS = ("script", "style", "iframe", "noscript", "svg", "form", "button", "head", "template", "object", "embed")

# Classes (or ids) of boilerplate blocks, one source habit per line: any element carrying one is dropped.
DROP_CLASSES = frozenset((
    "appendQr_wrap",                        # Sina: "scan the QR code / get the app" block
    "article-editor",                       # Sina: 责任编辑 credit
    "ad-disclaimer-container",              # 9to5: FTC affiliate disclaimer
    "disclaimer-affiliate",
    "author", "bio", "avatar",              # Zhihu: answerer name and bio
    "originUrl", "view-more",               # Zhihu: "查看知乎原文/讨论" links
))
# Classes of links that, alone in a paragraph, point to other articles of the site: dropped.
LINK_ONLY_CLASSES = frozenset(("internal",))  # Zhihu: related answers listed after the answer
# Substrings of class/id values that mark ad and share blocks.
DROP_CLASS_PARTS = ("adlist", "ad-container", "advert", "share-bar", "social-share")

# Whole lines that are boilerplate (matched after whitespace normalisation).
BOILERPLATE_LINES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern))
    for name, pattern in (
        ("sina app promo", r"海量资讯、精准解读，尽在新浪财经APP"),
        ("editor credit", r"^[（(\[【]?\s*(?:责任编辑|责编|编辑|校对|审核|监制|值班编辑)\s*[:：]"),
        ("original title", r"^原标题\s*[:：]"),
        ("source line", r"^(?:文章)?来源\s*[:：][^。！？]{0,40}$"),  # short: "来源：国家统计局数据显示，…" is news
        ("original link", r"^原文链接\s*[:：]"),
        ("author credit", r"^(?:作者|撰文|文)\s*[:：|｜][^。！？]{0,40}$"),
        ("reprint notice", r"^(?:转载请注明|未经授权.{0,10}转载|本文(?:系(?!统)|为).{0,20}(?:原创|授权))"),
        ("app download", r"^(?:请|欢迎|点击|立即)?(?:下载|打开)[^。！？]{0,12}(?:APP|App|客户端)[^。！？]{0,10}$"),
        ("scan qr", r"^(?:扫描|扫码(?!支付)|长按|识别)[^。]{0,20}二维码[^。！？]{0,30}[。！]?$"),
        ("follow us", r"^(?:点击|欢迎)?关注(?!度)[^。]{0,16}(?:公众号|微信号|微博)[^。！？]{0,20}[。！]?$"),
        ("zhihu links", r"^查看知乎(?:原文|讨论)$"),
        ("ftc", r"^FTC:\s*We use income earning"),
        ("copyright", r"^(?:版权所有|Copyright\s*©|©\s*\d{4}|All rights reserved)"),
        ("base64", r"base64,[A-Za-z0-9+/=]{20,}"),
        ("css", r"^[.#]?[\w-]+\s*\{[^}]*\}$"),
    )
)

_BLOCK_TAGS = frozenset((
    "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "tr", "table",
    "section", "article", "header", "footer", "hr", "figure", "figcaption", "pre", "dd", "dt", "dl",
))
_PARAGRAPH_TAGS = frozenset(("p", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "tr", "hr", "figure",
                             "pre"))
_DROP_TAGS = frozenset(DROP_TAGS)
_SEP = "\x1e"
# Runs of spaces, full-width, NBSP and tab, made one " " (invisible ones are dropped, not made spaces). A lone
# " " is left out: it stays as it is, and matching each one of them was most of the pass.
_SPACES = re.compile(r"[\t\u3000\xa0\u2002\u2003\u2009][ \t\u3000\xa0\u2002\u2003\u2009]*+| [ \t\u3000\xa0\u2002\u2003\u2009]++")
_OTHER_SPACES = "\t\u3000\xa0\u2002\u2003\u2009"  # _SPACES' characters but " "
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_NUMERIC_ENTITY = re.compile(r"&#(?:\d{1,7}|[xX][0-9a-fA-F]{1,6});")
# Markup: a start tag (`<name` then a `>` somewhere after), an end tag `</name>` or a comment. The start
# tag's `[^>]*>` is not in the regex: searched from every `<a` of "<a<a<a…" it read to the end each time
# (quadratic). The first start-tag opening decides instead: a later one has less text after it to hold a `>`.
_MARKUP_OPENING = re.compile(r"<(?:([a-zA-Z][a-zA-Z0-9]*+\b)|/[a-zA-Z][a-zA-Z0-9]*+\s*+>|!--)")
MAX_PARAGRAPH_CHARS = 20_000
# Fix (found by tests/security/test_fuzz.py): a 5 MB body of 200,000 <p> or <img> tags took BeautifulSoup ~10 s
# (the GIL held all along) to build. No article comes near this many elements (the real corpus: < 600),
# so only the part before the MAX_ELEMENTS-th tag is read. End tags count too: libxml2 looks each one up
# through all the open elements, so 10,000 <div> and then a million </x> cost 10,000 x 1,000,000 steps.
MAX_ELEMENTS = 20_000
_ELEMENT = re.compile(r"</?[a-zA-Z]")


_ENTITY = re.compile(r"&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")


def unescape_entities(text: str) -> str:
    """Decode complete HTML entities (`&amp;`, `&#39;`) and nothing else: "AT&T <b>" stays as it is."""
    return _ENTITY.sub(lambda m: html.unescape(m.group(0)), text) if "&" in text else text


def normalise_line(line: str) -> str:
    """Collapse full-width/NBSP spaces, drop control characters, unescape stray numeric entities."""
    if "&#" in line:
        line = _NUMERIC_ENTITY.sub(lambda m: html.unescape(m.group(0)), line)
    return _squeeze(line, _CONTROL).strip()


def _squeeze(text: str, control: re.Pattern[str]) -> str:
    """Invisible characters dropped, space runs made one " ", `control` characters dropped."""
    text = drop_invisible(text)
    if "  " in text or any(c in text for c in _OTHER_SPACES):  # what _SPACES can match; most text has none
        text = _SPACES.sub(" ", text)
    return control.sub("", text)


# All rules in two patterns, so most lines (real text) are rejected by one match at the line's start
# and one search for the few rules that can match anywhere. Kept apart because a `^` branch in an
# alternation stops the regex engine from skipping ahead to where a match could start.
_AT_START = re.compile("|".join(f"(?:{p.pattern})" for _, p in BOILERPLATE_LINES if p.pattern.startswith("^")))
_ANYWHERE = re.compile("|".join(f"(?:{p.pattern})" for _, p in BOILERPLATE_LINES if not p.pattern.startswith("^")))


def boilerplate_rule(line: str) -> str | None:
    """The name of the boilerplate rule a line matches, or None for real text."""
    if not (_AT_START.match(line) or _ANYWHERE.search(line)):
        return None
    for name, pattern in BOILERPLATE_LINES:
        if pattern.search(line):
            return name
    return None


# _CONTROL without the block separator, for whole texts still to be split at it.
_CONTROL_BUT_SEP = re.compile(r"[\x00-\x08\x0b-\x1d\x1f\x7f]")


def _paragraphs(text: str, sep: str) -> tuple[str, ...]:
    """The paragraphs of `text` split at `sep` ("\n" or _SEP), each normalised, without boilerplate
    and repeats."""
    if "&#" in text:  # an entity may decode to a separator or a space: line by line, as normalise_line says
        lines = [normalise_line(raw) for raw in text.split(sep)]
    else:
        # normalise_line's passes over the whole text at once (none of them touches `sep` or reaches
        # across it), instead of three regex calls for each of hundreds of mostly empty lines
        text = _squeeze(text, _CONTROL_BUT_SEP if sep == _SEP else _CONTROL)
        lines = [raw.strip() for raw in text.split(sep)]
    out: list[str] = []
    for line in lines:
        if not line or boilerplate_rule(line):
            continue
        if out and out[-1] == line:  # repeated block (lead repeated by templates)
            continue
        out.append(line[:MAX_PARAGRAPH_CHARS])
    return tuple(out)


def _classes(tag: Tag) -> list[str] | tuple[str, ...]:
    """A tag's classes (a list from bs4, or one string when the attribute was not split)."""
    classes = tag.attrs.get("class") or ()
    return classes.split() if isinstance(classes, str) else classes


def _is_link_only(tag: Tag) -> bool:
    """A paragraph that is one link to more of the same site (Zhihu's "related answers" list)."""
    contents = tag.contents
    if len(contents) != 1 or not isinstance(contents[0], Tag) or contents[0].name != "a":
        return False
    return any(c in LINK_ONLY_CLASSES for c in _classes(contents[0]))


def _is_junk(tag: Tag) -> bool:
    if tag.name in _DROP_TAGS:
        return True
    if tag.name == "p" and _is_link_only(tag):
        return True
    attrs = tag.attrs
    if not attrs:
        return False
    classes = _classes(tag)
    ident = attrs.get("id") or ""
    if any(c in DROP_CLASSES for c in classes):
        return True
    names = " ".join(classes) + " " + (ident if isinstance(ident, str) else "")
    return any(part in names for part in DROP_CLASS_PARTS)


def _flatten(root: Tag, images: list[str] | None = None) -> tuple[str, bool]:
    """Visible text with _SEP at block boundaries; and whether any paragraph-level tag was seen.

    `images` collects the src of every <img> outside junk blocks (to tell a lead image from a logo).

    Iterative (explicit stack), so 10,000 levels of nesting cannot exhaust the Python stack.
    """
    out: list[str] = []
    saw_paragraphs = False
    stack: list[PageElement | None] = [root]  # None: the end of a block, where a _SEP goes
    while stack:
        node = stack.pop()
        if node is None:
            out.append(_SEP)
            continue
        if type(node) is NavigableString:  # not Comment, Doctype, CData, ProcessingInstruction: skipped below
            out.append(node)
            continue
        if not isinstance(node, Tag) or _is_junk(node):
            continue
        name = node.name
        if name == "img" and images is not None:
            if src := web_url(node.get("src")) or web_url(node.get("data-src")):  # data-src: lazy-loaded (WeChat)
                images.append(src)
            continue
        if name in _PARAGRAPH_TAGS:
            saw_paragraphs = True
        elif name in ("td", "th"):
            out.append(" ")  # table cells of a row: "GDP 5%", not "GDP5%"
        if name in ("br", "hr"):
            out.append(_SEP)
            continue
        if name in _BLOCK_TAGS:
            out.append(_SEP)
            stack.append(None)
        stack.extend(reversed(node.contents))
    return "".join(out), saw_paragraphs


def clean_html(body: str) -> tuple[str, ...]:
    """Cleaned paragraphs of a post body. Plain text passes through, one paragraph per non-empty line."""
    return clean_body(body)[0]


# Markdown in plain-text bodies (Hexo sources are often written in it): the markers go, the text stays.
#
# Each rule is one pass over the text, so a hostile item cannot freeze the bot. The engine tries a pattern
# at every position: one that read on to a closing mark and failed there read the rest of the line again
# from the next position, quadratic on "![![![…", "[[[…" or " **y **y …". But where an opening has no
# closing mark, no later opening before the point where the first one failed has one either: the second
# branch of the image, link and bold rules consumes that stretch and puts it back unchanged (its group;
# the unmatched one expands to ""). The heading's closing `#`s are cut by `_heading` instead of by a lazy
# group tried against every tail of the line.
def _heading(m: re.Match[str]) -> str:
    """`# Title ##` -> `Title`: the text without trailing blanks and without a closing run of `#` that
    follows a blank (CommonMark's optional closing sequence)."""
    text = m.group(1).rstrip(" \t")
    bare = text.rstrip("#")
    return bare.rstrip(" \t") if len(bare) < len(text) and bare.endswith((" ", "\t")) else text


MARKDOWN_RULES: tuple[tuple[str, re.Pattern[str], str | Callable[[re.Match[str]], str]], ...] = tuple(
    (name, re.compile(pattern, re.M), replacement)
    for name, pattern, replacement in (
        ("image", r"!\[[^\]\n]*+\]\([^)\n]*+\)|(!\[[^\]\n]*+)", r"\1"),
        ("link", r"\[([^\]\n]++)\]\((?:https?://|/)[^)\n]*+\)|(\[[^\]\n]++)", r"\1\2"),
        ("bold", r"\*\*(?=\S)([^\n]+?)(?<=\S)\*\*|(\*\*(?=\S)[^\n]*+)", r"\1\2"),
        ("heading", r"^ {0,3}#{1,6}[ \t]++([^\n]*+)", _heading),
        ("quote", r"^ {0,3}>[ \t]?", ""),
        ("bullet", r"^ {0,3}[-*+][ \t]++(?=\S)", ""),
        ("fence or rule", r"^ {0,3}(?:```|~~~)[^\n]*+|^ {0,3}(?:[-*_][ \t]*+){3,}+$", ""),
    )
)
_MARKDOWN_HINT = re.compile(r"\]\(|\*\*|^ {0,3}(?:#{1,6}[ \t]|>|[-*+][ \t]|```|~~~)", re.M)


_HTML_PARAGRAPH = re.compile(r"<(?:p|div|br|li|h[1-6]|table|section|article|blockquote)\b", re.I)


def markdown_to_text(text: str) -> str:
    if _MARKDOWN_HINT.search(text):
        for _, pattern, replacement in MARKDOWN_RULES:
            text = pattern.sub(replacement, text)
    return text


def clean_body(body: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(paragraphs, image URLs shown in the body outside boilerplate blocks)."""
    if not looks_like_html(body):
        return _paragraphs(html.unescape(markdown_to_text(body)), "\n"), ()
    if not _HTML_PARAGRAPH.search(body):
        # Markdown with a few tags in it (Hexo's <!-- more -->, an <img>): its markers go all the same.
        body = markdown_to_text(body)
    images: list[str] = []
    body = _cap_elements(body)
    text, saw_paragraphs = _flatten(BeautifulSoup(body, "lxml"), images)
    if saw_paragraphs:
        return _paragraphs(text.replace("\n", " "), _SEP), tuple(images)
    # Text laid out only by newlines inside a wrapper div (key/value lists): newlines are paragraphs.
    return _paragraphs(text.replace(_SEP, "\n"), "\n"), tuple(images)


def looks_like_html(text: str) -> bool:
    """Whether `text` has markup in it (a start tag closed somewhere, an end tag, a comment) or is plain."""
    m = _MARKUP_OPENING.search(text)
    if m is None or m.group(1) is None:
        return m is not None
    # A start tag's name with no `>` after it: no later start tag or end tag has one either; a comment may.
    return text.find(">", m.end()) >= 0 or text.find("<!--", m.end()) >= 0


def _cap_elements(body: str) -> str:
    """The body up to its MAX_ELEMENTS-th tag, start or end (all of it when it has fewer)."""
    if body.count("<") < MAX_ELEMENTS:  # every tag opens with one: no need to find them
        return body
    for n, m in enumerate(_ELEMENT.finditer(body)):
        if n >= MAX_ELEMENTS:
            return body[: m.start()]
    return body


_PLACEHOLDER_IMAGE = re.compile(r"picsum\.photos|placeholder|/logo|logo\.|qrcode|/qr[_./-]|avatar|/icon|favicon|blank\.",
                                re.I)


def is_lead_image(url: str | None, body_images: tuple[str, ...]) -> bool:
    """A header image worth sending as a photo: shown in the article itself, and not a logo/QR/placeholder."""
    return bool(url) and url in body_images and not _PLACEHOLDER_IMAGE.search(url)


# Runs of each script: how many characters of it a text has is how much shorter it is without them.
_SCRIPTS = (re.compile("[\u4e00-\u9fff\u3400-\u4dbf]+"), re.compile("[\u3040-\u30ff]+"), re.compile("[A-Za-z]+"))


def guess_language(text: str) -> str:
    """zh, ja or en from the script mix of a sample of the text."""
    sample = text[:3000]
    if sample.isascii():  # no CJK and no kana: what the counts below would say
        return "en"
    cjk, kana, latin = (len(sample) - len(pattern.sub("", sample)) for pattern in _SCRIPTS)  # no list built
    if kana >= 3 and kana * 4 >= cjk:
        return "ja"
    if cjk + kana == 0 or latin > 4 * (cjk + kana):
        return "en"
    return "zh"


# Full-width ASCII and the ideographic space, as their NFKC forms. Chinese text is full of full-width
# punctuation (，：（）), and one such character sends unicodedata's NFKC through its slow path over the
# whole text (~0.2 ms an article); replaced first, most text then passes its quick check unchanged.
# Exact for any text: each character becomes its own full compatibility decomposition, which NFKC
# starts from anyway.
_FULL_WIDTH = re.compile("[\u3000\uff01-\uff5e]")
_HALF_WIDTH = {chr(c): unicodedata.normalize("NFKC", chr(c)) for c in (0x3000, *range(0xFF01, 0xFF5F))}


def fold(text: str) -> str:
    """NFKC + casefold: the form used for matching names and titles (full-width = half-width)."""
    if not text.isascii():
        for wide in set(_FULL_WIDTH.findall(text)):  # a handful of distinct ones, each str.replace'd at once
            text = text.replace(wide, _HALF_WIDTH[wide])
        text = unicodedata.normalize("NFKC", text)
    return text.casefold()
