"""Costs of Chinese script folding and display (#17): `python -m bench.script [--count N]`.

On synth posts, half of them converted to Traditional (OpenCC s2t) so both scripts are in the corpus:
- folding at ingest: `match_fold` (NFKC + casefold + t2s) against `fold` alone, ms CPU an article, and
  the index text it makes (bytes, distinct tokens) with and without the script fold;
- display: converting one digest (20 titles + 2-sentence summaries + categories) and one search page
  (5 titles + snippets, character for character) for a Taiwan and a Simplified reader.
"""
from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

from bench.common import make_synth
from bot.core.clean import fold
from bot.core.query import fts_text
from bot.core.script import HANS, TW, converter, match_fold, to_script
from bot.feeds.ingest import build_article


def _cpu_ms(fn, items, rounds: int = 3) -> float:
    best = float("inf")
    for _ in range(rounds):
        t = time.process_time()
        for x in items:
            fn(x)
        best = min(best, time.process_time() - t)
    return best * 1000 / max(1, len(items))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=2000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = make_synth(Path(tmp) / "synth", args.count)
        texts: list[tuple[str, str]] = []
        for path in sorted(folder.rglob("*.md")):
            try:
                a = build_article(path.read_bytes(), source=str(path), name=path.stem)
            except Exception:  # the synth corpus's deliberate defects
                continue
            texts.append((a.title, "\n".join(a.paragraphs)))
    s2t = converter("s2t")
    rng = random.Random(17)
    mixed = [(s2t.convert(a), s2t.convert(b)) if rng.random() < 0.5 else (a, b) for a, b in texts]
    bodies = [a + "\n" + b for a, b in mixed]
    plain = _cpu_ms(fold, bodies)
    folded = _cpu_ms(match_fold, bodies)
    print(f"articles: {len(mixed)} (half Traditional), {statistics.mean(map(len, bodies)):.0f} characters on average")
    print(f"fold (NFKC + casefold):             {plain:.3f} ms CPU an article")
    print(f"match_fold (+ OpenCC t2s):          {folded:.3f} ms CPU an article (+{folded - plain:.3f} ms)")

    def index_text(fold_fn) -> tuple[int, int]:
        size, distinct = 0, set()
        for body in bodies:
            text = fts_text(fold_fn(body)) if fold_fn else fts_text(body)
            size += len(text.encode())
            distinct.update(text.split())
        return size, len(distinct)

    with_fold = index_text(None)  # fts_text folds scripts itself now
    without = sum(len(" ".join(_bigrams(fold(b))).encode()) for b in bodies), len({t for b in bodies for t in _bigrams(fold(b))})
    print(f"index text: {with_fold[0] / 1e6:.1f} MB, {with_fold[1]} distinct tokens folded; "
          f"{without[0] / 1e6:.1f} MB, {without[1]} distinct tokens unfolded (CJK bigrams)")
    digests = [mixed[i:i + 20] for i in range(0, len(mixed) - 20, 20)]
    for script in (TW, HANS):
        t = time.process_time()
        for d in digests:
            for title, body in d:
                to_script(title, script)
                to_script(body[:160], script)
                to_script("财经 › 要闻", script)
        per_digest = (time.process_time() - t) * 1000 / len(digests)
        t = time.process_time()
        pages = 0
        for d in digests:
            for title, body in d[:5]:
                to_script(title, script, same_length=True)
                to_script(body[:120], script, same_length=True)
            pages += 1
        per_page = (time.process_time() - t) * 1000 / pages
        print(f"display for {script}: {per_digest:.2f} ms a digest of 20, {per_page:.2f} ms a search page of 5 "
              "(first conversion of each text; repeats are cached)")


def _bigrams(text: str) -> list[str]:
    return [a + b for a, b in zip(text, text[1:], strict=False) if a >= "\u4e00" and b >= "\u4e00"]


if __name__ == "__main__":
    main()
