"""User-facing text: one catalogue per language (bot/core/catalogue/zh.py, en.py), looked up by key.

Arguments are HTML-escaped on the way in unless wrapped in `Markup` (text already built as safe HTML),
so a catalogue entry can carry <b>/<i>/<code> tags while user and article text can never inject any.
"""
from __future__ import annotations

import html

from bot.core.catalogue import en, zh

CATALOGUES: dict[str, dict[str, str]] = {"zh": zh.MESSAGES, "en": en.MESSAGES}
LANGUAGES = tuple(CATALOGUES)


class Markup(str):
    """A string that is already valid Telegram HTML: `t()` inserts it as is."""


def escape(text: object) -> str:
    """Escape for Telegram HTML: only &, < and > (and quotes, harmless) need it."""
    return html.escape(str(text), quote=False)


def language_of(code: str | None) -> str:
    """Telegram client language code → catalogue language: zh* → zh, anything else → en."""
    return "zh" if code and code.lower().startswith("zh") else "en"


def t(lang: str, key: str, /, **kwargs: object) -> str:
    """The catalogue text for `key` in `lang` (falling back to English), formatted with escaped args."""
    template = CATALOGUES.get(lang, en.MESSAGES).get(key) or en.MESSAGES[key]
    if not kwargs:
        return template
    safe = {k: v if isinstance(v, Markup) else escape(v) if isinstance(v, str) else v for k, v in kwargs.items()}
    return template.format(**safe)
