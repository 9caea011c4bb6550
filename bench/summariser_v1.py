"""The previous summariser (version 1): the speed and quality baseline of bench.summarise.

Read at run time from the commit that last held it (8a1602b: bot/core/summarise.py and the
bot/core/sentences.py it used) and loaded as private modules, so every run times today's summariser
against it on the same machine at the same moment without a second copy of the code in the tree.
Needs the git history (a clone, not an exported tarball).
"""
from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

BASELINE_COMMIT = "8a1602b"
ROOT = Path(__file__).resolve().parents[1]


def _source(path: str) -> str:
    try:
        return subprocess.run(["git", "show", f"{BASELINE_COMMIT}:{path}"], cwd=ROOT, check=True,
                              capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        raise SystemExit(f"bench.summariser_v1: cannot read {path} at {BASELINE_COMMIT} from git ({exc}); "
                         "run the benchmark from a clone with its history") from exc


def _load(name: str, source: str) -> ModuleType:
    module = ModuleType(name)
    module.__file__ = f"<{BASELINE_COMMIT}:{name}>"
    sys.modules[name] = module
    exec(compile(source, module.__file__, "exec"), module.__dict__)  # our own code, from our own history
    return module


_sentences = _load("_summariser_v1_sentences", _source("bot/core/sentences.py"))
_summarise = _load("_summariser_v1", _source("bot/core/summarise.py").replace(
    "from bot.core.sentences import split_sentences", "from _summariser_v1_sentences import split_sentences"))

summarise: Callable[..., list[str]] = _summarise.summarise
