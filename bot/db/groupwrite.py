"""Group commit: concurrent writers share one transaction instead of queueing for the lock.

Each webhook request writes twice (claim, then complete). One transaction per write makes SQLite
writers wait on each other's lock and makes PostgreSQL pay a commit per write. Here writes are
queued and one task runs whatever is pending in a single transaction: under light load a batch
holds one write (no added latency), under heavy load dozens.

Operations are plain synchronous functions of a ``Connection`` (see bot.db.runner). They must not
fail for ordinary reasons (they use ON CONFLICT clauses); if a batch fails all the same, its
operations are retried one by one so that one bad write cannot fail its neighbours.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Connection

from bot.db.runner import DbRunner

log = logging.getLogger("pufa.db.groupwrite")

T = TypeVar("T")
Operation = Callable[[Connection], Any]
MAX_BATCH = 128


class GroupWriter:
    def __init__(self, runner: DbRunner, max_batch: int = MAX_BATCH) -> None:
        self.runner = runner
        self.max_batch = max_batch
        self._pending: list[tuple[Operation, asyncio.Future[Any]]] = []
        self._task: asyncio.Task[None] | None = None
        self.batches = 0
        self.writes = 0

    async def write(self, op: Callable[[Connection], T]) -> T:
        fut: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._pending.append((op, fut))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain())
        return await fut

    async def _drain(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[: self.max_batch], self._pending[self.max_batch :]
            self.batches += 1
            self.writes += len(batch)
            ops = [op for op, _ in batch]

            def run_all(conn: Connection, ops: list[Operation] = ops) -> list[Any]:
                return [op(conn) for op in ops]

            try:
                results = await self.runner.write(run_all)
            except Exception:
                log.warning("group write of %d failed; retrying one by one", len(batch), exc_info=True)
                for op, fut in batch:
                    try:
                        result = await self.runner.write(op)
                    except Exception as exc:
                        if not fut.done():
                            fut.set_exception(exc)
                    else:
                        if not fut.done():
                            fut.set_result(result)
                continue
            for (_, fut), result in zip(batch, results, strict=True):
                if not fut.done():
                    fut.set_result(result)
