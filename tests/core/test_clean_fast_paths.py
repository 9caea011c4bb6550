"""bot/core/clean.py's shortcuts against the plain definitions they stand for: `fold` (full-width characters
replaced before NFKC), paragraphs normalised over the whole text instead of line by line, the script
counts of `guess_language`, and bot.core.parse.drop_invisible's check before its regex. Any text, so
hypothesis draws from the characters each shortcut is about."""
from __future__ import annotations

import re
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.clean import (
    _SEP,
    MAX_PARAGRAPH_CHARS,
    _paragraphs,
    boilerplate_rule,
    fold,
    guess_language,
    normalise_line,
)
from bot.core.parse import _INVISIBLE, drop_invisible

# Full-width and half-width forms, combining marks (they compose across a replaced character), Hangul jamo,
# spaces of every kind, invisible and control characters, entities, separators, CJK, kana and Latin.
_TRICKY = (
    "Ａａ０，：（）！？．～｜\u3000\uff5e\uff5f\uff61\uff9e\uffe0\u0301\u0308\u0338\u3099\u309a\u1100\u1161\u11a8"
    "\u00e9\u2126\u212b\ufb01\u00bd\u2460 \t\xa0\u2002\u2003\u2009\u200b\u200c\u200d\u2060\ufeff\xad\x00\x07\x0b\x1c"
    "\x1d\x1e\x1f\x7f\n&#;x3a9\U0001F469新闻经濟の日本語カナabcXYZ来源作者责任编辑"
)
texts = st.text(alphabet=st.sampled_from(_TRICKY), max_size=60) | st.text(max_size=60)


@settings(max_examples=2000)
@given(texts)
def test_fold_is_nfkc_and_casefold(text: str) -> None:
    assert fold(text) == unicodedata.normalize("NFKC", text).casefold()


def _paragraphs_line_by_line(text: str, sep: str) -> tuple[str, ...]:
    out: list[str] = []
    for raw in text.split(sep):
        line = normalise_line(raw)
        if not line or boilerplate_rule(line) or (out and out[-1] == line):
            continue
        out.append(line[:MAX_PARAGRAPH_CHARS])
    return tuple(out)


@settings(max_examples=2000)
@given(texts, st.sampled_from(("\n", _SEP)))
def test_paragraphs_are_the_lines_normalised_one_by_one(text: str, sep: str) -> None:
    assert _paragraphs(text, sep) == _paragraphs_line_by_line(text, sep)


def _guess_by_counting(text: str) -> str:
    sample = text[:3000]
    cjk = len(re.findall("[\u4e00-\u9fff\u3400-\u4dbf]", sample))
    kana = len(re.findall("[\u3040-\u30ff]", sample))
    latin = len(re.findall("[A-Za-z]", sample))
    if kana >= 3 and kana * 4 >= cjk:
        return "ja"
    if cjk + kana == 0 or latin > 4 * (cjk + kana):
        return "en"
    return "zh"


@settings(max_examples=1000)
@given(texts)
def test_guess_language_counts_each_script(text: str) -> None:
    assert guess_language(text) == _guess_by_counting(text)


@settings(max_examples=1000)
@given(texts)
def test_drop_invisible_is_its_regex(text: str) -> None:
    assert drop_invisible(text) == _INVISIBLE.sub("", text)
