"""Fetch and convert the public reference-summary sets for `python -m bench.summarise --reference FILE.tsv`.

    .venv/bin/python -m bench.get_reference_data --out /work/data/reference \\
        [--clge GIT_DIR_OR_CHECKOUT] [--frank GIT_DIR_OR_CHECKOUT] \\
        [--cnndm-val GIT_DIR_OR_CHECKOUT [--cnndm-urls GIT_DIR_OR_CHECKOUT]] \\
        [--xsum-val GIT_DIR_OR_CHECKOUT [--xsum-splits GIT_DIR_OR_CHECKOUT]]

Writes one TSV per set, a line per text: `summary<TAB>text`, the text's paragraphs separated by U+2029.
The data is third-party: keep it outside the repository, never commit it, and respect each set's terms.

- `lcsts_val.tsv` — LCSTS as redistributed by CLUEbenchmark/CLGE (commit 2fb38e17, file
  LGECdataset/lcsts/val.tsv): the 1,000 texts of its **validation** split, short Weibo news with a
  human-written one-line summary. The only set the summariser is tuned on (bench.train_summariser).
- `cnndm_frank.tsv` and `xsum_frank.tsv` — the English news articles annotated by the FRANK benchmark
  (artidoro/frank, commit 5860706b, data/articles-wbertscore-json/*.json): CNN/DailyMail articles with
  their journalist-written highlights (3–4 bullet sentences) and BBC (XSum) articles with their
  journalist-written one-sentence summary (which XSum removes from the article's start). These texts
  come from those sets' *test* splits, so they are only ever used to evaluate, never to tune.
- `cnndm_val.tsv` — the first 1,000 articles of the CNN/DailyMail (3.0.0, non-anonymised) **validation**
  split, cased and untokenised, with their journalist-written highlights, as saved by
  hillaryke/rag-optimization-cnn-dailymail (commit f52af709, data/collection/cnn_dailymail_validation_subset.csv,
  columns article,highlights,id; its README: `load_dataset("cnn_dailymail", "3.0.0", split="validation[:1000]")`).
  Checked: every id (the SHA-1 of the story's URL) is in abisee/cnn-dailymail's url_lists/all_val.txt and
  none in all_test.txt (`--cnndm-urls` repeats that check). The articles have no paragraph breaks left, so
  their sentences are grouped into paragraphs of two or three.
- `xsum_val.tsv` — 979 BBC articles of the XSum **validation** split with their journalist-written
  one-sentence summary, cased and untokenised, as OpenCompass redistributes them (data/Xsum/dev.jsonl,
  committed by Clouditera/opencompass, commit 22d6f1ed; the file is cut off inside its 981st record, and
  one record has no text). Checked: every BBC id is in the "validation" list of EdinburghNLP/XSum's
  XSum-Dataset/XSum-TRAINING-DEV-TEST-SPLIT-90-5-5.json and none in "test" (`--xsum-splits` repeats that
  check). The article's lines are its paragraphs.

Each source is read from a git directory or a checkout of that repository (`git clone` it, or any
mirror of it); `git show COMMIT:PATH` is used for git directories, so an old commit is enough.
Without a local copy the same files can be downloaded from https://github.com/CLUEbenchmark/CLGE,
https://github.com/artidoro/frank, https://github.com/hillaryke/rag-optimization-cnn-dailymail,
https://github.com/Clouditera/opencompass, https://github.com/abisee/cnn-dailymail and
https://github.com/EdinburghNLP/XSum (at the commits above; the last two only for the split checks).

Long Chinese news with human summaries (NLPCC 2017 TTNews, NEWSFARM, CNewSum, CLTS) were looked for in
public repositories and not found in a readable form here (the files are distributed by download links, or
are larger than the tools could fetch); see the README's "Evaluation data".
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import subprocess
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

from bot.core.sentences import split_sentences

PARAGRAPH = "\u2029"
CLGE_COMMIT = "2fb38e170310698193780fdcd532190dfe6fc5ce"
CLGE_LCSTS_VAL = "LGECdataset/lcsts/val.tsv"
FRANK_COMMIT = "5860706bda0641136d10d27ead52c5f6ae79630e"
FRANK_ARTICLES = "data/articles-wbertscore-json"
CNNDM_VAL_COMMIT = "f52af709252f0d34531c980abb98d7ddd45254e5"  # hillaryke/rag-optimization-cnn-dailymail
CNNDM_VAL = "data/collection/cnn_dailymail_validation_subset.csv"
CNNDM_URLS_COMMIT = "b15ad0a2db0d407a84b8ca9b5731e1f1c4bd24b9"  # abisee/cnn-dailymail
CNNDM_URLS = {"val": "url_lists/all_val.txt", "test": "url_lists/all_test.txt"}
XSUM_VAL_COMMIT = "22d6f1ed0f94622199c04bc2220c34a6def5f2a2"  # Clouditera/opencompass
XSUM_VAL = "data/Xsum/dev.jsonl"
XSUM_SPLITS_COMMIT = "7b95485c3e861d7caff76a8b4c6b3fd3bf7ee9b1"  # EdinburghNLP/XSum
XSUM_SPLITS = "XSum-Dataset/XSum-TRAINING-DEV-TEST-SPLIT-90-5-5.json"


def _is_git_dir(path: Path) -> bool:
    return (path / "HEAD").is_file() and (path / "objects").is_dir()


def _read(repo: Path, commit: str, path: str) -> str:
    if _is_git_dir(repo):
        return subprocess.run(["git", "--git-dir", str(repo), "show", f"{commit}:{path}"],
                              check=True, capture_output=True).stdout.decode("utf-8")
    return (repo / path).read_text(encoding="utf-8")


def _list(repo: Path, commit: str, folder: str) -> list[str]:
    if _is_git_dir(repo):
        out = subprocess.run(["git", "--git-dir", str(repo), "ls-tree", "--name-only", f"{commit}:{folder}"],
                             check=True, capture_output=True, text=True).stdout
        return [f"{folder}/{name}" for name in out.split()]
    return [str(p.relative_to(repo)) for p in sorted((repo / folder).glob("*.json"))]


def _clean(text: str) -> str:
    return " ".join(text.replace("\t", " ").split())


def lcsts(repo: Path) -> Iterator[tuple[str, str]]:
    for line in _read(repo, CLGE_COMMIT, CLGE_LCSTS_VAL).splitlines():
        summary, _, text = line.partition("\t")
        if summary.strip() and text.strip():
            yield _clean(summary), _clean(text)


def _detokenise(text: str) -> str:
    """FRANK keeps the CNN/DM highlights tokenised ("Friday . The club"); ROUGE ignores punctuation, but
    the TSV should read as text."""
    for a, b in ((" .", "."), (" ,", ","), (" 's", "'s"), (" n't", "n't"), (" ?", "?"), (" !", "!")):
        text = text.replace(a, b)
    return text


def frank(repo: Path) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    cnndm: list[tuple[str, str]] = []
    xsum: list[tuple[str, str]] = []
    for path in _list(repo, FRANK_COMMIT, FRANK_ARTICLES):
        record = json.loads(_read(repo, FRANK_COMMIT, path))
        paragraphs = [_clean(line) for line in record.get("article_lines", []) if line.strip()]
        if not paragraphs:
            continue
        text = PARAGRAPH.join(paragraphs)
        if "bart_reference" in record:  # CNN/DM: the highlights, one bullet a sentence
            cnndm.append((_detokenise(_clean(record["bart_reference"])), text))
        elif "Gold" in record:  # XSum: the article's first sentence, removed from it
            xsum.append((_clean(record["Gold"]), text))
    return cnndm, xsum


def _paragraphs(text: str) -> list[str]:
    """A text without paragraph breaks as paragraphs of two or three sentences (one if it has one)."""
    sentences = split_sentences(text)
    count = max(1, round(len(sentences) / 2.5))
    bounds = [round(i * len(sentences) / count) for i in range(count + 1)]
    return [" ".join(sentences[a:b]) for a, b in pairwise(bounds) if b > a]


def _highlights(bullets: str) -> str:
    """CNN/DM highlights, a bullet a line, as sentences: the " ." that abisee's make_datafiles appends to a
    bullet without an end mark becomes "."; a bullet ending any other way but `.!?` gets a "."."""
    out = []
    for line in bullets.splitlines():
        bullet = _clean(line)
        if bullet.endswith(" ."):
            bullet = bullet[:-2].rstrip() + "."
        if bullet and bullet[-1] not in ".!?" and bullet.rstrip("\"'”’)")[-1:] not in (".", "!", "?"):
            bullet += "."
        if bullet:
            out.append(bullet)
    return " ".join(out)


def cnndm_val(repo: Path, urls: Path | None = None) -> list[tuple[str, str]]:
    """The 1,000 CNN/DM validation articles; with `urls` (abisee/cnn-dailymail), only ids in its validation list."""
    allowed: set[str] | None = None
    if urls:
        split = {name: {hashlib.sha1(url.encode()).hexdigest() for url in _read(urls, CNNDM_URLS_COMMIT, path).split()}
                 for name, path in CNNDM_URLS.items()}
        allowed = split["val"] - split["test"]
    rows: list[tuple[str, str]] = []
    dropped = 0
    for record in csv.DictReader(io.StringIO(_read(repo, CNNDM_VAL_COMMIT, CNNDM_VAL), newline="")):
        if allowed is not None and record["id"] not in allowed:
            dropped += 1
            continue
        summary, text = _highlights(record["highlights"]), _clean(record["article"])
        if summary and text:
            rows.append((summary, PARAGRAPH.join(_paragraphs(text))))
    if dropped:
        print(f"cnndm_val: {dropped} ids not in the validation URL list, left out")
    return rows


def xsum_val(repo: Path, splits: Path | None = None) -> list[tuple[str, str]]:
    """XSum validation articles (OpenCompass's dev.jsonl); with `splits` (EdinburghNLP/XSum), only validation ids."""
    allowed: set[str] | None = None
    if splits:
        split = json.loads(_read(splits, XSUM_SPLITS_COMMIT, XSUM_SPLITS))
        allowed = set(map(str, split["validation"])) - set(map(str, split["test"]))
    rows: list[tuple[str, str]] = []
    dropped = 0
    for line in _read(repo, XSUM_VAL_COMMIT, XSUM_VAL).split("\n"):
        try:
            record = json.loads(line)
        except json.JSONDecodeError:  # blank, or the record the file is cut off in
            continue
        if allowed is not None and str(record["id"]) not in allowed:
            dropped += 1
            continue
        document, summary = record.get("dialogue"), record.get("summary")
        if not (isinstance(document, str) and isinstance(summary, str)):  # one record's text is NaN
            continue
        paragraphs = [_clean(p) for p in document.split("\n") if p.strip()]
        if paragraphs and summary.strip():
            rows.append((_clean(summary), PARAGRAPH.join(paragraphs)))
    if dropped:
        print(f"xsum_val: {dropped} ids not in the validation split, left out")
    return rows


def _write(path: Path, rows: list[tuple[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for summary, text in rows:
            out.write(f"{summary}\t{text}\n")
    print(f"{path}: {len(rows)} texts")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path("/work/data/reference"))
    ap.add_argument("--clge", type=Path, help="git dir or checkout of CLUEbenchmark/CLGE")
    ap.add_argument("--frank", type=Path, help="git dir or checkout of artidoro/frank")
    ap.add_argument("--cnndm-val", type=Path, help="git dir or checkout of hillaryke/rag-optimization-cnn-dailymail")
    ap.add_argument("--cnndm-urls", type=Path, help="git dir or checkout of abisee/cnn-dailymail (checks the split)")
    ap.add_argument("--xsum-val", type=Path, help="git dir or checkout of Clouditera/opencompass")
    ap.add_argument("--xsum-splits", type=Path, help="git dir or checkout of EdinburghNLP/XSum (checks the split)")
    args = ap.parse_args(argv)
    if args.clge:
        _write(args.out / "lcsts_val.tsv", list(lcsts(args.clge)))
    if args.frank:
        cnndm, xsum = frank(args.frank)
        _write(args.out / "cnndm_frank.tsv", cnndm)
        _write(args.out / "xsum_frank.tsv", xsum)
    if args.cnndm_val:
        _write(args.out / "cnndm_val.tsv", cnndm_val(args.cnndm_val, args.cnndm_urls))
    if args.xsum_val:
        _write(args.out / "xsum_val.tsv", xsum_val(args.xsum_val, args.xsum_splits))
    if not (args.clge or args.frank or args.cnndm_val or args.xsum_val):
        ap.error("give --clge, --frank, --cnndm-val and/or --xsum-val")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
