"""What every `newsbot` command reads from its arguments beside the settings: the database path."""
from __future__ import annotations

import argparse
from pathlib import Path

from bot.core.settings import Settings


def db_path(args: argparse.Namespace, settings: Settings) -> Path:
    """`--db`, else NEWSBOT_DB."""
    return Path(getattr(args, "db", None) or settings.db_path)
