"""Hot-path statements on SQLite: compiled once, run on the DBAPI cursor of the transaction.

Under load the SQLite writer thread spent more CPU in SQLAlchemy's per-execution machinery
(execution context, parameter processing, result wrapping) than in SQLite itself, and unlike
SQLite's own work (the driver releases the GIL around it) that Python work held the GIL against
the event loop (py-spy, 64 connections). Here a Core statement is compiled once per dialect and
executed on the same DBAPI connection, inside the same ``BEGIN IMMEDIATE`` transaction that
bot.db.runner opened, with the column types' own bind and result processors, so values are
stored and read exactly as SQLAlchemy would. Other dialects (PostgreSQL through asyncpg) use the
ordinary ``Connection.execute``.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import Executable

Processor = Callable[[Any], Any] | None


class _Compiled:
    def __init__(self, stmt: Any, dialect: Dialect) -> None:
        compiled = stmt.compile(dialect=dialect)
        self.sql = compiled.string
        names = compiled.positiontup
        if names is None:  # not a positional paramstyle: this dialect takes the ordinary path
            raise ValueError("positional parameters expected")
        self.binds: list[tuple[str, Processor]] = [
            (name, compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)) for name in names
        ]
        columns = getattr(stmt, "selected_columns", None)
        if columns is None:  # DML: what RETURNING names, if anything
            returning = getattr(stmt, "_returning", ()) or ()
            columns = list(returning)
        self.results: list[Processor] = [
            c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns
        ]

    def run(self, conn: Connection, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        args = [params[name] if proc is None else proc(params[name]) for name, proc in self.binds]
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(self.sql, args)
            raw = cursor.fetchall() if cursor.description else []
        finally:
            cursor.close()
        if not raw or not any(self.results):
            return [tuple(r) for r in raw]
        procs = self.results
        return [tuple(v if p is None else p(v) for p, v in zip(procs, r, strict=True)) for r in raw]


class Prepared:
    """One statement; ``rows`` returns plain tuples in the statement's column order."""

    def __init__(self, stmt: Executable, *, direct: tuple[str, ...] = ("sqlite",)) -> None:
        self.stmt = stmt
        self.direct = direct
        # Per engine dialect (same options, same SQL), forgotten with the engine.
        self._compiled: weakref.WeakKeyDictionary[Dialect, _Compiled] = weakref.WeakKeyDictionary()

    def rows(self, conn: Connection, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        dialect = conn.dialect
        if dialect.name not in self.direct:
            result = conn.execute(self.stmt, params)
            return [tuple(r) for r in result] if result.returns_rows else []
        compiled = self._compiled.get(dialect)
        if compiled is None:
            compiled = self._compiled[dialect] = _Compiled(self.stmt, dialect)
        return compiled.run(conn, params)
