"""Split text into sentences for Chinese, Japanese, English and mixed-script news.

Pure and stdlib-only; the summariser builds on it, and anything that must not cut a sentence can too.
"""
from __future__ import annotations

import re

# Marks that end a sentence whatever the script around them. `；` is here because Chinese news
# writes long enumerations as `；`-separated sentences, each readable on its own.
_CJK_ENDS = "。！？；…．｡"
_CJK_END_SET = frozenset(_CJK_ENDS)
_PLAIN_CJK_ENDS = frozenset("。！？；｡")  # a single one of these always ends the sentence
# Characters that belong to the sentence they close, e.g. `他说：“走吧。”` keeps its `”`.
_CLOSERS = "”’）】」』》〕〉〗〙)]}»›"
_AMBIGUOUS_QUOTES = "\"'"
# After an end mark (and its closers) these mean the sentence goes on: “走吧！”，他说。
_CONTINUATIONS = "，、,"
_QUOTE_PARTICLES = ("と", "って", "という")
_MARK_RUN = re.compile(r"[。！？；…．｡!?.]+")
_LINE_BREAK = re.compile(r"[\r\n\u2028\u2029]+")
_WORDLIKE = re.compile(r"\w")
_INITIALISM = re.compile(r"(?:[A-Za-z]\.)+[A-Za-z]")
_LEADING_PUNCT = "\"'“‘([{（【「『《"

# A period after these is part of the name or phrase, not the end of a sentence; the next word is
# usually capitalised ("Mr. Cook", "St. Louis"), so the capital letter test alone would split.
_ABBREVIATION_LIST = """mr mrs ms dr prof sr jr st mt ft vs no nos vol fig figs gen gov sen rep rev lt col capt sgt
    inc ltd co corp dept est approx jan feb mar apr jun jul aug sep sept oct nov dec ph.d u.s u.k
    u.n e.g i.e a.m p.m"""
_ABBREVIATIONS = frozenset(_ABBREVIATION_LIST.split())


def _is_cjk(ch: str) -> bool:
    o = ord(ch)
    return (
        0x3040 <= o <= 0x30FF  # kana
        or 0x3400 <= o <= 0x4DBF
        or 0x4E00 <= o <= 0x9FFF
        or 0xF900 <= o <= 0xFAFF
        or 0xFF66 <= o <= 0xFF9F  # half-width katakana
    )


def _previous_token(line: str, end: int) -> str:
    start = end
    while start > 0 and not line[start - 1].isspace():
        start -= 1
    return line[start:end].lstrip(_LEADING_PUNCT)


def _next_visible(line: str, pos: int) -> str:
    n = len(line)
    while pos < n and line[pos].isspace():
        pos += 1
    return line[pos] if pos < n else ""


def _period_ends_sentence(line: str, start: int, after: int) -> bool:
    """Whether a single ASCII `.` at `start` ends a sentence; `after` is past any closers."""
    if after < len(line) and not line[after].isspace():
        # Glued to what follows: decimals (3.5), domains and URLs, "Mr.Bean". Only a period
        # written between two CJK characters is a sloppy full stop.
        return start > 0 and _is_cjk(line[start - 1]) and _is_cjk(line[after])
    nxt = _next_visible(line, after)
    if not nxt:
        return True
    if nxt.islower():  # "e.g. the", "approx. five"
        return False
    token = _previous_token(line, start)
    if token.lower() in _ABBREVIATIONS or _INITIALISM.fullmatch(token):
        return False
    # A lone capital is an initial ("J. K. Rowling"), not a one-letter sentence.
    return not (len(token) == 1 and token.isupper())


def _boundary_after(line: str, start: int, end: int) -> int | None:
    """Where the sentence ends if the mark run line[start:end] ends one, else None."""
    run = line[start:end]
    after = end
    n = len(line)
    while after < n and (
        line[after] in _CLOSERS
        or (
            line[after] in _AMBIGUOUS_QUOTES
            # An ASCII quote right after the mark closes it only when nothing word-like follows.
            and (after + 1 == n or not line[after + 1].isalnum())
        )
    ):
        after += 1

    if after < n and (
        line[after] in _CONTINUATIONS or (after > end and line.startswith(_QUOTE_PARTICLES, after))
    ):
        # The quotation is part of a longer sentence: “走吧！”，他说。 / 「行こう。」と言った。
        return None
    if run in _PLAIN_CJK_ENDS:  # the usual case, one `。`: what follows below cannot apply
        return after
    if not _CJK_END_SET.isdisjoint(run):
        if set(run) <= {"…"} and start > 0 and line[start - 1].isascii():
            # "Wait… what": an English ellipsis runs on when a lower-case word follows.
            nxt = _next_visible(line, after)
            if nxt.isascii() and nxt.islower():
                return None
        between_digits = start > 0 and after < n and line[start - 1].isdigit() and line[after].isdigit()
        if set(run) <= {"．"} and between_digits:
            return None  # full-width decimal point, 3．5
        return after
    if set(run) == {"."}:
        if len(run) > 1:
            return None  # "..." is an ellipsis inside a sentence, not its end
        return after if _period_ends_sentence(line, start, after) else None
    # "!" / "?" possibly mixed with dots: inside a URL or a name ("?q=", "Yahoo!Japan") a word
    # character follows directly; anything else ends the sentence.
    if after < n and (line[after].isascii() and line[after].isalnum() or line[after] in "=&/_-"):
        return None
    nxt = _next_visible(line, after)
    if nxt.isascii() and nxt.islower():
        return None  # '"Really?" she asked.' is one sentence
    return after


def _split_line(line: str) -> list[str]:
    out: list[str] = []
    start = 0
    for m in _MARK_RUN.finditer(line):
        end = _boundary_after(line, m.start(), m.end())
        if end is None:
            continue
        piece = line[start:end].strip()
        if piece:
            out.append(piece)
        start = end
    tail = line[start:].strip()
    if tail:
        out.append(tail)  # a final sentence without an end mark is still a sentence
    return out


def split_sentences(text: str) -> list[str]:
    """Sentences of `text` in order, each stripped, none empty; line breaks always separate.

    Closing quotes and brackets stay with their sentence; a stray run of punctuation (a lone `”`,
    `～`) is attached to the sentence before it rather than standing alone.
    """
    # Each sentence as its pieces, joined once at the end: `sentences[-1] += piece` copied the sentence
    # again for every stray piece (quadratic on "a。" + "—。" * n).
    sentences: list[list[str]] = []
    for line in _LINE_BREAK.split(text):
        for piece in _split_line(line):
            if not _WORDLIKE.search(piece) and sentences:
                sentences[-1].append(piece)
            else:
                sentences.append([piece])
    return ["".join(pieces) for pieces in sentences]
