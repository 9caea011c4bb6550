"""Fetch and convert the public reference-summary sets for `python -m bench.summarise --reference FILE.tsv`.

    .venv/bin/python -m bench.get_reference_data --out /work/data/reference \\
        [--clge GIT_DIR_OR_CHECKOUT] [--frank GIT_DIR_OR_CHECKOUT]

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

Each source is read from a git directory or a checkout of that repository (`git clone` it, or any
mirror of it); `git show COMMIT:PATH` is used for git directories, so an old commit is enough.
Without a local copy the same files can be downloaded from https://github.com/CLUEbenchmark/CLGE and
https://github.com/artidoro/frank (at the commits above).

Long Chinese news with human summaries (NLPCC 2017 TTNews, NEWSFARM) were looked for in public
repositories and not found in a readable form here (the files are distributed by download links, or
are larger than the tools could fetch); see the README's "Evaluation data".
"""
from __future__ import annotations

import argparse
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

PARAGRAPH = "\u2029"
CLGE_COMMIT = "2fb38e170310698193780fdcd532190dfe6fc5ce"
CLGE_LCSTS_VAL = "LGECdataset/lcsts/val.tsv"
FRANK_COMMIT = "5860706bda0641136d10d27ead52c5f6ae79630e"
FRANK_ARTICLES = "data/articles-wbertscore-json"


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
    args = ap.parse_args(argv)
    if args.clge:
        _write(args.out / "lcsts_val.tsv", list(lcsts(args.clge)))
    if args.frank:
        cnndm, xsum = frank(args.frank)
        _write(args.out / "cnndm_frank.tsv", cnndm)
        _write(args.out / "xsum_frank.tsv", xsum)
    if not (args.clge or args.frank):
        ap.error("give --clge and/or --frank")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
