"""One running bot per database: an exclusive lock on `<db>.lock`, released by the OS when the process ends.

A second `newsbot run` on the same file (an overlapping deploy, a double start) waits for the first to
stop, up to a limit, instead of planning and sending the same messages twice. `kill -9` frees the lock.
"""
from __future__ import annotations

import asyncio
import fcntl
import os
from pathlib import Path

WAIT_STEP = 0.25


class DatabaseBusy(RuntimeError):
    """Another process holds the database's runner lock."""


class RunnerLock:
    def __init__(self, db_path: Path | str) -> None:
        self.path = Path(f"{db_path}.lock")
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    def holder(self) -> str:
        """The pid written by the process that holds the lock (for the error message)."""
        try:
            return self.path.read_text().strip() or "?"
        except OSError:
            return "?"

    async def acquire(self, wait: float) -> None:
        """Take the lock, waiting up to `wait` seconds for a running bot to stop; DatabaseBusy if it doesn't."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while not self.try_acquire():
            if loop.time() >= deadline:
                raise DatabaseBusy(f"another newsbot (pid {self.holder()}) is running on this database; "
                                   "stop it first or use another NEWSBOT_DB")
            await asyncio.sleep(WAIT_STEP)

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def held_elsewhere(self) -> bool:
        """True while another process runs a bot on this database (restore and similar checks)."""
        if self._fd is not None:
            return False
        if self.try_acquire():
            self.release()
            return False
        return True
