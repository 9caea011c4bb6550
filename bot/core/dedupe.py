"""Keys that decide what is "the same": content hash (same bytes of text), story key (same story).

Pure functions. Two sources carrying one story with different HTML get the same story key when their
normalised titles match, or when their normalised text opens the same way.
"""
from __future__ import annotations

import hashlib
import re

from bot.core.clean import fold

_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)
MIN_TITLE_KEY_CHARS = 6   # shorter titles ("0！") are too generic to identify a story
TEXT_KEY_CHARS = 200      # normalised opening text compared for near-identical bodies


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=10).hexdigest()


def normalise_for_key(text: str) -> str:
    """NFKC, case-folded, with punctuation, spaces and symbols removed."""
    return _NOT_WORD.sub("", fold(text))  # fold: NFKC + casefold, with a fast path for full-width punctuation


def content_hash(title: str, paragraphs: tuple[str, ...] | list[str]) -> str:
    """Identity of an article's cleaned content, independent of file name and markup."""
    return _digest(title + "\x00" + "\n".join(paragraphs))


def text_key(paragraphs: tuple[str, ...] | list[str]) -> str | None:
    """Fingerprint of the opening text, for near-identical bodies under different titles."""
    norm = normalise_for_key("".join(paragraphs[:8]))
    return "t:" + _digest(norm[:TEXT_KEY_CHARS]) if len(norm) >= 60 else None


def title_key(title: str) -> str | None:
    """Fingerprint of a normalised title; None for titles too short to identify a story."""
    norm = normalise_for_key(title)
    return "h:" + _digest(norm) if len(norm) >= MIN_TITLE_KEY_CHARS else None


STORY_WINDOW_SECONDS = 3 * 86400  # the same title this far apart is a new story (daily columns reuse titles)
