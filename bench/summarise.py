"""Benchmark the summariser against baselines: human-reference ROUGE, hygiene and speed, side by side.

    .venv/bin/python -m bench.summarise [--count 2000] [--seed 1] [--reference FILE.tsv ...]

With `--reference` (repeatable), each FILE.tsv holds `summary<TAB>text` lines, the text's paragraphs
separated by U+2029 (bench/get_reference_data.py makes them from public sets). Every system gets the
same character budget; the summariser and the lead take k sentences, k being the median number of
sentences of the set's references (or --k). ROUGE-1/2/L F1 is on characters for Chinese and Japanese
(Latin words and numbers inside stay whole) and on lower-cased words for English.

The hygiene figures run over every real post in ../shared/corpus/real/ and the seeds in
../shared/seeds/ (cleaned by bot.feeds.ingest; ROUGE there is against the headline) and over the synth
posts made by ../shared/corpus/synth.py, which also time the systems. ROUGE and every hygiene check are
written here, independently of bot.core.summarise, so the summariser is not graded by its own rules.
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

from bench import summariser_v1
from bot.cli.progress import progress
from bot.core.sentences import split_sentences
from bot.core.summarise import DEFAULT_MAX_CHARS, summarise

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
REAL = SHARED / "corpus" / "real"
SEEDS = SHARED / "seeds"
SYNTH = SHARED / "corpus" / "synth.py"
REPEATS = 5

Summariser = Callable[[Sequence[str], str, str], list[str]]

_ROUGE_TOKEN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[a-z0-9]+")
_CJK_CHAR = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_END_MARKS = set("。！？；…．!?.")
_CLOSERS = "”’）】」』》〕〉)]}»›\"'"
_CLAUSE_MARKS = set("，,;；、")
_SPACES = re.compile(r"[ \t\u3000\u00a0]+")

# What a reader would call boilerplate in a summary; deliberately not the summariser's own list.
_BOILERPLATE = re.compile(
    r"来源\s*[：:]|原标题|责任编辑|海量资讯|新浪财经APP|扫码|二维码|点击|下载\s*APP|转载请注明|版权所有"
    r"|查看知乎|讯\s*[（(]记者|[（(]记者[^）)]*[）)]|记者\s*\S{1,4}\s*摄"
    r"|Image credit|Related:|FTC:|Copyright|©|All rights reserved",
    re.IGNORECASE,
)
# Datelines, bylines and agency prefixes: the wire, not the news.
_BYLINE = re.compile(
    r"记者\s*[\w·]{1,8}(?:\s+[\w·]{1,8}){0,3}\s*(?:报道|摄)|(?:新华社|中新社|中新网)[^，。\s]{0,12}电"
    r"|讯\s*[（(]?(?:记者|通讯员)|\((?:Reuters|AP|AFP|CNN|Bloomberg)\)|^By\s*\.|PUBLISHED:|UPDATED:"
    r"|Last updated at \d"
)


# --- systems -------------------------------------------------------------------------------------


def budget_of(language: str) -> int:
    return DEFAULT_MAX_CHARS.get(language, 160)


def joiner(language: str) -> str:
    return " " if language == "en" else ""


def ours(paragraphs: Sequence[str], title: str, language: str) -> list[str]:
    return summarise(paragraphs, title, language)


def previous(paragraphs: Sequence[str], title: str, language: str) -> list[str]:
    """The previous summariser (version 1, read from git history by bench.summariser_v1): the speed baseline."""
    return summariser_v1.summarise(paragraphs, title, language)


def centrality_only(paragraphs: Sequence[str], title: str, language: str) -> list[str]:
    return summarise(paragraphs, title, language, priors=False)


def lead(n: int, budget: int | None = None) -> Summariser:
    """The first `n` sentences, as many as fit the budget (the first one cut at it if it alone does not)."""

    def first_sentences(paragraphs: Sequence[str], title: str, language: str) -> list[str]:
        limit = budget if budget is not None else budget_of(language)
        sep = len(joiner(language))
        out: list[str] = []
        used = 0
        for p in paragraphs:
            for sentence in split_sentences(p):
                cost = len(sentence) + (sep if out else 0)
                if len(out) >= n or used + cost > limit:
                    if not out and limit > 1:
                        out.append(sentence[: limit - 1].rstrip() + "…")
                    return out
                out.append(sentence)
                used += cost
        return out

    return first_sentences


def truncate(paragraphs: Sequence[str], title: str, language: str, budget: int | None = None) -> list[str]:
    """What feed readers do: the text from the top, cut at the budget with an ellipsis."""
    budget, sep = budget if budget is not None else budget_of(language), joiner(language)
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
    "summariser v1 (previous)": previous,
    "centrality only": centrality_only,
    "Lead-1": lead(1),
    "Lead-2": lead(2),
    "truncate": truncate,
}


def reference_systems(k: int, budget: int) -> dict[str, Summariser]:
    def ours_k(paragraphs: Sequence[str], title: str, language: str) -> list[str]:
        return summarise(paragraphs, title, language, max_sentences=k, max_chars=budget)

    def cut(paragraphs: Sequence[str], title: str, language: str) -> list[str]:
        return truncate(paragraphs, title, language, budget)

    def previous_k(paragraphs: Sequence[str], title: str, language: str) -> list[str]:
        return summariser_v1.summarise(paragraphs, title, language, max_sentences=k, max_chars=budget)

    return {f"summarise (k={k})": ours_k, f"summariser v1 (k={k})": previous_k, "Lead-1": lead(1, budget), "Lead-2": lead(2, budget),
            "Lead-3": lead(3, budget), "truncate to budget": cut}


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


def rouge_2(candidate: list[str], reference: list[str]) -> float:
    return rouge_1(list(map("\x00".join, zip(candidate, candidate[1:], strict=False))),
                   list(map("\x00".join, zip(reference, reference[1:], strict=False))))


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
        return {a + b for a, b in zip(chars, chars[1:], strict=False)}
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
    # Blanks do not count: a sentence splitter may drop the one before a stray closing quote.
    source = "\n".join(_SPACES.sub("", p) for p in paragraphs)
    pieces = split_sentences(summary[-1])
    tail = _SPACES.sub("", pieces[-1] if pieces else summary[-1])
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


def stitched(summary: list[str], paragraphs: Sequence[str]) -> bool:
    """Whether the summary reads as text the article does not hold: an item found in no single
    paragraph (a clause cut with `…` is looked up without it), or an item without an end mark followed
    by another (two line fragments glued into one "sentence")."""
    squeezed = [_SPACES.sub("", p) for p in paragraphs]  # blanks do not count, as in ending()
    for i, item in enumerate(summary):
        stem = _SPACES.sub("", item[:-1] if item.endswith("…") else item)
        if not any(stem in p for p in squeezed):
            return True
        if i + 1 < len(summary) and item.rstrip(_CLOSERS + " ")[-1:] not in _END_MARKS:
            return True
    return False


@dataclass
class Tally:
    r1: list[float] = field(default_factory=list)
    r2: list[float] = field(default_factory=list)
    rl: list[float] = field(default_factory=list)
    chars: list[int] = field(default_factory=list)
    boilerplate: int = 0
    byline: int = 0
    over_budget: int = 0
    mid_sentence: int = 0
    stitched: int = 0
    clause_cut: int = 0
    duplicates: int = 0
    empty: int = 0
    title_echo: int = 0
    n: int = 0
    speed: float = 0.0

    def add(self, summary: list[str], title: str, paragraphs: Sequence[str], language: str,
            reference: str | None = None, budget: int | None = None) -> None:
        """One summary; ROUGE against `reference` (the headline when None), hygiene against the source."""
        self.n += 1
        text = joiner(language).join(summary)
        cand, ref = rouge_tokens(text, language), rouge_tokens(reference if reference is not None else title, language)
        self.r1.append(rouge_1(cand, ref))
        self.r2.append(rouge_2(cand, ref))
        self.rl.append(rouge_l(cand, ref))
        self.chars.append(len(text))
        self.boilerplate += bool(_BOILERPLATE.search(text))
        self.byline += bool(_BYLINE.search(text))
        self.over_budget += len(text) > (budget if budget is not None else budget_of(language))
        end = ending(summary, paragraphs)
        self.mid_sentence += end == "mid"
        self.clause_cut += end == "clause"
        self.stitched += stitched(summary, paragraphs)
        sentences = [s for piece in summary for s in split_sentences(piece)]
        self.duplicates += any(
            near_duplicates(a, b) for i, a in enumerate(sentences) for b in sentences[i + 1 :]
        )
        self.empty += not summary
        # The summary adds nothing to the headline it is shown under.
        title_set = set(rouge_tokens(title, language))
        self.title_echo += bool(cand and title_set) and sum(t in title_set for t in cand) >= 0.8 * len(cand)


# --- corpus --------------------------------------------------------------------------------------


def load_articles(files: Sequence[tuple[Path, Path | None]], label: str) -> tuple[list, int]:
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


def speed(tallies: dict[str, Tally], synth_tallies: dict[str, Tally], count: int, seed: int) -> int:
    with tempfile.TemporaryDirectory(prefix="newsbot-synth-") as tmp:
        subprocess.run(
            [sys.executable, str(SYNTH), "--out", tmp, "--count", str(count), "--seed", str(seed)],
            check=True, stdout=subprocess.DEVNULL,
        )
        files = [(p, Path(tmp)) for p in sorted(Path(tmp).rglob("*.md"))]
        articles, _ = load_articles(files, "loading synth posts")
    inputs = [(a.paragraphs, a.title, a.language) for a in articles]
    for name, system in SYSTEMS.items():
        for paragraphs, title, language in inputs:
            synth_tallies[name].add(system(paragraphs, title, language), title, paragraphs, language)
    chunk = 100
    # CPU time of this process, best of REPEATS: other work on the machine should not count. The
    # systems take turns within each repeat, so a burst of load elsewhere hits them alike.
    best = dict.fromkeys(SYSTEMS, float("inf"))
    with progress("timing", REPEATS * len(SYSTEMS) * len(inputs), every=20_000) as advance:
        for _ in range(REPEATS):
            for name, system in SYSTEMS.items():
                elapsed = 0.0
                for start in range(0, len(inputs), chunk):
                    batch = inputs[start : start + chunk]
                    t0 = time.process_time()
                    for paragraphs, title, language in batch:
                        system(paragraphs, title, language)
                    elapsed += time.process_time() - t0
                    for _ in batch:
                        advance(name)
                best[name] = min(best[name], elapsed)
    for name in SYSTEMS:
        tallies[name].speed = len(inputs) / best[name] if best[name] else float("inf")
    return len(inputs)


def render(tallies: dict[str, Tally], rouge: str = "R-1 R-L") -> str:
    def pct(t: Tally, k: int) -> str:
        return f"{100 * k / t.n:.0f}%" if t.n else "-"

    def mean(xs: list[float]) -> str:
        return f"{100 * sum(xs) / len(xs):.1f}" if xs else "-"

    header = ("system", "R-1", "R-2", "R-L", "boilerpl.", "byline", "over budget", "mid-sent.", "stitched",
              "title echo", "near-dup", "clause-cut", "empty", "avg chars", "articles/s")
    rows = [header]
    for name, t in tallies.items():
        rows.append((
            name, mean(t.r1), mean(t.r2), mean(t.rl), pct(t, t.boilerplate), pct(t, t.byline),
            pct(t, t.over_budget), pct(t, t.mid_sentence), pct(t, t.stitched), pct(t, t.title_echo),
            pct(t, t.duplicates), pct(t, t.clause_cut), pct(t, t.empty), f"{sum(t.chars) / max(t.n, 1):.0f}",
            f"{t.speed:,.0f}" if t.speed else "-",
        ))
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = [
        "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True)))
        for r in rows
    ]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


# --- human references ----------------------------------------------------------------------------


@dataclass
class Reference:
    summary: str
    paragraphs: list[str]


def load_reference(path: Path) -> list[Reference]:
    out = []
    for line in path.read_text(encoding="utf-8").split("\n"):  # not splitlines(): U+2029 is inside a line
        summary, _, text = line.partition("\t")
        paragraphs = [p.strip() for p in text.split("\u2029") if p.strip()]
        if summary.strip() and paragraphs:
            out.append(Reference(summary.strip(), paragraphs))
    return out


def language_of(items: list[Reference]) -> str:
    sample = " ".join(r.paragraphs[0] for r in items[:50])
    cjk = len(_CJK_CHAR.findall(sample))
    if cjk < 0.2 * len(sample):
        return "en"
    return "ja" if re.search(r"[\u3040-\u30ff]", sample) and "の" in sample else "zh"


def typical_k(items: list[Reference], language: str) -> int:
    counts = sorted(len(split_sentences(r.summary)) for r in items)
    return min(max(counts[len(counts) // 2], 1), 5) if counts else 1


def run_reference(path: Path, k: int | None, budget: int | None) -> str:
    items = load_reference(path)
    language = language_of(items)
    k = k or typical_k(items, language)
    budget = budget or budget_of(language)
    systems = reference_systems(k, budget)
    tallies = {name: Tally() for name in systems}
    for name, system in systems.items():
        elapsed = 0.0
        for r in items:
            t0 = time.process_time()
            summary = system(r.paragraphs, "", language)
            elapsed += time.process_time() - t0
            tallies[name].add(summary, "", r.paragraphs, language, reference=r.summary, budget=budget)
        tallies[name].speed = len(items) / elapsed if elapsed else 0.0
    ours_rl = sum(tallies[f"summarise (k={k})"].rl) / len(items)
    lead_rl = sum(tallies[f"Lead-{min(k, 3)}"].rl) / len(items)
    return (
        f"{path.name}: {len(items)} texts, language {language}, k={k}, budget {budget} chars; "
        f"references average {sum(len(r.summary) for r in items) / len(items):.0f} chars\n"
        + render(tallies)
        + f"\nROUGE-L F1, summarise − Lead-{min(k, 3)}: {100 * (ours_rl - lead_rl):+.1f} points (target ≥ +1.0)\n"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=2000, help="synth posts for hygiene and speed (0 to skip)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--reference", action="append", default=[],
                    help="summary<TAB>text TSV of human references (repeatable); FILE.tsv:K sets k for it")
    ap.add_argument("--k", type=int, help="sentences for the summariser (default: the references' median)")
    ap.add_argument("--budget", type=int, help="characters for every system (default: 160 zh/ja, 320 en)")
    ap.add_argument("--skip-corpus", action="store_true", help="only the reference sets")
    args = ap.parse_args(argv)

    for spec in args.reference:
        # FILE.tsv:3 sets k for that file alone
        path, _, k = str(spec).rpartition(":") if str(spec).rpartition(":")[2].isdigit() else (str(spec), "", "")
        print(run_reference(Path(path), int(k) if k else args.k, args.budget))
    if args.skip_corpus:
        return 0

    tallies = {name: Tally() for name in SYSTEMS}
    synth_tallies = {name: Tally() for name in SYSTEMS}
    n, skipped, languages = quality(tallies)
    synth = speed(tallies, synth_tallies, args.count, args.seed) if args.count else 0
    mix = ", ".join(f"{k} {v}" for k, v in sorted(languages.items()))
    print(f"real posts: {n} articles with text ({mix}); {skipped} without text or rejected by the cleaner. "
          f"ROUGE against the human headline. Budget {DEFAULT_MAX_CHARS['zh']} chars zh/ja, "
          f"{DEFAULT_MAX_CHARS['en']} en; 2 sentences.")
    print(render(tallies))
    if synth:
        for name, t in synth_tallies.items():
            t.speed = tallies[name].speed
        print(f"\nsynth posts: {synth} (synth.py --seed {args.seed}); ROUGE against the headline. Speed: "
              f"summariser only (posts parsed and cleaned beforehand), one process, CPU time, best of {REPEATS}; "
              f"summarise: {1000 / tallies['summarise'].speed:.2f} ms CPU an article, the previous summariser "
              f"(v1) {1000 / tallies['summariser v1 (previous)'].speed:.2f} ms in the same run "
              f"(summarise takes {tallies['summariser v1 (previous)'].speed / tallies['summarise'].speed:.2f}x its CPU; target ≤ 1.00x).")
        print(render(synth_tallies))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
