"""Worker processes for the untrusted text work of a poll, so that it can never stall the event loop.

Parsing a fetched document, and cleaning, summarising and tokenising each item or folder post, run in
a small pool of processes (forkserver; the regex engine holds the GIL, so a thread would not do). Each
task has a time budget: a worker that overruns it is killed, its task fails with `TookTooLong` (the
item is rejected "took too long") and a fresh worker takes its place. The event loop only sends the
task and waits, without blocking, for the answer on the worker's pipe.
"""
from __future__ import annotations

import asyncio
import logging
import multiprocessing
import threading
from collections import deque
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, TypeVar

from bot.feeds.ingest import WORKER_MODULES

log = logging.getLogger(__name__)

ITEM_BUDGET = 5.0          # seconds to build, summarise and tokenise one item or folder post
DOCUMENT_BUDGET = 30.0     # seconds to parse one fetched document (≤ 10 MB) and pick its items
POOL_SIZE = 2
TASKS_PER_WORKER = 500     # a worker is retired after this many tasks (huge items leave it bigger)
PRELOAD = (*WORKER_MODULES, "bot.feeds.tasks", "bot.core.feed_items", "feedparser")

T = TypeVar("T")


class TookTooLong(Exception):
    """A task overran its time budget; its worker was killed and replaced."""

    def __init__(self, budget: float) -> None:
        super().__init__(f"took too long (over {budget:g} s)")
        self.budget = budget


class WorkerFailed(Exception):
    """A task raised in its worker, or the worker died; the message names the exception."""


def _serve(conn: Connection) -> None:
    """A worker's loop: (function, args) in, ("ok", result) or ("error", text) out, until EOF."""
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        func, args = task
        try:
            answer: tuple[str, Any] = ("ok", func(*args))
        except Exception as exc:  # reported to the caller, the worker carries on
            answer = ("error", f"{exc.__class__.__name__}: {exc}"[:500])
        try:
            conn.send(answer)
        except Exception as exc:  # an unpicklable result
            conn.send(("error", f"{exc.__class__.__name__}: {exc}"[:500]))


class _Worker:
    def __init__(self, context: Any) -> None:
        self.conn, child = context.Pipe(duplex=True)
        self.process = context.Process(target=_serve, args=(child,), daemon=True, name="newsbot-worker")
        self.process.start()
        child.close()
        self.tasks = 0

    def kill(self) -> None:
        try:
            self.conn.close()
        finally:
            if self.process.is_alive():
                self.process.kill()
            # Reaped in a thread: the event loop does not wait for the exit.
            threading.Thread(target=self.process.join, args=(5,), daemon=True).start()


class WorkerPool:
    """At most `size` worker processes, started on first use; `await pool.run(budget, func, *args)`.

    `func` must be a module-level function (it is pickled by name) and its result picklable.
    """

    def __init__(self, size: int = POOL_SIZE) -> None:
        self.size = max(1, size)
        self._idle: list[_Worker] = []
        self._started = 0
        self._waiters: deque[asyncio.Future[_Worker | None]] = deque()
        self.killed = 0  # workers killed for overrunning a budget (for tests and benchmarks)

    async def run(self, budget: float, func: Callable[..., T], *args: Any) -> T:
        """func(*args) in a worker. Raises TookTooLong after `budget` seconds, WorkerFailed if it raised."""
        worker = await self._acquire()
        healthy = False
        try:
            async with asyncio.timeout(budget):
                # Pickling and piping megabytes (a whole document) in a thread: the loop keeps running.
                await asyncio.to_thread(worker.conn.send, (func, args))
                await _readable(worker.conn)
            status, value = await asyncio.to_thread(worker.conn.recv)
            healthy = True
        except TimeoutError:
            self.killed += 1
            log.warning("event=worker_over_budget task=%s budget=%s", getattr(func, "__name__", func), budget)
            raise TookTooLong(budget) from None
        except (EOFError, OSError) as exc:  # the worker died (out of memory, killed)
            raise WorkerFailed(f"worker died: {exc.__class__.__name__}") from None
        finally:
            self._release(worker, healthy)
        if status != "ok":
            raise WorkerFailed(value)
        return value

    async def _acquire(self) -> _Worker:
        if self._idle:
            return self._idle.pop()
        if self._started < self.size:
            self._started += 1
            try:
                # Starting the forkserver imports the pipeline once (a second or two): not on the loop.
                return await asyncio.to_thread(_Worker, _context())
            except BaseException:
                self._started -= 1
                raise
        waiter: asyncio.Future[_Worker | None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            got = await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._hand_over(waiter.result())
            raise
        return got if got is not None else await self._acquire()

    def _release(self, worker: _Worker, healthy: bool) -> None:
        worker.tasks += 1
        if healthy and worker.tasks < TASKS_PER_WORKER:
            self._hand_over(worker)
            return
        worker.kill()
        self._started -= 1
        self._hand_over(None)  # a waiter may start a fresh worker

    def _hand_over(self, worker: _Worker | None) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(worker)
                return
        if worker is not None:
            self._idle.append(worker)

    def close(self) -> None:
        """Stop every idle worker (busy ones stop when their caller gives them back or the process ends)."""
        while self._idle:
            worker = self._idle.pop()
            worker.kill()
            self._started -= 1


async def _readable(conn: Connection) -> None:
    """Wait, without blocking the loop, until the worker answered (or died)."""
    loop = asyncio.get_running_loop()
    ready = loop.create_future()
    fd = conn.fileno()
    def wake() -> None:
        if not ready.done():
            ready.set_result(None)

    loop.add_reader(fd, wake)
    try:
        await ready
    finally:
        loop.remove_reader(fd)


def _context() -> Any:
    # forkserver: workers never inherit this process's threads (aiosqlite, asyncio) mid-flight.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(PRELOAD))
    return context


_shared: WorkerPool | None = None


def shared_pool() -> WorkerPool:
    """The process's pool, used by every poll that is not handed one (started on first use)."""
    global _shared
    if _shared is None:
        _shared = WorkerPool()
    return _shared
