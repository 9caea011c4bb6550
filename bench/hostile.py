"""Hostile inputs through the pure core: time per KB at growing sizes, so super-linear text handling shows.

    .venv/bin/python -m bench.hostile [--quick] [--budget 5] [--only NAME]

Each family is one shape a hostile feed item, post file or command argument can take, passed through the
entry point that meets it in production (clean_html for feed items, build_article for post files, ...).
Linear code takes about 4x the time for 4x the input ("growth" ≈ 4, k ≈ 1); quadratic code 16x (k ≈ 2). A size
that runs over the budget skips the larger ones (the old quadratic code needs minutes at 640 KB).
Exit status 1 when a family grows super-linearly or raises.
"""
from __future__ import annotations

import argparse
import gc
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.core.categories import build_tree, resolve
from bot.core.chat_settings import parse_setting
from bot.core.clean import clean_html
from bot.core.errors import RejectedPost
from bot.core.query import parse_query, tokens
from bot.core.sentences import split_sentences
from bot.core.summarise import summarise
from bot.feeds.ingest import build_article

KB = 1024
SIZES_KB = (10, 40, 160, 640)
QUICK_SIZES_KB = (10, 40, 160)
SUPER_LINEAR = 1.5  # exponent of time in size above which a family is not linear (quadratic is 2)
MIN_TIMED = 0.002   # growth is only judged from runs this long (shorter ones are noise)


def _rep(unit: str, n: int) -> str:
    """`unit` repeated to about `n` characters."""
    return unit * max(1, n // len(unit))


def _post(front: str, body: str = "<p>正文。</p>") -> bytes:
    """A post file whose front matter is never closed, so it goes through the salvage reader."""
    return f"---\n{front}\n{body}\n".encode()


_TREE = build_tree([((f"分类{i}", f"子类{j}"), 1) for i in range(20) for j in range(5)])


def _article(data: bytes) -> object:
    try:
        return build_article(data, source="bench")
    except RejectedPost as exc:
        return exc


@dataclass(frozen=True)
class Family:
    name: str
    entry: str
    make: Callable[[int], object]        # size in characters -> input
    run: Callable[[object], object]


def _clean(make: Callable[[int], str]) -> tuple[str, Callable[[int], object], Callable[[object], object]]:
    return "clean_html", make, lambda s: clean_html(str(s))


def _build(make: Callable[[int], bytes]) -> tuple[str, Callable[[int], object], Callable[[object], object]]:
    return "build_article", make, lambda b: _article(b if isinstance(b, bytes) else b"")


FAMILIES: tuple[Family, ...] = tuple(Family(name, *spec) for name, spec in (
    # the quadratic ones of the "hostile world" issue
    ("md bold ' **y'", _clean(lambda n: _rep(" **y", n))),
    ("md heading spaces", _clean(lambda n: "# a" + " " * n + "b")),
    ("md image '!['", _clean(lambda n: "**x**\n" + _rep("![", n))),
    ("md link '['", _clean(lambda n: "**x**\n" + "[" * n)),
    ("looks-html '<a'", _clean(lambda n: _rep("<a", n))),
    ("deep tags + stray end tags", _clean(lambda n: _rep("<div>", n // 2) + _rep("</x>", n // 2))),
    ("first text line '<'", _build(lambda n: b"<" * n)),
    ("front matter quote runs", _build(lambda n: _post('title: "a' + '"' * n + "x"))),
    ("front matter category spaces", _build(lambda n: _post('categories: "a' + " " * n + 'x/b"\ntitle: t'))),
    ("front matter '[[[['", _build(lambda n: _post("title: t\ncategories: " + "[" * (n // 2) + "a" + "]" * (n // 2)))),
    ("sentences '—。'", ("split_sentences", lambda n: "a。" + _rep("—。", n), lambda s: split_sentences(str(s)))),
    ("summarise 'Image   x'", ("summarise", lambda n: "Image" + " " * n + "x.",
                                lambda s: summarise([str(s)], "t", "en"))),
    ("category path spaces", ("resolve", lambda n: "a" + " " * n + "x/b", lambda s: resolve(_TREE, str(s)))),
    ("category suggest", ("resolve", lambda n: _rep("分类x", n), lambda s: resolve(_TREE, str(s)))),
    ("quiet hours 'a-'", ("parse_setting", lambda n: _rep("a-", n) + " b",
                          lambda s: parse_setting(["quiet", str(s)]))),
    # shapes that were linear already: they must stay so
    ("'#' * N", _clean(lambda n: "#" * n)),
    ("'<' * N", _clean(lambda n: "<p>a</p>" + "<" * n)),
    ("'\"' * N", _build(lambda n: _post('title: "' + '"' * n))),
    ("'*' * N", _clean(lambda n: "**x**\n" + "*" * n)),
    ("'_' * N", _clean(lambda n: "**x**\n" + "_" * n)),
    ("'\\n ' * N", _clean(lambda n: "**x**\n" + _rep("\n ", n))),
    ("unclosed fence", _clean(lambda n: "```\n" + _rep("a ", n))),
    ("'- ' rule line", _clean(lambda n: "**x**\n" + _rep("- ", n) + "x")),
    ("nested <div>", _clean(lambda n: "<p>a</p>" + _rep("<div>", n))),
    ("nested <table>", _clean(lambda n: _rep("<table><tr><td>", n))),
    ("query text", ("tokens", lambda n: _rep("海关a-", n), lambda s: tokens(f"{s}{time.perf_counter_ns()}"))),
    ("query '\"' * N", ("parse_query", lambda n: '"' * n, lambda s: parse_query(str(s)))),
))


def _time(run: Callable[[object], object], arg: object) -> tuple[float, str | None]:
    """Best of three runs (one when it is slow), without the garbage collector's pauses."""
    best = float("inf")
    for _ in range(3):
        gc.collect()
        gc.disable()
        t0 = time.perf_counter()
        try:
            run(arg)
        except Exception as exc:  # a crash is a finding, reported in the table
            return time.perf_counter() - t0, type(exc).__name__
        finally:
            gc.enable()
        best = min(best, time.perf_counter() - t0)
        if best > 1.0:
            break
    return best, None


def measure(family: Family, sizes: tuple[int, ...], budget: float) -> tuple[list[float | None], str]:
    """Seconds per size (None: skipped over budget) and a verdict."""
    times: list[float | None] = []
    verdict = "linear"
    for size in sizes:
        if times and (times[-1] is None or times[-1] > budget):
            times.append(None)
            continue
        seconds, error = _time(family.run, family.make(size * KB))
        times.append(seconds)
        if error:
            return times, f"raises {error}"
    exponent = _exponent(sizes, times)
    if any(t is None for t in times) or (exponent is not None and exponent > SUPER_LINEAR):
        verdict = "SUPER-LINEAR"
    return times, verdict


def _growth(times: list[float | None]) -> float | None:
    """The largest growth between two consecutive sizes that were both timed long enough to judge."""
    ratios = [b / a for a, b in zip(times, times[1:], strict=False)
              if a is not None and b is not None and a >= MIN_TIMED]
    return max(ratios) if ratios else None


def _exponent(sizes: tuple[int, ...], times: list[float | None]) -> float | None:
    """k in time ~ size^k, from the first run long enough to judge to the last: over the whole range of
    sizes, so one noisy step (a loaded machine) does not decide; 1 is linear, 2 quadratic."""
    timed = [(s, t) for s, t in zip(sizes, times, strict=False) if t is not None and t >= MIN_TIMED]
    if len(timed) < 2:
        return None
    (s0, t0), (s1, t1) = timed[0], timed[-1]
    return math.log(t1 / t0) / math.log(s1 / s0)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help=f"sizes {QUICK_SIZES_KB} KB instead of {SIZES_KB}")
    ap.add_argument("--budget", type=float, default=5.0, help="seconds; larger sizes of a family are skipped after")
    ap.add_argument("--only", help="families whose name contains this")
    args = ap.parse_args()
    sizes = QUICK_SIZES_KB if args.quick else SIZES_KB
    print(f"{'family':32} {'entry':14}" + "".join(f"{f'{s} KB':>10}" for s in sizes)
          + f"{'µs/KB':>9}{'growth':>8}{'k':>6}  verdict")
    bad = 0
    for family in FAMILIES:
        if args.only and args.only not in family.name:
            continue
        times, verdict = measure(family, sizes, args.budget)
        cells = "".join(f"{'skipped' if t is None else f'{t * 1000:.1f}ms':>10}" for t in times)
        cells += "".join(f"{'-':>10}" for _ in range(len(sizes) - len(times)))
        timed = [(s, t) for s, t in zip(sizes, times, strict=False) if t is not None]
        per_kb = timed[-1][1] / timed[-1][0] * 1e6 if timed else 0.0
        growth, exponent = _growth(times), _exponent(sizes, times)
        print(f"{family.name:32} {family.entry:14}{cells}{per_kb:9.1f}"
              f"{'-' if growth is None else f'{growth:.1f}x':>8}{'-' if exponent is None else f'{exponent:.2f}':>6}"
              f"  {verdict}", flush=True)
        bad += verdict != "linear"
    print(f"\ngrowth: the largest time ratio between consecutive sizes (x4 each); ≈4 linear, ≈16 quadratic. "
          f"k: time ~ size^k over all sizes, the verdict (over {SUPER_LINEAR:g}: super-linear). "
          f"Over {args.budget:g} s a family's larger sizes are skipped.")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
