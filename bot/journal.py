"""The message log as an idempotent receiver.

``claim`` records an inbound item under its dedup key with one atomic
``INSERT … ON CONFLICT DO NOTHING``: exactly one attempt (of any process sharing the database) wins
and does the answer work; retries read the stored reply. ``complete`` stores the outcome, the
resident's conversation and any message for staff in one transaction.

A text reply is stored once, as text: a retry gets its XML rebuilt from that text and the
completion time, byte for byte what the first attempt returned (``passive_body``). Keeping the XML
as well doubled the bytes every message wrote, and the SQLite writes are most of the loop's work
under load. Only replies the text does not describe (news) keep their XML. Writes go through the
group writer (one transaction for all concurrent requests), reads through the runner.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, cast, delete, func, insert, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeEngine

from bot.db.base import utcnow
from bot.db.groupwrite import Batchable, GroupWriter
from bot.db.models import InboundMessage, ResidentState, StaffMessage
from bot.db.prepared import Prepared
from bot.db.runner import DbRunner
from bot.dispatch import Conversation, Outcome
from bot.wechat import replies
from bot.wechat.messages import Inbound
from bot.wechat.replies import Reply, TextReply
from knowledge.laws import cite_key

POLL_INTERVAL = 0.05
PURGED = "（已超过保存期限，内容已清除）"


@functools.lru_cache(maxsize=8192)
def hash_openid(openid: str, salt: str) -> str:
    # Remembered: every request hashes its sender twice (claim and complete), residents write in
    # bursts, and the HMAC setup was a visible share of the loop's CPU under load (py-spy).
    return hmac.new(salt.encode(), openid.encode(), hashlib.sha256).hexdigest()[:32]


@dataclass(frozen=True)
class Claim:
    won: bool
    message_id: int
    state: str
    # What a losing attempt returns: the first attempt's reply XML, once there is one.
    reply_body: str | None
    # The resident's conversation, read in the same transaction (only for the winning attempt).
    conversation: Conversation | None = None


_CLAIM_COLUMNS = ("account", "dedup_key", "openid_hash", "msg_type", "event", "text", "received_at", "state")
_COMPLETE_COLUMNS = ("state", "outcome", "tier", "entry_id", "score", "citations", "keywords", "reply",
                     "reply_body", "delivered", "latency_ms", "completed_at")
_STATE_COLUMNS = ("pages", "page_pos", "candidates", "last_citation", "updated_at")
# What a retry's reply is rebuilt from (_stored_body).
_REPLY_COLUMNS = ("reply_body", "reply", "delivered", "completed_at")


def passive_body(reply: Reply, msg: Inbound, at: datetime) -> str:
    """The passive reply XML to ``msg``, stamped ``at``: the same bytes for the first attempt and,
    rebuilt from the stored text, for WeChat's retries."""
    return replies.render(reply, to_user=msg.from_user, from_user=msg.to_user, create_time=int(at.timestamp()))


def _stored_body(msg: Inbound, reply_body: str | None, reply: str | None, delivered: str | None,
                 completed_at: datetime | None) -> str | None:
    """The reply XML of a completed message (``_REPLY_COLUMNS``), as its first attempt returned it."""
    if reply_body is not None or delivered != "passive" or reply is None or completed_at is None:
        return reply_body
    return passive_body(TextReply(reply), msg, _aware(completed_at))


class _Statements:
    """The hot path's statements, built once per dialect: constructing SQLAlchemy statements per
    request cost more CPU than executing them (measured with py-spy under load)."""

    def __init__(self, insert_fn: Any) -> None:
        self.claim = (
            insert_fn(InboundMessage)
            .values({c: bindparam(c) for c in _CLAIM_COLUMNS})
            .on_conflict_do_nothing(index_elements=["account", "dedup_key"])
            .returning(InboundMessage.id)
        )
        reply_columns = [getattr(InboundMessage, c) for c in _REPLY_COLUMNS]
        self.existing = select(InboundMessage.id, InboundMessage.state, *reply_columns).where(
            InboundMessage.account == bindparam("account"), InboundMessage.dedup_key == bindparam("dedup_key")
        )
        self.state = select(*(getattr(ResidentState, c) for c in _STATE_COLUMNS)).where(
            ResidentState.account == bindparam("account"), ResidentState.openid_hash == bindparam("openid_hash")
        )
        self.complete = (
            update(InboundMessage)
            .where(InboundMessage.id == bindparam("message_id"))
            .values({c: bindparam(c) for c in _COMPLETE_COLUMNS})
        )
        upsert = insert_fn(ResidentState).values(
            {c: bindparam(c) for c in ("account", "openid_hash", *_STATE_COLUMNS)}
        )
        self.save_state = upsert.on_conflict_do_update(
            index_elements=["account", "openid_hash"], set_={c: upsert.excluded[c] for c in _STATE_COLUMNS}
        )
        self.reply_state = select(InboundMessage.state, *reply_columns).where(
            InboundMessage.id == bindparam("message_id")
        )
        # Executed straight on the DBAPI cursor on SQLite (see bot.db.prepared).
        self.p_claim = Prepared(self.claim)
        self.p_existing = Prepared(self.existing)
        self.p_state = Prepared(self.state)
        self.p_complete = Prepared(self.complete)
        self.p_save_state = Prepared(self.save_state)
        self.p_reply_state = Prepared(self.reply_state)
        # Set-based forms for a batch of claims (PostgreSQL: see _Claims). Array parameters, so that
        # the SQL text is the same whatever the batch size: asyncpg prepares each distinct text once
        # per connection, and a text per size (VALUES lists, IN lists) would re-prepare under load.
        if insert_fn is not postgresql.insert:
            return
        table = InboundMessage.__table__
        self.claim_many = (
            postgresql.insert(InboundMessage)
            .from_select(list(_CLAIM_COLUMNS), select(*(
                func.unnest(_array(c, table.c[c].type)) for c in _CLAIM_COLUMNS)))
            .on_conflict_do_nothing(index_elements=["account", "dedup_key"])
            .returning(InboundMessage.id, InboundMessage.account, InboundMessage.dedup_key)
        )
        # (account, key) pairs given as two arrays of one length, unnested side by side.
        self.existing_many = select(
            InboundMessage.account, InboundMessage.dedup_key, InboundMessage.id, InboundMessage.state,
            *reply_columns,
        ).where(tuple_(InboundMessage.account, InboundMessage.dedup_key).in_(select(
            func.unnest(_array("accounts", table.c.account.type)),
            func.unnest(_array("keys", table.c.dedup_key.type)))))
        state = ResidentState.__table__
        self.state_many = select(
            ResidentState.account, ResidentState.openid_hash, *(getattr(ResidentState, c) for c in _STATE_COLUMNS)
        ).where(tuple_(ResidentState.account, ResidentState.openid_hash).in_(select(
            func.unnest(_array("accounts", state.c.account.type)),
            func.unnest(_array("keys", state.c.openid_hash.type)))))


def _array(name: str, item: TypeEngine[Any]) -> ColumnElement[Any]:
    """A PostgreSQL array parameter of the column type (cast: asyncpg must know its type)."""
    kind = postgresql.ARRAY(item)
    return cast(bindparam(name, type_=kind), kind)


_STATEMENTS = {"sqlite": _Statements(sqlite.insert), "postgresql": _Statements(postgresql.insert)}


def _statements(conn: Connection) -> _Statements:
    return _STATEMENTS[conn.dialect.name]


class Journal:
    def __init__(self, runner: DbRunner, account: str, salt: str) -> None:
        self.runner = runner
        self.account = account
        self.salt = salt
        self.writer = GroupWriter(runner)
        self._waiters: dict[str, asyncio.Event] = {}

    def openid_hash(self, openid: str) -> str:
        return hash_openid(openid, self.salt)

    async def claim(self, msg: Inbound, memory: timedelta, now: datetime | None = None) -> Claim:
        """Record the message under its dedup key; the first attempt wins and gets the conversation."""
        now = now or utcnow()
        params = {
            "account": self.account,
            "dedup_key": msg.dedup_key,
            "openid_hash": self.openid_hash(msg.from_user),
            "msg_type": msg.msg_type,
            "event": msg.event or None,
            "text": msg.text or (msg.event_key or None),
            "received_at": now,
            "state": "processing",
        }

        claim: Claim = await self.writer.write(Batchable(_CLAIMS, _ClaimItem(params, now, memory, msg)))
        if claim.won:
            self._waiters.setdefault(msg.dedup_key, asyncio.Event())
        return claim

    async def wait_for_reply(self, claim: Claim, msg: Inbound, timeout: float) -> tuple[str, str | None]:
        """A retry waits for the first attempt: in this process by an event, across processes by polling."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        local = self._waiters.get(msg.dedup_key)
        params = {"message_id": claim.message_id}
        while True:
            rows = await self.runner.read(lambda c: _statements(c).p_reply_state.rows(c, params))
            state, *stored = rows[0]
            if state != "processing":
                return state, _stored_body(msg, *stored)
            remaining = deadline - loop.time()
            if remaining <= 0:
                return "processing", None
            try:
                if local is not None:
                    await asyncio.wait_for(local.wait(), min(remaining, 1.0))
                else:
                    await asyncio.sleep(min(POLL_INTERVAL, remaining))
            except TimeoutError:
                pass

    async def complete(
        self,
        claim: Claim,
        msg: Inbound,
        outcome: Outcome,
        *,
        conversation: Conversation,
        reply_body: str | None,
        delivered: str,
        latency_ms: int,
        state: str = "done",
        completed_at: datetime | None = None,
    ) -> None:
        """Record the outcome; ``reply_body`` is the XML returned, rendered by ``passive_body`` with
        ``completed_at``, from which a text reply's XML is rebuilt for retries."""
        now = completed_at or utcnow()
        if isinstance(outcome.reply, TextReply):
            reply_body = None
        params: dict[str, Any] = {
            "message_id": claim.message_id, "state": state, "outcome": outcome.kind, "tier": outcome.tier,
            "entry_id": outcome.entry_id, "score": outcome.score,
            "citations": [list(cite_key(c.law, c.article, c.sub)) for c in outcome.citations] or None,
            "keywords": list(outcome.keywords) or None, "reply": _reply_text(outcome), "reply_body": reply_body,
            "delivered": delivered, "latency_ms": latency_ms, "completed_at": now,
        }
        openid_hash = self.openid_hash(msg.from_user)
        state_params = {
            "account": self.account, "openid_hash": openid_hash, "pages": conversation.pages,
            "page_pos": conversation.page_pos, "candidates": conversation.candidates,
            "last_citation": list(conversation.last_citation) if conversation.last_citation else None,
            "updated_at": now,
        }

        staff = dict(
            account=self.account, message_id=claim.message_id, openid=msg.from_user, openid_hash=openid_hash,
            text=outcome.leave_message, created_at=now, last_inbound_at=now,
        ) if outcome.leave_message else None
        item = _CompleteItem(params, state_params if conversation.changed else None, staff)
        await self.writer.write(Batchable(_COMPLETES, item))
        waiter = self._waiters.pop(msg.dedup_key, None)
        if waiter is not None:
            waiter.set()

    async def mark_delivery(self, message_id: int, delivered: str) -> None:
        stmt = update(InboundMessage).where(InboundMessage.id == message_id).values(delivered=delivered)
        await self.writer.write(lambda s: s.execute(stmt))

    async def purge_texts(self, older_than: datetime) -> int:
        """Retention: drop message texts and replies, keep the counts and outcomes."""

        def op(conn: Connection) -> int:
            result = conn.execute(
                update(InboundMessage)
                .where(InboundMessage.received_at < older_than, InboundMessage.text.is_not(None))
                .values(text=None, reply=None, reply_body=None)
            )
            conn.execute(delete(ResidentState).where(ResidentState.updated_at < older_than))
            # Messages left for staff are casework, but the same retention applies to the text and
            # to the raw openid kept for replying.
            conn.execute(
                update(StaffMessage)
                .where(StaffMessage.created_at < older_than, StaffMessage.openid != "")
                .values(text=PURGED, openid="")
            )
            return int(getattr(result, "rowcount", 0) or 0)

        return await self.runner.write(op)


@dataclass(frozen=True, slots=True)
class _ClaimItem:
    params: dict[str, Any]  # the _CLAIM_COLUMNS
    now: datetime
    memory: timedelta
    msg: Inbound  # what a losing attempt's reply is rebuilt for


@dataclass(frozen=True, slots=True)
class _CompleteItem:
    params: dict[str, Any]  # message_id and the _COMPLETE_COLUMNS
    state: dict[str, Any] | None  # the resident's conversation, when it changed
    staff: dict[str, Any] | None  # a message left for staff


class _Claims:
    """Claims of one group-write batch (bot.db.groupwrite.Batchable).

    SQLite runs them one by one on the connection's cursor (in-process calls, microseconds each).
    PostgreSQL gets one ``INSERT … SELECT unnest(…) ON CONFLICT DO NOTHING RETURNING`` for the batch and at
    most one ``SELECT`` each for the attempts that lost and for the winners' conversations, instead
    of two statements per message. Two attempts of one dedup key in one batch: the first in queue
    order wins, as it would one by one."""

    def run_many(self, conn: Connection, items: Sequence[_ClaimItem]) -> list[Claim]:
        if conn.dialect.name != "postgresql":
            return [_claim_one(conn, it) for it in items]
        stmts = _statements(conn)
        arrays = {c: [it.params[c] for it in items] for c in _CLAIM_COLUMNS}
        inserted = {(acc, key): row_id for row_id, acc, key in conn.execute(stmts.claim_many, arrays)}
        won: dict[int, int] = {}
        for n, it in enumerate(items):
            row_id = inserted.pop((it.params["account"], it.params["dedup_key"]), None)
            if row_id is not None:
                won[n] = row_id
        lost = list(dict.fromkeys((it.params["account"], it.params["dedup_key"])
                                  for n, it in enumerate(items) if n not in won))
        wanted = list(dict.fromkeys((items[n].params["account"], items[n].params["openid_hash"]) for n in won))
        existing = {(row[0], row[1]): tuple(row[2:]) for row in
                    conn.execute(stmts.existing_many, _pairs(lost))} if lost else {}
        states = {(row[0], row[1]): tuple(row[2:]) for row in
                  conn.execute(stmts.state_many, _pairs(wanted))} if wanted else {}
        out: list[Claim] = []
        for n, it in enumerate(items):
            p = it.params
            if n in won:
                stored = states.get((p["account"], p["openid_hash"]))
                out.append(Claim(True, won[n], "processing", None, _conversation(stored, it.now, it.memory)))
            else:
                out.append(_lost(it.msg, existing[(p["account"], p["dedup_key"])]))
        return out


def _lost(msg: Inbound, row: tuple[Any, ...]) -> Claim:
    """A losing attempt, from its row's id, state and ``_REPLY_COLUMNS``."""
    row_id, state, *stored = row
    return Claim(False, row_id, state, _stored_body(msg, *stored))


def _pairs(pairs: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    return {"accounts": [a for a, _ in pairs], "keys": [k for _, k in pairs]}


def _claim_one(conn: Connection, it: _ClaimItem) -> Claim:
    stmts = _statements(conn)
    inserted = stmts.p_claim.rows(conn, it.params)
    if not inserted:
        (row,) = stmts.p_existing.rows(conn, it.params)
        return _lost(it.msg, row)
    stored = stmts.p_state.rows(conn, it.params)
    return Claim(True, inserted[0][0], "processing", None, _conversation(stored[0] if stored else None, it.now,
                                                                          it.memory))


class _Completes:
    """Completions of one batch: on PostgreSQL each statement runs once for the whole batch
    (asyncpg's executemany: one pipelined round trip), in queue order, so that of two messages of
    one resident in a batch the later conversation is the one kept, as one by one."""

    def run_many(self, conn: Connection, items: Sequence[_CompleteItem]) -> list[None]:
        stmts = _statements(conn)
        if conn.dialect.name != "postgresql":
            for it in items:
                stmts.p_complete.rows(conn, it.params)
                if it.state is not None:
                    # Upsert: two messages of one resident may complete in the same moment.
                    stmts.p_save_state.rows(conn, it.state)
                if it.staff is not None:
                    conn.execute(insert(StaffMessage).values(**it.staff))
            return [None] * len(items)
        conn.execute(stmts.complete, [it.params for it in items])
        states = [it.state for it in items if it.state is not None]
        if states:
            conn.execute(stmts.save_state, states)
        staff = [it.staff for it in items if it.staff is not None]
        if staff:
            conn.execute(insert(StaffMessage), staff)
        return [None] * len(items)


_CLAIMS = _Claims()
_COMPLETES = _Completes()


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _conversation(row: tuple[Any, ...] | None, now: datetime, memory: timedelta) -> Conversation:
    """The stored conversation, or a fresh one when there is none or it is too old to refer to.

    ``row`` holds the ``_STATE_COLUMNS`` in order."""
    if row is None:
        return Conversation()
    pages, page_pos, candidates, last_citation, updated_at = row
    if now - _aware(updated_at) > memory:
        return Conversation()
    cited = tuple(last_citation) if last_citation else None
    return Conversation(
        pages=list(pages), page_pos=page_pos, candidates=list(candidates),
        # Rows from before sub-articles were citable hold [law, article].
        last_citation=(str(cited[0]), int(cited[1]), int(cited[2]) if len(cited) > 2 else 0) if cited else None,
    )


def _reply_text(outcome: Outcome) -> str | None:
    reply = outcome.reply
    if reply is None:
        return None
    content = getattr(reply, "content", None)
    if content is not None:
        return str(content)
    return "\n".join(a.title for a in getattr(reply, "articles", ()))
