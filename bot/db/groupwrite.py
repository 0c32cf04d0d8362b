"""Group commit: concurrent writers share one transaction instead of queueing for the lock.

Each webhook request writes twice (claim, then complete). One transaction per write makes SQLite
writers wait on each other's lock and makes PostgreSQL pay a commit per write. Here writes are
queued and whatever is pending runs in a single transaction: under light load a batch holds one
write (no added latency), under heavy load dozens.

On SQLite what is queued during one turn of the loop is written at the end of that turn, on the
loop itself (``DbRunner.write_on_loop``): a batch of the hot path's small statements commits in well
under a millisecond (WAL, no fsync per commit, no checkpoint), while handing it to a thread cost two
GIL hand-offs and a thread wake-up per batch, which set the pace of every request (measured side by
side in docs/benchmarks.md). When another connection holds the write lock the batch does not wait on
the loop: it and everything queued after it go to the runner's writer thread, whose jobs run batches
back to back (no loop round trip between batches) until the queue is empty, and only then does the
loop write again — so writes keep their order. A job yields the thread after a few batches so other
writes queued on it are not starved.

Operations are plain synchronous functions of a ``Connection`` (see bot.db.runner). They must not
fail for ordinary reasons (they use ON CONFLICT clauses); if a batch fails all the same, its
operations are retried one by one so that one bad write cannot fail its neighbours.

An operation may also be a ``Batchable``: one item of a kind that knows how to write many items
together. Neighbouring items of one kind in a batch (the claims, the completions of the hot path)
run as one call of their kind, in queue order: on PostgreSQL that is a few set-based statements
per batch instead of two or three round trips per message (each round trip a socket write that
wakes the server process, which set PostgreSQL's pace: docs/benchmarks.md).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from sqlalchemy import Connection

from bot.db.runner import DbRunner, WriterBusy

log = logging.getLogger("pufa.db.groupwrite")

T = TypeVar("T")
Operation = Callable[[Connection], Any]
Pending = tuple[Operation, "asyncio.Future[Any]"]
MAX_BATCH = 128
# Batches one writer-thread job runs before it lets other queued writes have the thread.
BATCHES_PER_JOB = 16


class BatchKind(Protocol):
    def run_many(self, conn: Connection, items: Sequence[Any]) -> list[Any]:
        """One result per item, in order."""
        ...


@dataclass(frozen=True, slots=True)
class Batchable:
    """One write that can share statements with neighbouring writes of the same kind."""

    kind: BatchKind
    item: Any

    def __call__(self, conn: Connection) -> Any:
        return self.kind.run_many(conn, [self.item])[0]


class GroupWriter:
    def __init__(self, runner: DbRunner, max_batch: int = MAX_BATCH) -> None:
        self.runner = runner
        self.max_batch = max_batch
        self._pending: deque[Pending] = deque()
        self._task: asyncio.Task[None] | None = None
        # SQLite: guards _pending and _job_queued between the loop and the writer thread.
        self._lock = threading.Lock()
        self._job_queued = False  # the writer thread owns the queue until it has emptied it
        self._flush_due = False  # a write on the loop is scheduled for the end of this turn
        self.on_loop = runner.threaded
        self.batches = 0
        self.writes = 0
        self.retried = 0  # batches that failed as a whole and were written one operation at a time

    async def write(self, op: Callable[[Connection], T]) -> T:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[T] = loop.create_future()
        if self.runner.threaded:
            with self._lock:
                self._pending.append((op, fut))
                thread_owns = self._job_queued
            if not thread_owns and not self._flush_due:
                if self.on_loop:
                    self._flush_due = True
                    loop.call_soon(self._flush_on_loop, loop)
                else:
                    self._start_thread_job(loop)
        else:
            self._pending.append((op, fut))
            if self._task is None or self._task.done():
                self._task = asyncio.create_task(self._drain())
        return await fut

    def _start_thread_job(self, loop: asyncio.AbstractEventLoop) -> None:
        with self._lock:
            if self._job_queued:
                return
            self._job_queued = True
        try:
            self.runner.submit_write(lambda: self._thread_job(loop))
        except RuntimeError:
            with self._lock:
                self._job_queued = False
            raise

    def _flush_on_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        self._flush_due = False
        while True:
            with self._lock:
                if self._job_queued:  # the writer thread has the queue (and writes it in order)
                    return
                batch = self._take()
            if not batch:
                return
            ops = [op for op, _ in batch]
            try:
                results = self.runner.write_on_loop(functools.partial(_run_all, ops))
            except Exception as exc:
                # Busy, or a failing batch: the writer thread waits for the lock or retries one by one.
                if not isinstance(exc, WriterBusy):
                    log.warning("group write of %d failed on the loop; retrying in the writer thread",
                                len(batch), exc_info=True)
                with self._lock:
                    self._pending.extendleft(reversed(batch))
                try:
                    self._start_thread_job(loop)
                except RuntimeError as closed:  # shutting down: fail what is queued, never leave it hanging
                    with self._lock:
                        failed = [self._pending.popleft() for _ in range(len(self._pending))]
                    _settle(failed, [(False, closed)] * len(failed))
                return
            self.batches += 1
            self.writes += len(batch)
            _settle(batch, [(True, r) for r in results])

    def _take(self) -> list[Pending]:
        pending, n = self._pending, min(len(self._pending), self.max_batch)
        return [pending.popleft() for _ in range(n)]

    # -- SQLite: on the writer thread ---------------------------------------------------------

    def _thread_job(self, loop: asyncio.AbstractEventLoop) -> None:
        batches = 0
        while True:
            with self._lock:
                batch = self._take()
                if not batch:
                    self._job_queued = False
                    return
            outcomes = self._run_batch_here(batch)
            loop.call_soon_threadsafe(_settle, batch, outcomes)
            batches += 1
            if batches >= BATCHES_PER_JOB:
                # Still busy: the next job queues behind whatever else waits for the writer thread.
                try:
                    self.runner.submit_write(lambda: self._thread_job(loop))
                    return
                except RuntimeError:  # the runner is closing: finish here
                    batches = 0

    def _run_batch_here(self, batch: list[Pending]) -> list[tuple[bool, Any]]:
        self.batches += 1
        self.writes += len(batch)
        ops = [op for op, _ in batch]
        try:
            return [(True, r) for r in self.runner.write_now(functools.partial(_run_all, ops))]
        except Exception:
            log.warning("group write of %d failed; retrying one by one", len(batch), exc_info=True)
        self.retried += 1
        outcomes: list[tuple[bool, Any]] = []
        for op in ops:
            try:
                outcomes.append((True, self.runner.write_now(op)))
            except Exception as exc:
                outcomes.append((False, exc))
        return outcomes

    # -- PostgreSQL: from a task on the loop --------------------------------------------------

    async def _drain(self) -> None:
        while self._pending:
            batch = self._take()
            self.batches += 1
            self.writes += len(batch)
            ops = [op for op, _ in batch]
            try:
                results = await self.runner.write(functools.partial(_run_all, ops))
            except Exception:
                log.warning("group write of %d failed; retrying one by one", len(batch), exc_info=True)
                self.retried += 1
                outcomes: list[tuple[bool, Any]] = []
                for op in ops:
                    try:
                        outcomes.append((True, await self.runner.write(op)))
                    except Exception as exc:
                        outcomes.append((False, exc))
                _settle(batch, outcomes)
                continue
            _settle(batch, [(True, r) for r in results])


def _run_all(ops: list[Operation], conn: Connection) -> list[Any]:
    """Every operation's result in order; a run of Batchable items of one kind in one call."""
    results: list[Any] = []
    i, n = 0, len(ops)
    while i < n:
        op = ops[i]
        if not isinstance(op, Batchable):
            results.append(op(conn))
            i += 1
            continue
        j = i + 1
        while j < n and isinstance(ops[j], Batchable) and ops[j].kind is op.kind:  # type: ignore[attr-defined]
            j += 1
        many = op.kind.run_many(conn, [o.item for o in ops[i:j]])  # type: ignore[attr-defined]
        if len(many) != j - i:
            raise RuntimeError(f"{type(op.kind).__name__}.run_many returned {len(many)} results for {j - i} items")
        results += many
        i = j
    return results


def _settle(batch: list[Pending], outcomes: list[tuple[bool, Any]]) -> None:
    for (_, fut), (ok, value) in zip(batch, outcomes, strict=True):
        if fut.done():
            continue
        if ok:
            fut.set_result(value)
        else:
            fut.set_exception(value)
