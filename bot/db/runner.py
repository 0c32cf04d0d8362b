"""Runs the hot path's database work with as few thread hops as possible.

aiosqlite hands every driver call (execute, fetch, close, commit …) to its thread and back: a
webhook request made ~48 such hops, and under load the GIL hand-offs, not SQLite, set the pace
(measured: ~140 req/s). So database work on the hot path is written as plain synchronous functions
over a ``Connection`` (Core, not the ORM session: its bookkeeping cost more than the SQL) and run:

- on SQLite, in a dedicated thread with a synchronous engine on the same file (one hop per call;
  one writer thread, which is also all SQLite allows at a time);
- on PostgreSQL, through the async engine's greenlet bridge (asyncpg is truly asynchronous).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from sqlalchemy import Connection, Engine, create_engine
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db.session import configure_sqlite, is_sqlite

T = TypeVar("T")


class DbRunner:
    def __init__(self, engine: AsyncEngine, busy_timeout: float = 10.0) -> None:
        self.engine = engine
        self._sync: Engine | None = None
        self._writer: ThreadPoolExecutor | None = None
        self._readers: ThreadPoolExecutor | None = None
        if is_sqlite(str(engine.url)):
            url = engine.url.set(drivername="sqlite+pysqlite")
            self._sync = create_engine(
                url, connect_args={"timeout": busy_timeout, "isolation_level": None, "check_same_thread": False},
                pool_size=4, max_overflow=4,
            )
            configure_sqlite(self._sync, busy_timeout)
            self._writer = ThreadPoolExecutor(1, thread_name_prefix="pufa-db-write")
            self._readers = ThreadPoolExecutor(2, thread_name_prefix="pufa-db-read")

    async def write(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn`` in one write transaction (BEGIN IMMEDIATE on SQLite) and commit."""
        if self._sync is not None:
            return await asyncio.get_running_loop().run_in_executor(self._writer, self._sync_tx, fn, False)
        async with self.engine.begin() as conn:
            return await conn.run_sync(fn)

    async def read(self, fn: Callable[[Connection], T]) -> T:
        if self._sync is not None:
            return await asyncio.get_running_loop().run_in_executor(self._readers, self._sync_tx, fn, True)
        async with self.engine.connect() as conn:
            return await conn.run_sync(fn)

    def _sync_tx(self, fn: Callable[[Connection], T], readonly: bool) -> T:
        assert self._sync is not None
        bind = self._sync.execution_options(pufa_readonly=True) if readonly else self._sync
        with bind.begin() as conn:
            return fn(conn)

    def close(self) -> None:
        for pool in (self._writer, self._readers):
            if pool is not None:
                pool.shutdown(wait=True)
        if self._sync is not None:
            self._sync.dispose()
