"""The wheel is complete: built from this tree and unpacked elsewhere, it runs the offline demo on its own
(migrations, bundled demo posts, catalogues and the sandbox are all inside; nothing is read from the repo)."""
from __future__ import annotations

import os
import subprocess
import sys
import zipfile

import pytest

from tests.support.paths import ROOT


@pytest.mark.slow
def test_wheel_runs_the_demo_outside_the_source_tree(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(dist),
                    str(ROOT)], check=True, capture_output=True, timeout=300)
    (wheel,) = dist.glob("newsbot-*.whl")
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        zf.extractall(site)
    assert any(n.startswith("storage/migrations/") and n.endswith(".sql") for n in names)
    assert any(n.startswith("bot/cli/demo_posts/") and n.endswith(".md") for n in names)
    assert not any(n.startswith("tests/") for n in names)
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "newsbot = bot.cli.main:main" in (site / entry_points).read_text()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSBOT_", "TELEGRAM_"))}
    env.update(PYTHONPATH=str(site), NEWSBOT_DB=str(elsewhere / "demo.sqlite3"))
    run = subprocess.run([sys.executable, "-c", "import bot, sys; from bot.cli.main import main; "
                          "assert bot.__file__.startswith(sys.argv[1]), bot.__file__; sys.exit(main(['demo']))",
                          str(site)], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "/latest" in run.stdout and "demo finished" in run.stdout
