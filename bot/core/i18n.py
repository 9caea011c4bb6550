"""User-facing text: one catalogue per language (bot/core/catalogue/zh.py, zh_hant.py, en.py), looked up by key.

Chinese comes in the chat's script: "zh" is Simplified, "zh-Hant" Traditional, "zh-TW" and "zh-HK" with
Taiwan's and Hong Kong's words (bot.core.script names the locales).

Arguments are HTML-escaped on the way in unless wrapped in `Markup` (text already built as safe HTML),
so a catalogue entry can carry <b>/<i>/<code> tags while user and article text can never inject any.
"""
from __future__ import annotations

import html
from functools import lru_cache

from bot.core.catalogue import en, zh, zh_hant
from bot.core.script import HANT, HK, LOCALES, TW, locale, script_of_client, script_of_locale, to_script

CATALOGUES: dict[str, dict[str, str]] = {
    "zh": zh.MESSAGES, "en": en.MESSAGES, LOCALES[HANT]: zh_hant.MESSAGES,
    LOCALES[TW]: {**zh_hant.MESSAGES, **zh_hant.TW}, LOCALES[HK]: {**zh_hant.MESSAGES, **zh_hant.HK},
}
LANGUAGES = ("zh", "en")  # what a chat chooses with /settings lang; the script is a setting of its own


class Markup(str):
    """A string that is already valid Telegram HTML: `t()` inserts it as is."""


def escape(text: object) -> str:
    """Escape for Telegram HTML: only &, < and > (and quotes, harmless) need it."""
    return html.escape(str(text), quote=False)


def language_of(code: str | None) -> str:
    """Telegram client language code → catalogue locale: zh-hant/zh-tw/zh-hk → zh-Hant/zh-TW/zh-HK,
    other zh* → zh, anything else → en."""
    return locale("zh", script_of_client(code)) if code and code.lower().startswith("zh") else "en"


@lru_cache(maxsize=1024)
def _converted(lang: str, key: str) -> str | None:
    """A Simplified entry the Traditional catalogue does not have yet, converted for the locale."""
    template = zh.MESSAGES.get(key)
    return to_script(template, script_of_locale(lang)) if template else None


def t(lang: str, key: str, /, **kwargs: object) -> str:
    """The catalogue text for `key` in `lang` (falling back to English), formatted with escaped args."""
    template = CATALOGUES.get(lang, en.MESSAGES).get(key)
    if template is None and lang in CATALOGUES and lang != "en":
        template = _converted(lang, key)
    template = template or en.MESSAGES[key]
    if not kwargs:
        return template
    safe = {k: v if isinstance(v, Markup) else escape(v) if isinstance(v, str) else v for k, v in kwargs.items()}
    return template.format(**safe)
