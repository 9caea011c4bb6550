"""The category tree built from stored category paths: resolve what a user typed, suggest close names.

Pure. A category is a path, top level first ("金融", "新浪财经", "新浪财经－国內"); every prefix of a
stored path is itself a category (subscribing to a level includes everything below it).
"""
from __future__ import annotations

import difflib
import hashlib
import re
from dataclasses import dataclass

from bot.core.script import match_fold as fold  # names match in either Chinese script

# A separator and the blanks around it. Blanks before it are only tried from the first of a run: from
# each blank, `\s*` read to the end of the run again (quadratic on "a" + " " * n + "b/c").
PATH_SPLIT = re.compile(r"(?:(?<!\s)\s++)?[/›>»]\s*+")
SUGGEST_SIMILARITY = 0.4


@dataclass(frozen=True, slots=True)
class Node:
    path: tuple[str, ...]
    count: int  # articles at or below this node

    @property
    def name(self) -> str:
        return self.path[-1]

    @property
    def depth(self) -> int:
        return len(self.path) - 1

    @property
    def label(self) -> str:
        return " › ".join(self.path)

    @property
    def token(self) -> str:
        """Short stable id for callback data (8 hex chars)."""
        return category_token(self.path)


def category_token(path: tuple[str, ...]) -> str:
    return hashlib.blake2b("\x1f".join(fold(p) for p in path).encode(), digest_size=4).hexdigest()


def build_tree(counts: list[tuple[tuple[str, ...], int]]) -> list[Node]:
    """Every level of every stored path with its article count, in tree (depth-first, sorted) order."""
    totals: dict[tuple[str, ...], int] = {}
    display: dict[tuple[str, ...], tuple[str, ...]] = {}
    for path, n in counts:
        for depth in range(1, len(path) + 1):
            key = tuple(fold(p) for p in path[:depth])
            totals[key] = totals.get(key, 0) + n
            display.setdefault(key, path[:depth])
    return [Node(display[k], totals[k]) for k in sorted(totals)]


@dataclass(frozen=True, slots=True)
class Resolved:
    node: Node | None
    candidates: tuple[Node, ...] = ()   # several exact matches (ambiguous) or close names (unknown)
    ambiguous: bool = False


def resolve(tree: list[Node], text: str) -> Resolved:
    """Match a typed name against the tree: a full path ("金融/新浪财经"), or any level's name.

    Case-insensitive after NFKC (full-width = half-width). A name found at several places is ambiguous
    (the user is shown the full paths to choose from). Unknown names get up to 3 close existing names.
    """
    wanted = [fold(p) for p in PATH_SPLIT.split(text.strip()) if p]
    if not wanted:
        return Resolved(None)
    by_path = {tuple(fold(p) for p in n.path): n for n in tree}
    if tuple(wanted) in by_path:
        return Resolved(by_path[tuple(wanted)])
    # A suffix of a path ("新浪财经/新浪财经－国內") or a single level's name.
    matches = [n for key, n in by_path.items() if len(key) >= len(wanted) and key[-len(wanted):] == tuple(wanted)]
    if len(matches) == 1:
        return Resolved(matches[0])
    if matches:
        return Resolved(None, tuple(sorted(matches, key=lambda n: n.path)[:5]), ambiguous=True)
    return Resolved(None, suggest(tree, text))


def suggest(tree: list[Node], text: str, limit: int = 3) -> tuple[Node, ...]:
    """Closest existing names: substring matches first, then difflib similarity."""
    needle = fold(text.strip())
    if not needle:
        return ()
    contains = [n for n in tree if needle in fold(n.name) or fold(n.name) in needle]
    similarity = {n: _similarity(needle, fold(n.name)) for n in tree}
    scored = sorted(tree, key=lambda n: (-similarity[n], n.path))
    close = [n for n in scored if similarity[n] >= SUGGEST_SIMILARITY]
    seen: list[Node] = []
    for n in contains + close:
        if n not in seen:
            seen.append(n)
    return tuple(seen[:limit])


def _similarity(a: str, b: str) -> float:
    """difflib's ratio where it can reach SUGGEST_SIMILARITY, else 0. The ratio costs the product of the
    lengths (a pasted 4,000-character "name" against every category took seconds); its cheap upper
    bounds rule most pairs out first."""
    matcher = difflib.SequenceMatcher(None, a, b)
    if matcher.real_quick_ratio() < SUGGEST_SIMILARITY or matcher.quick_ratio() < SUGGEST_SIMILARITY:
        return 0.0
    return matcher.ratio()


def by_token(tree: list[Node], token: str) -> Node | None:
    for n in tree:
        if n.token == token:
            return n
    return None

