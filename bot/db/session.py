"""Async engine and session factory, with the SQLite settings that survive concurrent writers.

SQLite: WAL, busy timeout, foreign keys, and ``BEGIN IMMEDIATE`` for every transaction — with plain
deferred ``BEGIN`` a read-then-write transaction fails at once with "database is locked" under
concurrency (measured in docs/reliability.md). PostgreSQL: asyncpg with default settings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str, *, echo: bool = False, busy_timeout: float = 10.0) -> AsyncEngine:
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(
            url, echo=echo, connect_args={"timeout": busy_timeout, "isolation_level": None}
        )
        configure_sqlite(engine.sync_engine, busy_timeout)
        return engine
    return create_async_engine(url, echo=echo, pool_size=10, max_overflow=10, pool_pre_ping=True)


def configure_sqlite(engine: Engine, busy_timeout: float) -> None:
    """Pragmas on every new connection, and BEGIN IMMEDIATE for every write transaction."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        cur.execute("PRAGMA foreign_keys=ON")
        # NORMAL is durable in WAL mode except against power loss of the last commits.
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Pure readers may opt out with execution_options(pufa_readonly=True): WAL lets them run
        # beside the writer, and IMMEDIATE would queue them behind it for nothing.
        readonly = conn.get_execution_options().get("pufa_readonly", False)
        conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def create_read_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for pure reads: on SQLite they begin DEFERRED and run beside the writer (WAL)."""
    return async_sessionmaker(engine.execution_options(pufa_readonly=True), expire_on_commit=False)
