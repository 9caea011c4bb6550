"""Learn the summariser's sentence weights (bot/core/data/summary_weights.json) on validation data.

    .venv/bin/python -m bench.train_summariser /work/data/reference/lcsts_val.tsv [--write]

Data: the LCSTS validation split as bench/get_reference_data.py writes it (1,000 short Chinese news
texts with a human one-line summary). Never a test split. The objective is what bench.summarise
reports: character ROUGE-L F1 of the one sentence the summariser would choose against the human
summary. Coordinate ascent over a grid of values per weight, from several starts; the weights are
then checked by 2-fold cross-validation (fit on one half, score the other) and fitted on all of it.

The headline weight is not learned (the reference sets carry no headline) and stays as set by hand;
so do the English weights: no English validation set was found, and the English sets at hand are
drawn from CNN/DailyMail's and XSum's test splits, which are only evaluated on.
"""
from __future__ import annotations

import argparse
import json
import math
import random
from dataclasses import dataclass
from pathlib import Path

from bench.summarise import load_reference, rouge_l, rouge_tokens
from bot.core import summarise as core
from bot.core.summary_model import FEATURES

WEIGHTS_FILE = Path(__file__).resolve().parents[1] / "bot" / "core" / "data" / "summary_weights.json"
GRID = [-4.0, -2.0, -1.0, -0.5, -0.25, 0.0, 0.25, 0.5, 1.0, 2.0, 4.0]
LEARNED = [f for f in FEATURES if f != "title"]
DECAYS = [0.5, 1.0, 2.0]


@dataclass
class Doc:
    vectors: list[tuple[float, ...]]  # eligible candidates only
    weak: list[bool]
    gains: list[float]  # ROUGE-L F1 of each against the reference


def prepare(path: Path, decay: float, budget: int = 160) -> list[Doc]:
    docs = []
    for r in load_reference(path):
        ref = rouge_tokens(r.summary, "zh")
        found, _ = core._candidates(r.paragraphs, "", "zh", decay)
        keep = [c for c in found if c.eligible and len(c.text) <= budget]
        if keep:
            docs.append(Doc([c.vector for c in keep], [c.weak for c in keep],
                            [rouge_l(rouge_tokens(c.text, "zh"), ref) for c in keep]))
    return docs


def objective(docs: list[Doc], w: dict[str, float], weak: float) -> float:
    vec = [w.get(f, 0.0) for f in FEATURES]
    total = 0.0
    for d in docs:
        best, gain = -1.0, 0.0
        for v, is_weak, g in zip(d.vectors, d.weak, d.gains, strict=True):
            z = sum(a * b for a, b in zip(v, vec, strict=True))
            s = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))
            if is_weak:
                s *= weak
            if s > best:
                best, gain = s, g
        total += gain
    return total / max(len(docs), 1)


def fit(docs: list[Doc], start: dict[str, float], weak: float, rounds: int = 3) -> tuple[dict[str, float], float]:
    w = dict(start)
    best = objective(docs, w, weak)
    for _ in range(rounds):
        improved = False
        for f in LEARNED:
            for value in GRID:
                trial = {**w, f: value}
                score = objective(docs, trial, weak)
                if score > best + 1e-9:
                    w, best, improved = trial, score, True
        if not improved:
            break
    return w, best


def search(docs: list[Doc], weak: float, starts: int, seed: int) -> tuple[dict[str, float], float]:
    rng = random.Random(seed)
    base = dict.fromkeys(FEATURES, 0.0) | {"centrality": 1.0, "position": 1.0}
    candidates = [base] + [{f: rng.choice(GRID) for f in LEARNED} | {"title": 0.0} for _ in range(starts)]
    results = [fit(docs, start, weak) for start in candidates]
    return max(results, key=lambda r: r[1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", type=Path, help="lcsts_val.tsv (validation split only)")
    ap.add_argument("--starts", type=int, default=4)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--write", action="store_true", help=f"write {WEIGHTS_FILE.name}")
    args = ap.parse_args(argv)
    if "test" in args.data.name.lower():
        raise SystemExit("refusing to tune on a test split")

    current = json.loads(WEIGHTS_FILE.read_text(encoding="utf-8"))
    weak = float(current["weights"]["zh"]["weak"])
    title = float(current["weights"]["zh"]["title"])
    overall: tuple[float, float, dict[str, float]] | None = None
    for decay in DECAYS:
        docs = prepare(args.data, decay)
        half = len(docs) // 2
        a, b = docs[:half], docs[half:]
        wa, _ = search(a, weak, args.starts, args.seed)
        wb, _ = search(b, weak, args.starts, args.seed)
        held_out = (objective(b, wa, weak) * len(b) + objective(a, wb, weak) * len(a)) / len(docs)
        w, fitted = search(docs, weak, args.starts, args.seed)
        print(f"decay {decay}: 2-fold held-out R-L {100 * held_out:.2f}, fitted on all {100 * fitted:.2f}  {w}")
        if overall is None or held_out > overall[0]:
            overall = (held_out, decay, w)
    assert overall is not None
    held_out, decay, w = overall
    print(f"chosen: decay {decay}, held-out R-L {100 * held_out:.2f}")
    if args.write:
        group = {f: w.get(f, 0.0) for f in FEATURES} | {"title": title, "position_decay": decay,
                                                         "min_relative": current["weights"]["zh"]["min_relative"],
                                                         "weak": weak}
        current["weights"]["zh"] = group  # "en" stays as set by hand
        current["about"] = (
            "Summary sentence weights for bot.core.summary_model, learned by bench/train_summariser.py on the "
            "LCSTS validation split (CLUEbenchmark/CLGE LGECdataset/lcsts/val.tsv, 1,000 texts; see "
            f"bench/get_reference_data.py): 2-fold held-out character ROUGE-L {100 * held_out:.2f}. The title "
            "weight, min_relative and weak are set by hand (no headline in the data). The English weights are set by "
            "hand (centrality and position equally, title twice): no English validation set was found, so none are learned."
        )
        WEIGHTS_FILE.write_text(json.dumps(current, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote {WEIGHTS_FILE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
