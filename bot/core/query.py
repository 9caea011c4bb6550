"""The search query language, and the text normalisation shared by the search index, search and watches.

Pure: `parse_query(str) -> ParsedQuery | QueryError`; `tokens()` / `fts_text()` / `fts_chars()` /
`meta_tokens()` say how text is indexed; `QueryMatcher` runs many queries against one article.

What matches. Text and queries are folded (NFKC + casefold, then Traditional Chinese as Simplified:
`bot.core.script.match_fold`) and read as tokens:
each Chinese/Japanese/Korean character is a token, any other run of letters and digits is one
("iphone13", "5g"), and a BARRIER stands where punctuation or space separates two CJK characters.
A query word or "phrase" matches where its tokens occur consecutively in the title or the text. So a
CJK word matches as a substring ("海关" in "上海海关", but not in "上海，关于"), a Latin word only whole
("iphone" does not match "iphone13"). One rule keeps the index small and fast: a *single* CJK
character standing next to Latin letters or punctuation inside a word is searched as a word of its
own ("机5g" is "机" and "5g").

How it is indexed (storage/migrations/0003): `articles_fts` holds overlapping CJK bigrams (a CJK
run of one character stays a unigram), Latin runs whole, and a barrier only where a separator sits
between two equal CJK characters (the one place bigrams of two runs could line up into a false
match). Its `meta` column holds category and time tokens so that cat:, since: and "newest first"
are index lookups too. `articles_chars` lists each article's distinct CJK characters (no positions)
for one-character queries. `MatchDoc` evaluates the same semantics on the token stream in Python.

The query language (words separated by spaces are ANDed):
    海关 疫情          both, in the title or text
    "supply chain"    a phrase          -word / -"a phrase"   excluded
    cat:金融  cat:金融/新浪财经  -cat:微博    category path components, any level (several cat: = any of them)
    since:12h / 7d / 2w / 3m / 1y     published within (m = 30 days, y = 365 days)
    sort:new          newest first instead of best first
Everything else is literal text: FTS5 syntax, SQL and emoji never change a query's meaning.
"""
from __future__ import annotations

import hashlib
import operator
import re
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Generic, TypeVar

from bot.core.errors import QueryError
from bot.core.model import CATEGORY_SEP
from bot.core.script import match_fold

# ---------------------------------------------------------------- tokens

# Scripts written without spaces between words: each of their letters/digits is a token. Ordered by
# frequency (the regex engine tries the ranges in turn). Punctuation inside these ranges (、・〜) is
# not alphanumeric, so it is removed with the other separators before these ranges are used.
_CJK = (
    "\u4e00-\u9fff\u3400-\u4dbf\u3040-\u30ff\uac00-\ud7af\U00020000-\U0003134f\u3005-\u303c"
    "\u3100-\u31ff\u1100-\u11ff\ua960-\ua97f\ud7b0-\ud7ff\uf900-\ufaff\uff66-\uffdc\U0001b000-\U0001b16f"
)
# Letters Python counts as alphanumeric but SQLite's unicode61 tables (older Unicode) call separators:
# treated as separators here too, so a token here is always exactly one FTS5 token.
_UNSAFE = "\u19b0-\u19c9\u1cf2\u1cf3"
BARRIER = "\ue000"  # private use: a token character for unicode61 (category Co); text's own are removed

_SEPARATORS = re.compile(rf"[\W_{_UNSAFE}]+")                    # everything that is not a token character
_CJK_GAP = re.compile(rf"(?<=[{_CJK}]) (?=[{_CJK}])")           # after _SEPARATORS: one space
_INDEX_TOKEN = re.compile(rf"[{_CJK}]|[^\s{_CJK}]+")             # after both: CJK chars, other runs
_CHUNK = re.compile(rf"([{_CJK}]+)|[^\s{_CJK}]+")               # after _SEPARATORS: CJK runs, other runs
_CJK_CHAR = re.compile(rf"[{_CJK}]")                             # after _SEPARATORS
_CJK_RUN = re.compile(rf"([{_CJK}]+)")                           # after _SEPARATORS (a group: split keeps the runs)
_TOKEN = re.compile(rf"(?P<cjk>(?=[^\W_])[{_CJK}])|[^\W_{_CJK}{_UNSAFE}]+")  # on raw folded text


@lru_cache(maxsize=16)
def _folded_words(text: str) -> str:
    """Folded text with every separator run made one space (cached: each text is indexed several ways)."""
    return _SEPARATORS.sub(" ", match_fold(text))


def token_text(text: str) -> str:
    """The token stream (see the module docstring) as space-separated text: what `MatchDoc` and
    `bot.core.snippet` match against. Not what is stored: see `fts_text`."""
    if not text:
        return ""
    return " ".join(_INDEX_TOKEN.findall(_CJK_GAP.sub(f" {BARRIER} ", _folded_words(text))))


def tokens(text: str) -> list[str]:
    return token_text(text).split()


def is_cjk_token(token: str) -> bool:
    return len(token) == 1 and _CJK_CHAR.match(token) is not None


def token_spans(folded: str) -> list[tuple[str, int, int]]:
    """(token, start, end) over already-folded text: the tokens of `tokens()`, with positions.

    A BARRIER's span is the separator run it stands for.
    """
    out: list[tuple[str, int, int]] = []
    prev_cjk = False
    prev_end = 0
    for m in _TOKEN.finditer(folded):
        cjk = m.group("cjk") is not None
        if cjk and prev_cjk and m.start() > prev_end:
            out.append((BARRIER, prev_end, m.start()))
        out.append((m.group(0), m.start(), m.end()))
        prev_cjk, prev_end = cjk, m.end()
    return out


_LATIN_CHAR = rf"[^\W_{_CJK}{_UNSAFE}]"
_SEP_CHAR = rf"(?:[\W_]|[{_UNSAFE}])"


@lru_cache(maxsize=1024)
def phrase_pattern(toks: tuple[str, ...]) -> re.Pattern[str]:
    """A regex finding a phrase in folded text with the token rules: CJK characters adjacent, Latin
    tokens whole, separators between tokens (at least one where the phrase has a BARRIER).

    Separator runs are possessive: no token starts with a separator, so giving one back never helps,
    and a phrase that fails after a long run of them does not retry the run one character at a time."""
    parts: list[str] = []
    prev = None
    for tok in toks:
        if tok == BARRIER:
            parts.append(f"{_SEP_CHAR}++")
            prev = None
            continue
        cjk = is_cjk_token(tok)
        if prev is not None and not (prev and cjk):
            parts.append(f"{_SEP_CHAR}*+")
        parts.append(re.escape(tok) if cjk else f"(?<!{_LATIN_CHAR}){re.escape(tok)}(?!{_LATIN_CHAR})")
        prev = cjk
    return re.compile("".join(parts))


def fts_text(text: str) -> str:
    """A title or text as stored in articles_fts: CJK runs as overlapping bigrams (a one-character run
    as itself), other runs whole, BARRIER between two CJK runs whose facing characters are equal.

    The SQL function `newsbot_fts_text` (storage.search). Deterministic; a change here must bump
    INDEX_VERSION so existing indexes are rebuilt (contentless FTS5 deletes need the same tokens).
    """
    if not text:
        return ""
    # [between, run, between, run, …, tail] in one call; the Latin words in a `between` are already
    # space-separated tokens, and a `between` of one space (the usual one) needs no strip.
    parts = _CJK_RUN.split(_folded_words(text))
    out: list[str] = []
    prev_last = ""
    for i in range(1, len(parts), 2):
        between = parts[i - 1]
        if between != " " and (between := between.strip()):
            out.append(between)
            prev_last = ""
        run = parts[i]
        if run[0] == prev_last:
            out.append(BARRIER)
        out.append(run if len(run) == 1 else " ".join(map(operator.add, run[:-1], run[1:])))
        prev_last = run[-1]
    tail = parts[-1].strip()
    if tail:
        out.append(tail)
    return " ".join(out)


def fts_phrase_tokens(toks: Sequence[str]) -> list[str]:
    """A phrase's tokens (as from `tokens()`) in the form `fts_text` stores, for an FTS5 phrase query."""
    out: list[str] = []
    run: list[str] = []
    prev_last = ""
    barrier = False

    def flush() -> None:
        nonlocal prev_last, barrier
        if run:
            if barrier and run[0] == prev_last:
                out.append(BARRIER)
            out.extend(run if len(run) == 1 else map(operator.add, run[:-1], run[1:]))
            prev_last = run[-1]
            run.clear()
        barrier = False

    for tok in toks:
        if is_cjk_token(tok):
            run.append(tok)
            continue
        flush()
        if tok == BARRIER:
            barrier = True
        else:
            out.append(tok)
            prev_last = ""
    flush()
    return out


def fts_chars(title: str, body: str) -> str:
    """The distinct CJK characters of a title and text, sorted: articles_chars, for 1-character queries."""
    # The distinct characters first (set() of a str runs in C), then the CJK ones among those few.
    distinct = set(_folded_words(title or "")) | set(_folded_words(body or ""))
    return " ".join(sorted(_CJK_CHAR.findall("".join(distinct))))


@dataclass(frozen=True, slots=True)
class IndexTerms:
    """An article's index text computed ahead of storing (in an ingest worker process), so that the
    storing process only hands it over: `fts_text` of the title and of the text, and `fts_chars`."""

    title: str
    body: str
    chars: str


def index_terms(title: str, body: str) -> IndexTerms:
    return IndexTerms(fts_text(title), fts_text(body), fts_chars(title, body))


# ---------------------------------------------------------------- meta tokens: categories and time

def category_path_token(path_key: str) -> str:
    """One token for a folded category sub-path ("金融\\x1f新浪财经"): exact, whatever the names hold."""
    return "c" + hashlib.blake2b(path_key.encode("utf-8", "surrogatepass"), digest_size=6).hexdigest()


def category_tokens(category_key: str) -> list[str]:
    """A token for every contiguous sub-path of an article's path, so cat: matches any level."""
    parts = [p for p in category_key.split(CATEGORY_SEP) if p]
    return [category_path_token(CATEGORY_SEP.join(parts[i:j])) for i in range(len(parts)) for j in range(i + 1, len(parts) + 1)]


def time_tokens(ts: int) -> list[str]:
    """Year, month, day and hour (UTC) of a unix time: y2024 m202401 d20240131 h2024013117."""
    t = datetime.fromtimestamp(max(0, int(ts)), tz=timezone.utc)
    return [f"y{t:%Y}", f"m{t:%Y%m}", f"d{t:%Y%m%d}", f"h{t:%Y%m%d%H}"]


def meta_tokens(category_key: str, published: int) -> str:
    return " ".join(category_tokens(category_key or "") + time_tokens(published))


def _next_month(t: datetime) -> datetime:
    return t.replace(year=t.year + 1, month=1) if t.month == 12 else t.replace(month=t.month + 1)


def cover_tokens(start: int, end: int) -> list[str]:
    """The fewest time tokens whose buckets together are exactly the hours from floor(start) to
    floor(end), inclusive: hours and days at the ragged ends, months and years in between."""
    t = datetime.fromtimestamp(max(0, int(start)), tz=timezone.utc).replace(minute=0, second=0, microsecond=0)
    last = datetime.fromtimestamp(max(0, int(end)), tz=timezone.utc).replace(minute=0, second=0, microsecond=0)
    out: list[str] = []
    hour = timedelta(hours=1)
    while t <= last:
        if (t.month, t.day, t.hour) == (1, 1, 0) and t.replace(year=t.year + 1) - hour <= last:
            out.append(f"y{t:%Y}")
            t = t.replace(year=t.year + 1)
        elif (t.day, t.hour) == (1, 0) and _next_month(t) - hour <= last:
            out.append(f"m{t:%Y%m}")
            t = _next_month(t)
        elif t.hour == 0 and t + timedelta(days=1) - hour <= last:
            out.append(f"d{t:%Y%m%d}")
            t += timedelta(days=1)
        else:
            out.append(f"h{t:%Y%m%d%H}")
            t += hour
    return out


def suffix_cover(start: int, newest: int, max_tokens: int = 12) -> list[str]:
    """Time tokens for "from about `start` on": the bucket holding `start`, rounded down to the finest
    of hour/day/month/year that keeps the cover within `max_tokens`, through the end of `newest`'s
    year. Each token is a phrase FTS5 and bm25 pay for, so coarse beats exact here."""
    t = datetime.fromtimestamp(max(0, int(start)), tz=timezone.utc)
    end = int(datetime(datetime.fromtimestamp(max(0, int(newest)), tz=timezone.utc).year, 12, 31, 23,
                       tzinfo=timezone.utc).timestamp())
    floors = (t.replace(minute=0, second=0, microsecond=0), t.replace(hour=0, minute=0, second=0, microsecond=0),
              t.replace(day=1, hour=0, minute=0, second=0, microsecond=0),
              t.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0))
    toks: list[str] = []
    for floor in floors:
        toks = cover_tokens(int(floor.timestamp()), end)
        if len(toks) <= max_tokens:
            break
    return toks


# ---------------------------------------------------------------- parsed queries

MAX_QUERY_CHARS = 256
MAX_TERMS = 10          # words and phrases as typed, included plus excluded
MAX_TOKENS = 64         # tokens over all terms: bounds the work one query can ask of the index
MAX_SINCE = timedelta(days=36_500)

SORT_RANK = "rank"
SORT_NEW = "new"
_SORTS = {"new": SORT_NEW, "newest": SORT_NEW, "date": SORT_NEW, "time": SORT_NEW,
          "rank": SORT_RANK, "relevance": SORT_RANK, "best": SORT_RANK}
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1),
          "m": timedelta(days=30), "y": timedelta(days=365)}


@dataclass(frozen=True, slots=True)
class Phrase:
    """Consecutive tokens that must occur together (never empty, never starting/ending in BARRIER)."""

    tokens: tuple[str, ...]

    @property
    def text(self) -> str:
        """Readable form: CJK characters joined, other tokens spaced, a BARRIER shown as a space."""
        out = ""
        prev_cjk = None
        for tok in self.tokens:
            cjk = is_cjk_token(tok)
            if tok == BARRIER:
                out += " "
                prev_cjk = None
                continue
            if out and not out.endswith(" ") and not (cjk and prev_cjk):
                out += " "
            out += tok
            prev_cjk = cjk
        return out

    @property
    def is_char(self) -> bool:
        """One CJK character: answered by articles_chars."""
        return len(self.tokens) == 1 and is_cjk_token(self.tokens[0])

    def fts(self) -> str:
        # Tokens are letters, digits or BARRIER only: nothing in them is FTS5 syntax.
        return '"' + " ".join(fts_phrase_tokens(self.tokens)) + '"'


Group = tuple[Phrase, ...]  # phrases that must all match: one term as typed


@dataclass(frozen=True, slots=True)
class ParsedQuery:
    text: str
    include: tuple[Phrase, ...] = ()
    exclude: tuple[Group, ...] = ()           # an article matching every phrase of any group is excluded
    categories: tuple[str, ...] = ()          # folded paths "a\x1fb" (several: any of them)
    exclude_categories: tuple[str, ...] = ()
    since: timedelta | None = None
    sort: str = SORT_RANK
    ignored: tuple[str, ...] = ()             # terms with nothing searchable in them (emoji, "***")

    def category_ok(self, category_key: str) -> bool:
        hay = CATEGORY_SEP + category_key
        if self.categories and not any(_needle(c) in hay for c in self.categories):
            return False
        return not any(_needle(c) in hay for c in self.exclude_categories)

    def describe(self) -> str:
        """A compact canonical form for display ("海关 -疫情 cat:金融 since:7d")."""
        parts = [_show(p.text) for p in self.include]
        parts += ["-" + _show(" ".join(p.text for p in g)) for g in self.exclude]
        parts += ["cat:" + _show(c.replace(CATEGORY_SEP, "/")) for c in self.categories]
        parts += ["-cat:" + _show(c.replace(CATEGORY_SEP, "/")) for c in self.exclude_categories]
        if self.since is not None:
            parts.append("since:" + _show_since(self.since))
        if self.sort == SORT_NEW:
            parts.append("sort:new")
        return " ".join(parts)


def _needle(path_key: str) -> str:
    return CATEGORY_SEP + path_key + CATEGORY_SEP


def _show(text: str) -> str:
    return f'"{text}"' if any(ch.isspace() or ch in ':"' for ch in text) else text


def _show_since(delta: timedelta) -> str:
    hours = int(delta.total_seconds() // 3600)
    return f"{hours // 24}d" if hours % 24 == 0 else f"{hours}h"


_QUOTES = {'"': '"', "\u201c": "\u201d", "\u300c": "\u300d", "\u300e": "\u300f"}
_CLOSERS = set(_QUOTES.values())
_FILTER = re.compile(r"(cat|category|since|sort):(.*)", re.S)
_SINCE = re.compile(r"(\d{1,5})\s*([hdwmy])")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _lex(text: str) -> list[tuple[str, bool, bool]]:
    """Split on whitespace outside quotes: (term, negated, literal) per term, the quotes removed.

    `negated`: the term starts with "-"; `literal`: it starts with a quote (after any "-"), so
    `"cat:x"` is text, not a filter. An unclosed quote runs to the end of the query.
    """
    out: list[tuple[str, bool, bool]] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        negated = text[i] == "-"
        if negated:
            i += 1
        literal = i < n and text[i] in _QUOTES
        buf: list[str] = []
        while i < n and not text[i].isspace():
            ch = text[i]
            if ch in _QUOTES:
                close = _QUOTES[ch]
                j = i + 1
                while j < n and text[j] != close and text[j] != '"':
                    j += 1
                buf.append(f" {text[i + 1 : j]} ")  # a quote also separates: a"b c" is a, then b c
                i = j + 1
            elif ch in _CLOSERS:  # a stray closing quote is punctuation
                i += 1
            else:
                buf.append(ch)
                i += 1
        out.append(("".join(buf), negated, literal))
    return out


def split_term(toks: Sequence[str]) -> list[Phrase]:
    """A term's tokens as phrases: a CJK character with no CJK neighbour, in a term of several tokens,
    becomes a phrase of its own and splits the rest (see the module docstring)."""
    toks = list(toks)
    if len(toks) == 1:
        return [Phrase(tuple(toks))]
    pieces: list[list[str]] = [[]]
    singles: list[Phrase] = []
    for i, tok in enumerate(toks):
        lone = is_cjk_token(tok) and not (i > 0 and is_cjk_token(toks[i - 1])) and not (
            i + 1 < len(toks) and is_cjk_token(toks[i + 1]))
        if lone:
            singles.append(Phrase((tok,)))
            pieces.append([])
        else:
            pieces[-1].append(tok)
    out: list[Phrase] = []
    for piece in pieces:
        while piece and piece[0] == BARRIER:
            piece.pop(0)
        while piece and piece[-1] == BARRIER:
            piece.pop()
        if piece:
            out.append(Phrase(tuple(piece)))
    return out + singles


@lru_cache(maxsize=4096)
def parse_query(text: str) -> ParsedQuery | QueryError:
    """Parse what the user typed. Never raises: anything unusable comes back as a QueryError."""
    text = text if isinstance(text, str) else ""
    if len(text) > MAX_QUERY_CHARS:
        return QueryError("too_long", limit=MAX_QUERY_CHARS)
    normal = match_fold(text)
    if not normal.strip():
        return QueryError("empty")
    include: list[Phrase] = []
    exclude: list[Group] = []
    cats: list[str] = []
    not_cats: list[str] = []
    ignored: list[str] = []
    since: timedelta | None = None
    sort = SORT_RANK
    terms = 0
    ntokens = 0
    for raw, negated, literal in _lex(normal):
        m = None if literal else _FILTER.fullmatch(raw)
        if m is not None:
            key, value = m.group(1), m.group(2).strip()
            if key in ("cat", "category"):
                path = _category_path(value)
                if path is None:
                    return QueryError("bad_category", detail=value)
                (not_cats if negated else cats).append(path)
            elif negated:
                return QueryError("bad_filter", detail=key)
            elif key == "since":
                sm = _SINCE.fullmatch(value)
                if sm is None or int(sm.group(1)) == 0:
                    return QueryError("bad_since", detail=value)
                since = min(int(sm.group(1)) * _UNITS[sm.group(2)], MAX_SINCE)
            else:
                if value not in _SORTS:
                    return QueryError("bad_sort", detail=value)
                sort = _SORTS[value]
            continue
        toks = tokens(raw)
        if not toks:
            if raw.strip() or negated:
                ignored.append(("-" if negated else "") + raw.strip())
            continue
        terms += 1
        ntokens += len(toks)
        phrases = split_term(toks)
        if negated:
            if tuple(phrases) not in exclude:
                exclude.append(tuple(phrases))
        else:
            include.extend(p for p in phrases if p not in include)
    if terms > MAX_TERMS:
        return QueryError("too_many_terms", limit=MAX_TERMS)
    if ntokens > MAX_TOKENS:
        return QueryError("too_long", limit=MAX_TOKENS)
    if not include and not cats and since is None:
        return QueryError("no_terms", detail=" ".join(ignored))
    return ParsedQuery(
        text=text.strip(), include=tuple(include), exclude=tuple(exclude), categories=tuple(dict.fromkeys(cats)),
        exclude_categories=tuple(dict.fromkeys(not_cats)), since=since, sort=sort, ignored=tuple(ignored),
    )


def _category_path(value: str) -> str | None:
    parts = [p.strip() for p in re.split(r"[/›>]", _CONTROL.sub("", value))]
    parts = [p for p in parts if p]
    return CATEGORY_SEP.join(parts) if parts else None


def parse_watch_query(text: str) -> ParsedQuery | QueryError:
    """A standing alert's query: the search language without since: (meaningless for new articles)."""
    parsed = parse_query(text)
    if isinstance(parsed, ParsedQuery) and parsed.since is not None:
        return QueryError("since_in_watch")
    return parsed


# ---------------------------------------------------------------- matching in Python


class MatchDoc:
    """One article's title and text as tokens, for evaluating queries without the index."""

    __slots__ = ("columns", "category_key", "_positions", "_keys")

    def __init__(self, title: str, body: str, category_key: str) -> None:
        self.columns = (tokens(title), tokens(body))
        self.category_key = category_key
        self._positions: list[dict[str, list[int]]] | None = None
        self._keys: set[tuple[str, ...]] | None = None

    def positions(self) -> list[dict[str, list[int]]]:
        if self._positions is None:
            self._positions = []
            for col in self.columns:
                pos: dict[str, list[int]] = {}
                for i, tok in enumerate(col):
                    pos.setdefault(tok, []).append(i)
                self._positions.append(pos)
        return self._positions

    def keys(self) -> set[tuple[str, ...]]:
        """Every token and every pair of adjacent tokens: what `QueryMatcher` looks queries up by."""
        if self._keys is None:
            keys: set[tuple[str, ...]] = set()
            for col in self.columns:
                keys.update((t,) for t in col)
                keys.update(zip(col, col[1:], strict=False))
            self._keys = keys
        return self._keys

    def has(self, phrase: Phrase) -> bool:
        toks = phrase.tokens
        for col, pos in zip(self.columns, self.positions(), strict=True):
            anchor = min(range(len(toks)), key=lambda k: len(pos.get(toks[k], ())))
            for p in pos.get(toks[anchor], ()):
                start = p - anchor
                if start >= 0 and start + len(toks) <= len(col) and all(
                    col[start + k] == toks[k] for k in range(len(toks))
                ):
                    return True
        return False

    def matches(self, query: ParsedQuery) -> bool:
        """Same semantics as the search index (since: and sort: are not about content: ignored)."""
        return (
            query.category_ok(self.category_key)
            and all(self.has(p) for p in query.include)
            and not any(all(self.has(p) for p in group) for group in query.exclude)
        )


K = TypeVar("K", bound=Hashable)


def _lookup_key(query: ParsedQuery) -> tuple[str, ...] | None:
    """The most selective key every matching article must contain: a pair of adjacent tokens of the
    longest included phrase (longest tokens first), or its single token."""
    if not query.include:
        return None
    phrase = max(query.include, key=lambda p: (len(p.tokens), sum(map(len, p.tokens))))
    toks = phrase.tokens
    if len(toks) == 1:
        return toks
    pairs = list(zip(toks, toks[1:], strict=False))
    return max(pairs, key=lambda ab: (BARRIER not in ab, len(ab[0]) + len(ab[1])))


@dataclass
class QueryMatcher(Generic[K]):
    """Many parsed queries, looked up per article through an inverted index of one required key each,
    so an article is checked in full only against the queries that can possibly match it."""

    by_key: dict[tuple[str, ...], list[tuple[K, ParsedQuery]]] = field(default_factory=dict)
    always: list[tuple[K, ParsedQuery]] = field(default_factory=list)  # category-only queries

    @classmethod
    def build(cls, items: Iterable[tuple[K, ParsedQuery]]) -> QueryMatcher[K]:
        m: QueryMatcher[K] = cls()
        for item_id, query in items:
            key = _lookup_key(query)
            if key is None:
                m.always.append((item_id, query))
            else:
                m.by_key.setdefault(key, []).append((item_id, query))
        return m

    def __len__(self) -> int:
        return len(self.always) + sum(map(len, self.by_key.values()))

    def match(self, doc: MatchDoc) -> list[K]:
        """Ids of the queries `doc` matches, in no particular order."""
        keys = doc.keys()
        if len(self.by_key) <= len(keys):
            hit_keys = [k for k in self.by_key if k in keys]
        else:
            hit_keys = [k for k in keys if k in self.by_key]
        out: list[K] = [i for i, q in self.always if doc.matches(q)]
        for k in hit_keys:
            out.extend(i for i, q in self.by_key[k] if doc.matches(q))
        return out


# ---------------------------------------------------------------- pagination in callback data

CALLBACK_PREFIX = "search:"
MAX_CALLBACK_BYTES = 64


def page_callback(session_id: int, page: int) -> str:
    """Callback data for a Next/Previous button: `search:<session id>:<page>` (pages from 0).

    The query itself lives in the search_sessions table (storage.search), so the button works after a
    restart and for any query length; the handler must check the session belongs to the chat.
    """
    data = f"{CALLBACK_PREFIX}{int(session_id)}:{int(page)}"
    if len(data.encode("utf-8")) > MAX_CALLBACK_BYTES:  # cannot happen for sane ids; keep the contract
        raise ValueError("callback data too long")
    return data


def parse_page_callback(data: str) -> tuple[int, int] | None:
    """(session id, page) from `page_callback` data, or None for anything else (forged or foreign)."""
    m = re.fullmatch(r"search:(\d{1,18}):(\d{1,6})", data or "")
    return (int(m.group(1)), int(m.group(2))) if m else None


def phrase_tokens(query: ParsedQuery) -> list[Sequence[str]]:
    """The included phrases' tokens, for bot.core.snippet highlighting."""
    return [p.tokens for p in query.include]
