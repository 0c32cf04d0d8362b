"""Runs the hot path's database work with as few thread hops as possible.

aiosqlite hands every driver call (execute, fetch, close, commit …) to its thread and back: a
webhook request made ~48 such hops, and under load the GIL hand-offs, not SQLite, set the pace
(measured: ~140 req/s). So database work on the hot path is written as plain synchronous functions
over a ``Connection`` (Core, not the ORM session: its bookkeeping cost more than the SQL) and run:

- on SQLite, group writes (bot.db.groupwrite) on the loop itself when the write lock is free at
  once, else in a dedicated writer thread with a synchronous engine on the same file (one hop per
  call; one writer thread, which is also all SQLite allows at a time), and reads in reader threads;
- on PostgreSQL, through the async engine's greenlet bridge (asyncpg is truly asynchronous).

The writer's connections do not checkpoint the WAL themselves (``wal_autocheckpoint=0``): a
checkpoint inside a commit took 15–25 ms now and then while every request of that batch waited.
A thread of its own runs ``PRAGMA wal_checkpoint(PASSIVE)`` on its own connection instead, twice a
second when there were commits; PASSIVE never waits for readers or writers, and the durability
settings (WAL, synchronous=NORMAL) are unchanged. Other connections (the async engine, other
processes) keep SQLite's automatic checkpoints.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db.session import configure_sqlite, is_sqlite

T = TypeVar("T")
log = logging.getLogger("pufa.db")
CHECKPOINT_INTERVAL = 0.5


class Checkpointer:
    """PASSIVE WAL checkpoints off the commit path, on their own connection and thread."""

    def __init__(self, path: str, busy_timeout: float, interval: float = CHECKPOINT_INTERVAL) -> None:
        self.path = path
        self.busy_timeout = busy_timeout
        self.interval = interval
        # Bumped after each commit (on the loop or the writer thread, unlocked): a lost or stale
        # increment only delays one checkpoint.
        self.commits = 0
        self._seen = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pufa-db-checkpoint", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        conn = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None,
                               check_same_thread=False)
        try:
            while not self._stop.wait(self.interval):
                if self.commits != self._seen:
                    self._seen = self.commits
                    self.checkpoint(conn)
        finally:
            conn.close()

    @staticmethod
    def checkpoint(conn: sqlite3.Connection) -> None:
        try:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error as exc:  # the next round tries again; SQLite's own limit still holds
            log.warning("WAL checkpoint failed: %s", exc)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()


class DbRunner:
    def __init__(self, engine: AsyncEngine, busy_timeout: float = 10.0) -> None:
        self.engine = engine
        self._sync: Engine | None = None
        self._writer: ThreadPoolExecutor | None = None
        self._readers: ThreadPoolExecutor | None = None
        self._checkpointer: Checkpointer | None = None
        self._loop_conn: Connection | None = None
        self._loop_raw: Any = None
        self._closed = False
        if is_sqlite(str(engine.url)):
            url = engine.url.set(drivername="sqlite+pysqlite")
            self._sync = create_engine(
                url, connect_args={"timeout": busy_timeout, "isolation_level": None, "check_same_thread": False},
                pool_size=4, max_overflow=4,
            )
            configure_sqlite(self._sync, busy_timeout)
            database = url.database
            if database and database != ":memory:":
                event.listen(self._sync, "connect", _no_autocheckpoint)
                self._checkpointer = Checkpointer(database, busy_timeout)
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

    @property
    def threaded(self) -> bool:
        """Writes run in this runner's own writer thread (SQLite), see :meth:`submit_write`."""
        return self._sync is not None

    def submit_write(self, job: Callable[[], None]) -> None:
        """Queue ``job`` on the writer thread; it may call :meth:`write_now` any number of times."""
        assert self._writer is not None
        self._writer.submit(job)

    def write_now(self, fn: Callable[[Connection], T]) -> T:
        """One write transaction, from a job on the writer thread only."""
        return self._sync_tx(fn, False)

    def write_on_loop(self, fn: Callable[[Connection], T]) -> T:
        """One write transaction on the calling (loop) thread, or ``WriterBusy`` at once — never a wait
        for the lock — when another connection (a second server process, a CLI import) holds it.

        Group writes of the hot path are a few small statements: run here they cost less than the two
        thread hand-offs of the writer thread, which under the GIL cost the loop more than the SQL
        (docs/benchmarks.md, Webhook). Their connection never checkpoints (the checkpointer thread
        does) and never fsyncs a commit (WAL, synchronous=NORMAL)."""
        if self._sync is None or self._closed:
            raise RuntimeError("the database runner is closed")
        if self._loop_conn is None:
            self._loop_conn = self._sync.connect()
        conn = self._loop_conn
        raw = conn.connection.dbapi_connection
        assert raw is not None
        if raw is not self._loop_raw:  # first use, or SQLAlchemy reconnected
            # Its own busy timeout of 0 (on the driver's connection: through SQLAlchemy the statement
            # would begin a write transaction): waiting for the lock is the writer thread's job.
            raw.execute("PRAGMA busy_timeout=0")
            self._loop_raw = raw
        try:
            with conn.begin():
                result = fn(conn)
        except Exception as exc:
            # A failed COMMIT (SQLITE_BUSY or I/O) can leave SQLite's transaction open while SQLAlchemy
            # considers it over; this connection never goes back to the pool to be reset, so end it
            # here, or it would hold the write lock against the writer thread's retry.
            if getattr(raw, "in_transaction", False):
                try:
                    raw.rollback()
                except sqlite3.Error:
                    conn.invalidate()
                    self._loop_conn = None
            if _is_busy(exc):
                raise WriterBusy from exc
            raise
        if self._checkpointer is not None:
            self._checkpointer.commits += 1
        return result

    def _sync_tx(self, fn: Callable[[Connection], T], readonly: bool) -> T:
        assert self._sync is not None
        bind = self._sync.execution_options(pufa_readonly=True) if readonly else self._sync
        with bind.begin() as conn:
            result = fn(conn)
        if not readonly and self._checkpointer is not None:
            self._checkpointer.commits += 1
        return result

    def close(self) -> None:
        self._closed = True  # write_on_loop refuses from now on; the loop connection is closed below
        for pool in (self._writer, self._readers):
            if pool is not None:
                pool.shutdown(wait=True)
        if self._checkpointer is not None:
            self._checkpointer.close()
        if self._loop_conn is not None:
            self._loop_conn.close()
        if self._sync is not None:
            self._sync.dispose()


class WriterBusy(Exception):
    """Another connection holds SQLite's write lock: the write must wait, so not on the loop."""


def _is_busy(exc: BaseException) -> bool:
    orig = getattr(exc, "orig", exc)
    return isinstance(orig, sqlite3.OperationalError) and ("locked" in str(orig) or "busy" in str(orig))


def _no_autocheckpoint(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA wal_autocheckpoint=0")
    cur.close()
