"""How much a candidate sentence belongs in a summary: a linear model over a few cheap features.

The weights are data (bot/core/data/summary_weights.json), learned by bench/train_summariser.py on
validation data only; the file names the data and the script. Read once, on first use.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, fields
from functools import cache
from importlib import resources
from operator import mul

__all__ = ["FEATURES", "Weights", "features", "relative", "score", "weights_for"]

# In this order in the weights file and in `features()`.
# `weak`: a heading, caption, fragment or lead-in (readable, rarely what a summary should say).
FEATURES = (
    "centrality", "position", "first", "last", "title", "length", "short", "digits", "quote", "question", "weak",
)

_LENGTH_UNIT = {"en": 25.0}  # words; characters for Chinese and Japanese
_CHAR_UNIT = 50.0
_SHORT = {"en": 8}
_SHORT_CHARS = 15
_DIGIT = re.compile(r"\d")
_QUOTE = re.compile("[“”「」『』\"]")


@dataclass(frozen=True)
class Weights:
    """One language group's weights (one per feature), the position prior's decay and the share of
    the best sentence's likelihood (`relative`) a further sentence needs to be added. A feature
    missing from the file weighs 0."""

    centrality: float
    position: float
    first: float
    last: float
    title: float
    length: float
    short: float
    digits: float
    quote: float
    question: float
    weak: float
    position_decay: float
    min_relative: float

    def vector(self) -> tuple[float, ...]:
        return tuple(getattr(self, name) for name in FEATURES)


@cache
def _table() -> dict[str, Weights]:
    raw = json.loads(resources.files("bot.core").joinpath("data/summary_weights.json").read_text("utf-8"))
    names = {f.name for f in fields(Weights)}
    return {group: Weights(**(dict.fromkeys(FEATURES, 0.0) | {k: float(v) for k, v in values.items() if k in names}))
            for group, values in raw["weights"].items()}


def weights_for(language: str) -> Weights:
    """English has its own weights; Chinese, Japanese and anything else use the Chinese ones."""
    table = _table()
    return table.get(language) or table["zh"]


def features(
    text: str, centrality: float, ordinal: int, title_similarity: float, language: str, decay: float,
    *, last: bool = False, weak: bool = False,
) -> tuple[float, ...]:
    """The feature vector of one candidate (see FEATURES); `centrality` is already scaled to 0..1,
    `ordinal` counts the sentences that can be chosen from 0 at the article's start, and `last` marks
    the last of them (of two or more)."""
    if language == "en":
        units = float(text.count(" ") + 1)
        length = min(units / _LENGTH_UNIT["en"], 2.0)
        short = 1.0 if units < _SHORT["en"] else 0.0
    else:
        units = float(len(text))
        length = min(units / _CHAR_UNIT, 2.0)
        short = 1.0 if units < _SHORT_CHARS else 0.0
    stripped = text.rstrip()
    return (
        centrality,
        (1.0 + ordinal) ** -decay,
        1.0 if ordinal == 0 else 0.0,
        1.0 if last else 0.0,
        title_similarity,
        length,
        short,
        1.0 if _DIGIT.search(text) else 0.0,
        1.0 if _QUOTE.search(text) else 0.0,
        1.0 if stripped[-1:] in "?？" else 0.0,
        1.0 if weak else 0.0,
    )


def score(vector: tuple[float, ...], weights: tuple[float, ...]) -> float:
    """The linear score: the log-odds, up to a constant, that this is the article's summary sentence
    (bench/train_summariser.py learns it as a softmax over the article's candidates)."""
    return float(sum(map(mul, vector, weights)))  # both FEATURES long


def relative(scores: list[float]) -> list[float]:
    """Linear scores as shares of the best one's likelihood, exp(z − z_best): the best is 1.0, and no
    share is 0.0 (which means "never chosen"), however far below the best it is."""
    if not scores:
        return []
    top = max(scores)
    return [max(math.exp(max(z - top, -700.0)), _TINY) for z in scores]


_TINY = 1e-300
