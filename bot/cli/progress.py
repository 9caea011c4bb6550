"""Progress for long CLI work: a rich progress bar on a terminal, a plain line every N items otherwise."""
from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn


@contextmanager
def progress(label: str, total: int | None = None, *, every: int = 1000, stream=None) -> Iterator[Callable[[str], None]]:
    """Yields `advance(item)`; call it once per item done."""
    stream = stream or sys.stderr
    if stream.isatty():

        with Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
            transient=False,
        ) as bar:
            task = bar.add_task(label, total=total)
            yield lambda _item: bar.advance(task)
        return
    done = 0

    def advance(_item: str) -> None:
        nonlocal done
        done += 1
        if done % every == 0:
            suffix = f"/{total}" if total else ""
            print(f"{label}: {done}{suffix}", file=stream, flush=True)

    yield advance
