"""At most one scheduler per database, however many ``pufa serve`` processes run.

APScheduler 3 in several processes fires the same job in each (reliability.md: 4 processes → 4
sends), so only the leader's sender runs. PostgreSQL: a session-level advisory lock on a dedicated
connection (released by the server the moment the process dies). SQLite: a lock row with a lease,
renewed every tick; a contender on the same host may take over at once when the holder's pid is
gone (kill -9), otherwise when the lease runs out.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from bot.db.base import utcnow
from scheduler.models import SchedulerLock

log = logging.getLogger("pufa.scheduler.leader")

LOCK_NAME = "scheduler"
# pg_advisory_lock key: a fixed 64-bit number for "pufa scheduler".
PG_LOCK_KEY = 0x70756661_7363_6864 & 0x7FFFFFFFFFFFFFFF


class LeaderLock(Protocol):
    holder: str

    async def acquire(self) -> bool:
        """Take or renew the lock; False while someone else holds it."""
        ...

    async def release(self) -> None: ...


def make_holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _holder_dead(holder: str) -> bool:
    """True only when we can prove it: same host, another pid, and that pid does not exist."""
    try:
        host, pid_text, _ = holder.split(":", 2)
        pid = int(pid_text)
    except ValueError:
        return False
    if host != socket.gethostname() or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class SqliteLeader:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], lease: float,
                 clock: Callable[[], datetime] = utcnow, holder: str | None = None) -> None:
        self.sessions = sessions
        self.lease = timedelta(seconds=lease)
        self.clock = clock
        self.holder = holder or make_holder()

    async def acquire(self) -> bool:
        now = self.clock()
        async with self.sessions() as s, s.begin():  # BEGIN IMMEDIATE: one contender at a time
            row = (await s.execute(select(SchedulerLock).where(SchedulerLock.name == LOCK_NAME))).scalar_one_or_none()
            if row is None:
                s.add(SchedulerLock(name=LOCK_NAME, holder=self.holder, lease_until=now + self.lease))
                return True
            if row.holder != self.holder and row.lease_until > now and not _holder_dead(row.holder):
                return False
            if row.holder != self.holder:
                log.info("taking over the scheduler lock")
            row.holder = self.holder
            row.lease_until = now + self.lease
            return True

    async def release(self) -> None:
        async with self.sessions() as s, s.begin():
            await s.execute(update(SchedulerLock)
                            .where(SchedulerLock.name == LOCK_NAME, SchedulerLock.holder == self.holder)
                            .values(lease_until=self.clock() - timedelta(seconds=1)))


class PostgresLeader:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.holder = make_holder()
        self._conn: AsyncConnection | None = None
        # acquire (from a tick) and release (at shutdown) must not use the connection at once:
        # asyncpg refuses a second operation in flight and the transaction is then unusable.
        self._guard = asyncio.Lock()

    async def acquire(self) -> bool:
        async with self._guard:
            return await self._acquire()

    async def _acquire(self) -> bool:
        if self._conn is not None:
            try:
                # Still our session? Then we still hold the lock.
                await self._conn.execute(text("SELECT 1"))
                await self._conn.commit()
                return True
            except Exception:
                log.warning("lost the scheduler lock connection")
                await self._drop()
                return False
        conn = await self.engine.connect()
        try:
            got = (await conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": PG_LOCK_KEY})).scalar()
            await conn.commit()
        except Exception:
            await conn.close()
            raise
        if got:
            self._conn = conn
            return True
        await conn.close()
        return False

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                await conn.invalidate()
            except Exception:
                pass

    async def release(self) -> None:
        async with self._guard:
            conn, self._conn = self._conn, None
            if conn is None:
                return
            try:
                await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": PG_LOCK_KEY})
                await conn.commit()
            except Exception:
                # A session-level advisory lock ends with its session: dropping the connection
                # releases it just as surely.
                log.warning("unlocking the scheduler lock failed; dropping its connection")
                await conn.invalidate()
                return
            await conn.close()


def leader_for(engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], lease: float,
               clock: Callable[[], datetime] = utcnow) -> LeaderLock:
    if engine.dialect.name == "postgresql":
        return PostgresLeader(engine)
    return SqliteLeader(sessions, lease, clock)
