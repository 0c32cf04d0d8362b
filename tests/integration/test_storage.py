"""Storage: migrations match the models, retention purges texts but keeps counts."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

import bot.models_registry  # noqa: F401  (every table)
from bot.db.base import Base, utcnow
from bot.db.models import InboundMessage, StaffMessage
from bot.db.runner import DbRunner
from bot.journal import PURGED, Journal
from sandbox.inbound import FakeWeChat
from tests.conftest import Server

RESIDENT = "oStorage00000000000000000001"


async def test_migrations_create_exactly_the_models(engine: AsyncEngine) -> None:
    def diff(sync_conn: Any) -> list[Any]:
        return list(compare_metadata(MigrationContext.configure(sync_conn), Base.metadata))

    async with engine.connect() as conn:
        differences = await conn.run_sync(diff)
    assert differences == []


async def test_retention_purges_texts_and_keeps_counts(
    server: Server, wechat: FakeWeChat, engine: AsyncEngine
) -> None:
    await wechat.say(RESIDENT, "老板欠我工钱不给咋办")
    await wechat.say(RESIDENT, "留言 我想咨询一下承包地的事")
    runner = DbRunner(engine)
    journal = Journal(runner, account="x", salt="s")
    try:
        assert await journal.purge_texts(utcnow() - timedelta(days=1)) == 0  # nothing old enough yet
        purged = await journal.purge_texts(utcnow() + timedelta(seconds=1))
    finally:
        runner.close()
    assert purged == 2
    async with engine.connect() as conn:
        rows = (await conn.execute(select(InboundMessage.text, InboundMessage.reply, InboundMessage.outcome))).all()
        staff = (await conn.execute(select(StaffMessage.text, StaffMessage.openid))).all()
        count = (await conn.execute(select(func.count()).select_from(InboundMessage))).scalar_one()
    assert count == 2
    assert all(text is None and reply is None for text, reply, _ in rows)
    outcomes = sorted(o for *_, o in rows)
    assert outcomes[0] in {"answered", "ambiguous"} and outcomes[1] == "command"
    assert staff == [(PURGED, "")]


async def test_group_writes_on_sqlite_leave_checkpoints_to_their_own_thread(engine: AsyncEngine) -> None:
    runner = DbRunner(engine)
    if not runner.threaded:  # PostgreSQL: no WAL of ours to manage
        runner.close()
        return
    journal = Journal(runner, account="ckpt", salt="s")
    try:
        autocheckpoint = await runner.write(lambda c: c.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar())
        assert autocheckpoint == 0
        # Many concurrent writes share batches and all land (the writer thread runs them back to back).
        await asyncio.gather(*(journal.writer.write(lambda c: c.exec_driver_sql("SELECT 1").scalar())
                               for _ in range(200)))
        assert journal.writer.writes >= 200
        checkpointer = runner._checkpointer
        assert checkpointer is not None and checkpointer.commits > 0
    finally:
        runner.close()
