"""Chinese scripts: Traditional and Simplified folded to one form for matching, and text converted for display.

Pure (OpenCC's converters, loaded once, lazily, cached). `match_fold` is what the search index, queries,
watches, snippets and category names compare; `for_reader` converts stored text for a chat's script.

Matching folds to Simplified with OpenCC's `t2s` (phrase table first, then characters), so 頭髮 and 头发,
乾燥 and 干燥, 後面 and 后面 fold alike while 乾隆 and 皇后 keep their characters. `t2s` maps every code
point to exactly one (its dictionaries pair equal lengths), so positions in folded text are positions in
the original: snippets mark the reader's own characters. Display is the other way: `s2t` (OpenCC standard
Traditional), `s2twp` (Taiwan characters and vocabulary: 軟體, 資訊), `s2hk` (Hong Kong characters).
"""
from __future__ import annotations

import re
from functools import cache, lru_cache

import opencc

from bot.core.clean import fold

# OpenCC's own data can change a fold: part of storage.index.INDEX_VERSION.
FOLD_VERSION = f"opencc-t2s-{getattr(opencc, '__version__', '1')}"

HANS = "hans"  # Simplified
HANT = "hant"  # Traditional, OpenCC's standard characters
TW = "tw"      # Traditional, Taiwan characters and vocabulary
HK = "hk"      # Traditional, Hong Kong characters
SCRIPTS = (HANS, HANT, TW, HK)
TRADITIONAL = (HANT, TW, HK)

# A chat's script as a catalogue locale (bot.core.i18n): the Simplified catalogue is plain "zh".
LOCALES = {HANS: "zh", HANT: "zh-Hant", TW: "zh-TW", HK: "zh-HK"}
_SCRIPT_OF_LOCALE = {v: k for k, v in LOCALES.items()}

# Display: Simplified text for a Traditional reader. `_SAME_LENGTH` keeps every character in place (for
# text with marks in it: search titles and snippets); the phrase configs may not (資訊 for 信息 is equal, 計程車
# for 出租车 too, 隨身碟 for U盘 is not).
_FROM_HANS = {HANS: "", HANT: "s2t", TW: "s2twp", HK: "s2hk"}
_FROM_HANS_SAME_LENGTH = {HANS: "", HANT: "s2t", TW: "s2tw", HK: "s2hk"}
# Traditional text for a Traditional reader: only the regional variant characters (臺/台, 綫/線).
_FROM_HANT = {HANS: "t2s", HANT: "", TW: "t2tw", HK: "t2hk"}


@cache
def converter(config: str) -> opencc.OpenCC:
    """OpenCC converter for a configuration name ("t2s", "s2twp", …), built once per process."""
    return opencc.OpenCC(f"{config}.json")


# Scripts' letters all lie above U+2E80; ASCII and Latin text skip OpenCC entirely.
_ABOVE_LATIN = re.compile("[\u2e80-\U0010ffff]")


def _has_cjk(text: str) -> bool:
    # A search stops at the first such character (max() read every character of every text).
    return not text.isascii() and _ABOVE_LATIN.search(text) is not None


def fold_script(text: str) -> str:
    """Traditional characters and phrases as Simplified (t2s); the same length, character for character."""
    if not _has_cjk(text):
        return text
    return _fold_short(text) if len(text) <= 64 else _t2s(text)


@lru_cache(maxsize=8192)
def _fold_short(text: str) -> str:  # names, queries, titles: asked for again and again
    return _t2s(text)


def _t2s(text: str) -> str:
    out = _convert("t2s", text)
    return out if len(out) == len(text) else text  # never expected: keep positions valid whatever the data


_SURROGATE = re.compile("([\ud800-\udfff]+)")


def _convert(config: str, text: str) -> str:
    """OpenCC takes UTF-8: lone surrogates (which hostile input may hold) are kept as they are, around it."""
    try:
        out: str = converter(config).convert(text)
    except UnicodeEncodeError:
        return "".join(p if i % 2 else converter(config).convert(p) for i, p in enumerate(_SURROGATE.split(text)))
    return out


def match_fold(text: str) -> str:
    """NFKC + casefold, then one script: the form every search and name comparison uses."""
    return fold_script(fold(text))


def script_of(text: str) -> str | None:
    """HANS or HANT by which script's own characters the text has more of; None: no Chinese in it, or a tie."""
    if not _has_cjk(text):
        return None
    as_hans = _convert("t2s", text)
    as_hant = _convert("s2t", text)
    traditional = sum(a != b for a, b in zip(text, as_hans, strict=False))
    simplified = sum(a != b for a, b in zip(text, as_hant, strict=False))
    if traditional == simplified:
        return None
    return HANT if traditional > simplified else HANS


def to_script(text: str, script: str | None, *, same_length: bool = False) -> str:
    """`text` as read in `script` (None or an unknown script: unchanged). Text already in the reader's
    script is left alone (a Traditional reader gets only regional variants changed).

    `same_length`: never change the number of characters (regional vocabulary is skipped for TW).
    """
    if script not in _FROM_HANS or not _has_cjk(text):
        return text
    if len(text) <= 256:  # titles, summaries, names: the same ones go to many chats
        return _to_script_cached(text, script, same_length)
    return _to_script(text, script, same_length)


@lru_cache(maxsize=8192)
def _to_script_cached(text: str, script: str, same_length: bool) -> str:
    return _to_script(text, script, same_length)


def _to_script(text: str, script: str, same_length: bool) -> str:
    source = script_of(text)
    if source is None:
        return text
    if source == HANS:
        config = (_FROM_HANS_SAME_LENGTH if same_length else _FROM_HANS)[script]
    else:
        config = _FROM_HANT[script]
    if not config:
        return text
    out = _convert(config, text)
    return text if same_length and len(out) != len(text) else out


def script_of_locale(lang: str) -> str | None:
    """The script of a catalogue locale ("zh" → HANS, "zh-TW" → TW); None for other languages."""
    return _SCRIPT_OF_LOCALE.get(lang)


def base_language(lang: str) -> str:
    """The language of a locale, without its script: "zh-TW" → "zh"."""
    return "zh" if lang in _SCRIPT_OF_LOCALE else lang


def script_of_client(code: str | None) -> str:
    """The script a Telegram `language_code` asks for: zh-hant/zh-tw/zh-hk (and zh-mo) Traditional."""
    tags = (code or "").lower().replace("_", "-").split("-")
    if tags[0] != "zh":
        return HANS
    rest = tags[1:]
    if "hk" in rest or "mo" in rest:
        return HK
    if "tw" in rest:
        return TW
    if "hant" in rest:
        return HANT
    return HANS


def locale(language: str, script: str | None) -> str:
    """The catalogue locale for a language and a script: ("zh", TW) → "zh-TW"; others keep their language."""
    if base_language(language) != "zh":
        return language
    return LOCALES.get(script or "", language if language in _SCRIPT_OF_LOCALE else "zh")
