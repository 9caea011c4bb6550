"""Benchmark the summariser against baselines: headline overlap, hygiene and speed, in one table.

    .venv/bin/python -m bench.summarise [--count 2000] [--seed 1]

Quality runs over every real post in ../shared/corpus/real/ and the seeds in ../shared/seeds/,
cleaned by bot.feeds.ingest; speed over posts made by ../shared/corpus/synth.py in a temporary folder.
ROUGE, boilerplate and near-duplicate checks are written here, independently of bot.core.summarise,
so the summariser is not graded by its own rules.
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.cli.progress import progress
from bot.core.sentences import split_sentences
from bot.core.summarise import DEFAULT_MAX_CHARS, summarise

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
REAL = SHARED / "corpus" / "real"
SEEDS = SHARED / "seeds"
SYNTH = SHARED / "corpus" / "synth.py"
REPEATS = 3

Summariser = Callable[[Sequence[str], str, str], list[str]]

_ROUGE_TOKEN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[a-z0-9]+")
_CJK_CHAR = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_END_MARKS = set("。！？；…．!?.")
_CLOSERS = "”’）】」』》〕〉)]}»›\"'"
_CLAUSE_MARKS = set("，,;；、")

# What a reader would call boilerplate in a summary; deliberately not the summariser's own list.
_BOILERPLATE = re.compile(
    r"来源\s*[：:]|原标题|责任编辑|海量资讯|新浪财经APP|扫码|二维码|点击|下载\s*APP|转载请注明|版权所有"
    r"|查看知乎|讯\s*[（(]记者|[（(]记者[^）)]*[）)]|记者\s*\S{1,4}\s*摄"
    r"|Image credit|Related:|FTC:|Copyright|©|All rights reserved",
    re.IGNORECASE,
)


# --- systems -------------------------------------------------------------------------------------


def budget_of(language: str) -> int:
    return DEFAULT_MAX_CHARS.get(language, 160)


def joiner(language: str) -> str:
    return " " if language == "en" else ""


def ours(paragraphs: Sequence[str], title: str, language: str) -> list[str]:
    return summarise(paragraphs, title, language)


def centrality_only(paragraphs: Sequence[str], title: str, language: str) -> list[str]:
    return summarise(paragraphs, title, language, priors=False)


def lead(n: int) -> Summariser:
    def first_sentences(paragraphs: Sequence[str], title: str, language: str) -> list[str]:
        out: list[str] = []
        for p in paragraphs:
            out.extend(split_sentences(p))
            if len(out) >= n:
                break
        return out[:n]

    return first_sentences


def truncate(paragraphs: Sequence[str], title: str, language: str) -> list[str]:
    """What feed readers do: the text from the top, cut at the budget with an ellipsis."""
    budget, sep = budget_of(language), joiner(language)
    out: list[str] = []
    used = 0
    for p in paragraphs:
        cost = len(p) + (len(sep) if out else 0)
        if used + cost <= budget:
            out.append(p)
            used += cost
            continue
        room = budget - used - (len(sep) if out else 0) - 1
        if room > 0:
            out.append(p[:room].rstrip() + "…")
        break
    return out


SYSTEMS: dict[str, Summariser] = {
    "summarise": ours,
    "centrality only": centrality_only,
    "Lead-1": lead(1),
    "Lead-2": lead(2),
    "truncate": truncate,
}


# --- metrics -------------------------------------------------------------------------------------


def rouge_tokens(text: str, language: str) -> list[str]:
    """Characters for Chinese/Japanese (Latin words and numbers inside stay whole), words for English."""
    text = text.lower()
    if language == "en":
        return re.findall(r"[a-z0-9]+", text)
    return _ROUGE_TOKEN.findall(text)


def _f1(overlap: int, candidate: int, reference: int) -> float:
    if not overlap:
        return 0.0
    p, r = overlap / candidate, overlap / reference
    return 2 * p * r / (p + r)


def rouge_1(candidate: list[str], reference: list[str]) -> float:
    counts: dict[str, int] = {}
    for t in reference:
        counts[t] = counts.get(t, 0) + 1
    overlap = 0
    for t in candidate:
        if counts.get(t, 0) > 0:
            counts[t] -= 1
            overlap += 1
    return _f1(overlap, len(candidate), len(reference))


def rouge_l(candidate: list[str], reference: list[str]) -> float:
    if not candidate or not reference:
        return 0.0
    prev = [0] * (len(reference) + 1)
    for c in candidate:
        cur = [0]
        for j, r in enumerate(reference):
            cur.append(prev[j] + 1 if c == r else max(prev[j + 1], cur[j]))
        prev = cur
    return _f1(prev[-1], len(candidate), len(reference))


def _shingles(text: str) -> set[str]:
    text = text.lower()
    if _CJK_CHAR.search(text):
        chars = [ch for ch in text if ch.isalnum()]
        return {a + b for a, b in zip(chars, chars[1:])}
    return set(re.findall(r"[a-z0-9]+", text))


def near_duplicates(a: str, b: str) -> bool:
    sa, sb = _shingles(a), _shingles(b)
    if not sa or not sb:
        return False
    inter = len(sa & sb)
    return inter / len(sa | sb) >= 0.6 or inter / min(len(sa), len(sb)) >= 0.8


def ending(summary: list[str], paragraphs: Sequence[str]) -> str:
    """'whole' if the summary ends where a sentence or paragraph of the source ends, 'clause' if it
    ends with `…` where the source has a clause mark, else 'mid'."""
    if not summary:
        return "whole"
    source = "\n".join(paragraphs)
    pieces = split_sentences(summary[-1])
    tail = pieces[-1] if pieces else summary[-1]
    pos = source.find(tail)
    if pos >= 0:
        end = pos + len(tail)
        if end >= len(source) or source[end] == "\n":
            return "whole"
        return "whole" if tail.rstrip(_CLOSERS)[-1:] in _END_MARKS else "mid"
    if tail.endswith("…"):
        stem = tail[:-1].rstrip()
        pos = source.find(stem)
        if pos >= 0:
            end = pos + len(stem)
            nxt = source[end : end + 1]
            if nxt in _CLAUSE_MARKS:
                return "clause"
            if nxt in ("", "\n"):
                return "whole"
    return "mid"


@dataclass
class Tally:
    r1: list[float] = field(default_factory=list)
    rl: list[float] = field(default_factory=list)
    chars: list[int] = field(default_factory=list)
    boilerplate: int = 0
    over_budget: int = 0
    mid_sentence: int = 0
    clause_cut: int = 0
    duplicates: int = 0
    empty: int = 0
    title_echo: int = 0
    speed: float = 0.0

    def add(self, summary: list[str], title: str, paragraphs: Sequence[str], language: str) -> None:
        text = joiner(language).join(summary)
        cand, ref = rouge_tokens(text, language), rouge_tokens(title, language)
        self.r1.append(rouge_1(cand, ref))
        self.rl.append(rouge_l(cand, ref))
        self.chars.append(len(text))
        self.boilerplate += bool(_BOILERPLATE.search(text))
        self.over_budget += len(text) > budget_of(language)
        end = ending(summary, paragraphs)
        self.mid_sentence += end == "mid"
        self.clause_cut += end == "clause"
        sentences = [s for piece in summary for s in split_sentences(piece)]
        self.duplicates += any(
            near_duplicates(a, b) for i, a in enumerate(sentences) for b in sentences[i + 1 :]
        )
        self.empty += not summary
        # The summary adds nothing to the headline it is shown under.
        ref_set = set(ref)
        self.title_echo += bool(cand) and sum(t in ref_set for t in cand) >= 0.8 * len(cand)


# --- corpus --------------------------------------------------------------------------------------


def load_articles(files: list[tuple[Path, Path | None]], label: str) -> tuple[list, int]:
    from bot.core.errors import RejectedPost
    from bot.feeds.ingest import (
        load_post,  # the cleaner is heavy (bs4, lxml); keep it out of import time
    )

    articles, rejected = [], 0
    with progress(label, len(files), every=500) as advance:
        for path, root in files:
            try:
                articles.append(load_post(path, root))
            except RejectedPost:
                rejected += 1
            advance(path.name)
    return articles, rejected


def quality(tallies: dict[str, Tally]) -> tuple[int, int, dict[str, int]]:
    files = [(p, REAL) for p in sorted(REAL.rglob("*.md"))] + [(p, None) for p in sorted(SEEDS.glob("*.txt"))]
    articles, rejected = load_articles(files, "loading corpus")
    with_text = [a for a in articles if a.paragraphs]
    languages: dict[str, int] = {}
    for a in with_text:
        languages[a.language] = languages.get(a.language, 0) + 1
        for name, system in SYSTEMS.items():
            tallies[name].add(system(a.paragraphs, a.title, a.language), a.title, a.paragraphs, a.language)
    return len(with_text), rejected + len(articles) - len(with_text), languages


def speed(tallies: dict[str, Tally], count: int, seed: int) -> int:
    with tempfile.TemporaryDirectory(prefix="newsbot-synth-") as tmp:
        subprocess.run(
            [sys.executable, str(SYNTH), "--out", tmp, "--count", str(count), "--seed", str(seed)],
            check=True, stdout=subprocess.DEVNULL,
        )
        files = [(p, Path(tmp)) for p in sorted(Path(tmp).rglob("*.md"))]
        articles, _ = load_articles(files, "loading synth posts")
    inputs = [(a.paragraphs, a.title, a.language) for a in articles]
    chunk = 100
    for name, system in SYSTEMS.items():
        # CPU time of this process, best of REPEATS: other work on the machine should not count.
        best = float("inf")
        with progress(f"timing {name}", REPEATS * len(inputs), every=10_000) as advance:
            for _ in range(REPEATS):
                elapsed = 0.0
                for start in range(0, len(inputs), chunk):
                    batch = inputs[start : start + chunk]
                    t0 = time.process_time()
                    for paragraphs, title, language in batch:
                        system(paragraphs, title, language)
                    elapsed += time.process_time() - t0
                    for _ in batch:
                        advance(name)
                best = min(best, elapsed)
        tallies[name].speed = len(inputs) / best if best else float("inf")
    return len(inputs)


def render(tallies: dict[str, Tally], n: int) -> str:
    def pct(k: int) -> str:
        return f"{100 * k / n:.0f}%" if n else "-"

    header = ("system", "R-1 F1", "R-L F1", "boilerpl.", "over budget", "mid-sent.", "near-dup",
              "clause-cut", "empty", "title echo", "avg chars", "articles/s")
    rows = [header]
    for name, t in tallies.items():
        rows.append((
            name, f"{sum(t.r1) / n:.3f}", f"{sum(t.rl) / n:.3f}", pct(t.boilerplate), pct(t.over_budget),
            pct(t.mid_sentence), pct(t.duplicates), pct(t.clause_cut), pct(t.empty), pct(t.title_echo),
            f"{sum(t.chars) / n:.0f}", f"{t.speed:,.0f}" if t.speed else "-",
        ))
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = [
        "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
        for r in rows
    ]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=2000, help="synth posts for the speed run (0 to skip)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)

    tallies = {name: Tally() for name in SYSTEMS}
    n, skipped, languages = quality(tallies)
    synth = speed(tallies, args.count, args.seed) if args.count else 0
    print(render(tallies, n))
    mix = ", ".join(f"{k} {v}" for k, v in sorted(languages.items()))
    print(
        f"\nquality: {n} articles with text ({mix}); {skipped} without text or rejected by the cleaner. "
        f"Reference: the human headline; ROUGE on characters (zh/ja) or lower-cased words (en). "
        f"Budget: {DEFAULT_MAX_CHARS['zh']} chars zh/ja, {DEFAULT_MAX_CHARS['en']} en; 2 sentences.\n"
        f"speed: {synth} synth posts (synth.py --seed {args.seed}), summariser only (posts parsed and "
        f"cleaned beforehand), one process, CPU time, best of {REPEATS}."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
