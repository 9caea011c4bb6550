"""Excerpts of an article's text around a search match, with the matched text emphasised.

Pure: `make_snippet(text, phrases)` finds the phrases the way the index does (bot.core.query tokens over
folded text, mapped back to the original characters) and returns a `Snippet`: plain text and the spans
to emphasise, which bot.core.render makes Telegram HTML and the CLI marks with «».
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from bot.core.clean import fold
from bot.core.query import phrase_pattern
from bot.core.script import fold_script, match_fold

SNIPPET_CHARS = 120
ELLIPSIS = "…"


@lru_cache(maxsize=8192)
def _fold_char(ch: str) -> str:
    return fold(ch)


def fold_with_map(text: str) -> tuple[str, list[int]]:
    """Folded text and, per folded character, the index of the original character it came from.

    Folds character by character (so NFKC cannot compose across characters); searching the result
    agrees with the index except for decomposed accents, where a snippet may simply show no bold.
    """
    if text.isascii():
        return text.lower(), list(range(len(text)))
    parts: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        f = _fold_char(ch)
        parts.append(f)
        origin.extend([i] * len(f))
    return fold_script("".join(parts)), origin  # one script over the whole: its phrases span characters


def find_matches(text: str, phrases: Sequence[Sequence[str]]) -> list[tuple[int, int]]:
    """Spans (start, end) of `text` where any phrase (a sequence of tokens) occurs, sorted, merged."""
    phrases = [tuple(p) for p in phrases if p]
    if not text or not phrases:
        return []
    folded = match_fold(text)
    origin: list[int] | None = None
    if len(folded) != len(text):  # folding changed lengths (ﬁ → fi, ß → ss): map positions back
        folded, origin = fold_with_map(text)
    found: list[tuple[int, int]] = []
    for phrase in phrases:
        for m in phrase_pattern(phrase).finditer(folded):
            s, e = m.span()
            if origin is not None:
                s, e = origin[s], origin[e - 1] + 1
            found.append((s, e))
    found.sort()
    merged: list[tuple[int, int]] = []
    for s, e in found:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


@dataclass(frozen=True, slots=True)
class Snippet:
    """An excerpt: `text` (original characters, newlines as spaces), `marks` spans within it to
    emphasise, and whether text was cut before/after it."""

    text: str
    marks: tuple[tuple[int, int], ...] = ()
    cut_before: bool = False
    cut_after: bool = False

    def render(self, open_mark: str, close_mark: str, escape: Callable[[str], str] = str) -> str:
        """The excerpt with each mark between `open_mark` and `close_mark`, its text passed through
        `escape`, and … where it was cut."""
        out = [ELLIPSIS] if self.cut_before else []
        pos = 0
        for s, e in self.marks:
            out += [escape(self.text[pos:s]), open_mark, escape(self.text[s:e]), close_mark]
            pos = e
        out.append(escape(self.text[pos:]))
        if self.cut_after:
            out.append(ELLIPSIS)
        return "".join(out)

    def plain(self, open_mark: str = "[", close_mark: str = "]") -> str:
        return self.render(open_mark, close_mark)


def make_snippet(text: str, phrases: Sequence[Sequence[str]], width: int = SNIPPET_CHARS) -> Snippet:
    """About `width` characters of `text` around its first match (a quarter of the room before it),
    every match inside emphasised; the start of the text when nothing matches."""
    text = text.replace("\n", " ")  # paragraphs run together in one line; keeps indexes aligned
    matches = find_matches(text, phrases)
    if len(text) <= width:
        return Snippet(text, tuple(matches))
    start = 0
    if matches:
        first_s, first_e = matches[0]
        start = max(0, first_s - width // 4)
        start = min(start, max(0, len(text) - width))
        if first_e - start > width:  # a match longer than the room: show it from its start
            start = first_s
        start = _soft_start(text, start, first_s)
    end = min(len(text), start + width)
    marks = tuple((max(s, start) - start, min(e, end) - start) for s, e in matches if s < end and e > start)
    return Snippet(text[start:end].strip(), _shift_for_strip(text[start:end], marks), start > 0, end < len(text))


def _soft_start(text: str, start: int, limit: int) -> int:
    """Move the start forward past the rest of a cut alphabetic word (a few characters at most, never
    past the first match), so an English excerpt does not begin mid-word. CJK text has no words to cut."""
    if start == 0 or not (_alphabetic(text[start - 1]) and _alphabetic(text[start])):
        return start
    for i in range(start, min(limit, start + 12)):
        if not _alphabetic(text[i]):
            return i + 1
    return start


def _alphabetic(ch: str) -> bool:
    return ch.isalnum() and ord(ch) < 0x1100  # scripts that separate words with spaces


def _shift_for_strip(window: str, marks: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
    lead = len(window) - len(window.lstrip())
    size = len(window.strip())
    return tuple((max(0, s - lead), min(size, e - lead)) for s, e in marks if min(size, e - lead) > max(0, s - lead))
