"""Storage: migrations match the models, retention purges texts but keeps counts."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from datetime import timedelta
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

import bot.models_registry  # noqa: F401  (every table)
from bot.db.base import Base, utcnow
from bot.db.models import InboundMessage, ResidentState, StaffMessage
from bot.db.runner import DbRunner
from bot.dispatch import Conversation, Outcome
from bot.journal import PURGED, Journal
from bot.wechat.messages import Inbound
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


def _text(openid: str, msg_id: int) -> Inbound:
    return Inbound(to_user="gh_town", from_user=openid, create_time=1_700_000_000, msg_type="text",
                   msg_id=msg_id, content=f"第{msg_id}条")


async def test_claims_and_completions_batched_together_end_as_one_by_one(engine: AsyncEngine) -> None:
    """One group-write batch of claims (PostgreSQL: one multi-row INSERT, then set-based reads) and
    one of completions: the same winners, losers and conversations as one write at a time."""
    runner = DbRunner(engine)
    journal = Journal(runner, account="batch", salt="s")
    a, b = "oBatchResidentA000000000000001", "oBatchResidentB000000000000001"
    memory = timedelta(minutes=30)
    done = Outcome(reply=None, kind="answered")
    try:
        first = await journal.claim(_text(a, 1), memory)
        await journal.complete(first, _text(a, 1), done, conversation=Conversation(pages=["甲", "乙"], changed=True),
                               reply_body="<xml/>", delivered="passive", latency_ms=1)
        batches = journal.writer.batches
        m2, m2_retry, m3, m4 = await asyncio.gather(
            journal.claim(_text(a, 2), memory), journal.claim(_text(a, 2), memory),
            journal.claim(_text(b, 3), memory), journal.claim(_text(a, 4), memory))
        assert journal.writer.batches == batches + 1  # all four in one batch
        assert (m2.won, m2_retry.won, m3.won, m4.won) == (True, False, True, True)
        assert m2_retry.message_id == m2.message_id and m2_retry.state == "processing"
        assert m2.conversation is not None and m2.conversation.pages == ["甲", "乙"]
        assert m4.conversation is not None and m4.conversation.pages == ["甲", "乙"]
        assert m3.conversation is not None and m3.conversation.pages == []
        batches = journal.writer.batches
        await asyncio.gather(
            journal.complete(m2, _text(a, 2), done, conversation=Conversation(pages=["丙"], changed=True),
                             reply_body="<xml>2</xml>", delivered="passive", latency_ms=2),
            journal.complete(m3, _text(b, 3), Outcome(reply=None, kind="command", leave_message="想咨询承包地"),
                             conversation=Conversation(), reply_body="<xml>3</xml>", delivered="passive",
                             latency_ms=3),
            journal.complete(m4, _text(a, 4), done, conversation=Conversation(pages=["丁"], changed=True),
                             reply_body="<xml>4</xml>", delivered="passive", latency_ms=4))
        assert journal.writer.batches == batches + 1
        again = await journal.claim(_text(a, 2), memory)
        assert (again.won, again.state, again.reply_body) == (False, "done", "<xml>2</xml>")
        # Written as batches, not rescued one by one after a batch failed (same results, but slow).
        assert journal.writer.retried == 0
    finally:
        runner.close()
    async with engine.connect() as conn:
        rows = dict((await conn.execute(
            select(InboundMessage.id, InboundMessage.state).where(InboundMessage.account == "batch"))).all())
        pages = (await conn.execute(select(ResidentState.pages).where(
            ResidentState.account == "batch", ResidentState.openid_hash == journal.openid_hash(a)))).scalar_one()
        staff = (await conn.execute(select(StaffMessage.message_id, StaffMessage.text).where(
            StaffMessage.account == "batch"))).all()
    assert len(rows) == 4 and set(rows.values()) == {"done"}
    assert pages == ["丁"]  # the later of the resident's two messages in the batch
    assert staff == [(m3.message_id, "想咨询承包地")]


async def test_group_writes_never_wait_for_the_sqlite_lock_on_the_loop(engine: AsyncEngine) -> None:
    """Group writes run on the loop when SQLite's write lock is free at once; while another process
    holds it they go to the writer thread, which waits for it, in order, and the loop keeps serving."""
    # A short busy timeout: if an assertion fails while the lock is held, the writer thread gives up
    # soon instead of keeping the test for minutes.
    runner = DbRunner(engine, busy_timeout=3.0)
    if not runner.threaded:
        runner.close()
        pytest.skip("PostgreSQL: group writes go through asyncpg, there is no SQLite lock to wait for")
    journal = Journal(runner, account="lock", salt="s")
    written: list[int] = []
    threads: dict[int, str] = {}

    def insert(n: int) -> Any:
        def op(conn: Any) -> int:
            conn.exec_driver_sql(f"INSERT INTO messages (account, dedup_key, openid_hash, msg_type, "
                                 f"received_at, state) VALUES ('lock', 'k{n}', 'h', 'text', "
                                 f"'2026-01-01 00:00:00', 'done')")
            written.append(n)
            threads[n] = threading.current_thread().name
            return n
        return op

    other: sqlite3.Connection | None = None
    beat: asyncio.Task[None] | None = None
    try:
        loop_thread = threading.current_thread().name
        assert await journal.writer.write(insert(0)) == 0
        assert threads[0] == loop_thread  # the lock was free: written on the loop
        # Another process (a CLI import, a second server) holds the write lock for a while.
        other = sqlite3.connect(engine.url.database, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        beat = asyncio.create_task(ticker())
        writes = asyncio.gather(*(journal.writer.write(insert(n)) for n in range(1, 21)))
        await asyncio.sleep(0.5)
        assert not writes.done() and written == [0]  # nothing written past the lock …
        assert ticks >= 10  # … and the loop was not blocked waiting for it
        other.execute("COMMIT")
        assert await asyncio.wait_for(writes, 10) == list(range(1, 21))
        assert written == list(range(21))  # in the order they were queued
        assert all(threads[n] != loop_thread for n in range(1, 21))  # by the writer thread
        # The writer thread hands the queue back once it has found it empty: the next write is on the
        # loop again.
        for _ in range(200):
            if not journal.writer._job_queued:
                break
            await asyncio.sleep(0.01)
        assert await journal.writer.write(insert(21)) == 21
        assert threads[21] == loop_thread
    finally:
        if beat is not None:
            beat.cancel()
        if other is not None:
            other.close()  # ends its transaction if an assertion left it open
        runner.close()


async def test_a_group_write_after_the_runner_closed_fails_instead_of_hanging(engine: AsyncEngine) -> None:
    runner = DbRunner(engine)
    if not runner.threaded:
        runner.close()
        pytest.skip("PostgreSQL: writes go through the app's async engine, which the runner does not own")
    journal = Journal(runner, account="closed", salt="s")
    assert await journal.writer.write(lambda c: c.exec_driver_sql("SELECT 1").scalar()) == 1
    runner.close()
    with pytest.raises(RuntimeError):
        await asyncio.wait_for(journal.writer.write(lambda c: c.exec_driver_sql("SELECT 1").scalar()), 10)


async def test_the_schema_head_the_server_checks_is_alembics(engine: AsyncEngine) -> None:
    from bot.db.migrate import current_revision, head_revision
    from bot.db.schema import SCHEMA_HEAD, schema_revision

    assert SCHEMA_HEAD == head_revision()  # a new migration must move SCHEMA_HEAD too
    assert await schema_revision(engine) == await current_revision(engine) == SCHEMA_HEAD
