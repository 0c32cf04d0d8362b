"""Alembic environment: uses the connection handed over by bot.db.migrate (never its own URL)."""

from __future__ import annotations

from alembic import context

import bot.models_registry  # noqa: F401  (imports every model module so metadata is complete)
from bot.db.base import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through 'pufa db upgrade'")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
