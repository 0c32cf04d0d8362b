"""The schema revision the code expects, checked at start without importing Alembic.

`pufa serve` refuses a database that `pufa db upgrade` has not brought to this revision. Reading
Alembic's script directory meant importing Alembic at every start (≈ 0.1–0.2 s of the cold start on
this machine kind); the head is a constant here instead, and tests/integration/test_storage.py checks
that it is Alembic's head, so a new migration without it fails the tests.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

SCHEMA_HEAD = "0007"


async def schema_revision(engine: AsyncEngine) -> str | None:
    """The revision recorded in the database's ``alembic_version`` table (None: never migrated)."""
    async with engine.connect() as conn:
        try:
            return (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar_one_or_none()
        except DBAPIError:  # no such table: an empty database
            return None
