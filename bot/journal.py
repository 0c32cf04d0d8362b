"""The message log as an idempotent receiver.

``claim`` records an inbound item under its dedup key with one atomic
``INSERT … ON CONFLICT DO NOTHING``: exactly one attempt (of any process sharing the database) wins
and does the answer work; retries read the stored reply. ``complete`` stores the outcome, the
resident's conversation and any message for staff in one transaction.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.base import utcnow
from bot.db.models import InboundMessage, ResidentState, StaffMessage
from bot.dispatch import Conversation, Outcome
from bot.wechat.messages import Inbound

POLL_INTERVAL = 0.05
PURGED = "（已超过保存期限，内容已清除）"


def hash_openid(openid: str, salt: str) -> str:
    return hmac.new(salt.encode(), openid.encode(), hashlib.sha256).hexdigest()[:32]


@dataclass(frozen=True)
class Claim:
    won: bool
    message_id: int
    state: str
    reply_body: str | None


class Journal:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], account: str, salt: str) -> None:
        self.sessions = sessions
        self.account = account
        self.salt = salt
        self._waiters: dict[str, asyncio.Event] = {}

    def openid_hash(self, openid: str) -> str:
        return hash_openid(openid, self.salt)

    async def claim(self, msg: Inbound, now: datetime | None = None) -> Claim:
        values = {
            "account": self.account,
            "dedup_key": msg.dedup_key,
            "openid_hash": self.openid_hash(msg.from_user),
            "msg_type": msg.msg_type,
            "event": msg.event or None,
            "text": msg.text or (msg.event_key or None),
            "received_at": now or utcnow(),
            "state": "processing",
        }
        async with self.sessions() as session, session.begin():
            ins: Any = _dialect_insert(session)(InboundMessage)
            stmt = (
                ins.values(**values)
                .on_conflict_do_nothing(index_elements=["account", "dedup_key"])
                .returning(InboundMessage.id)
            )
            new_id = (await session.execute(stmt)).scalar_one_or_none()
            if new_id is not None:
                self._waiters.setdefault(msg.dedup_key, asyncio.Event())
                return Claim(True, new_id, "processing", None)
            row = (
                await session.execute(
                    select(InboundMessage.id, InboundMessage.state, InboundMessage.reply_body).where(
                        InboundMessage.account == self.account,
                        InboundMessage.dedup_key == msg.dedup_key,
                    )
                )
            ).one()
            return Claim(False, row.id, row.state, row.reply_body)

    async def wait_for_reply(self, claim: Claim, dedup_key: str, timeout: float) -> tuple[str, str | None]:
        """A retry waits for the first attempt: in this process by an event, across processes by polling."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        local = self._waiters.get(dedup_key)
        while True:
            async with self.sessions() as session:
                row = (
                    await session.execute(
                        select(InboundMessage.state, InboundMessage.reply_body)
                        .where(InboundMessage.id == claim.message_id)
                        .execution_options(pufa_readonly=True)
                    )
                ).one()
            if row.state != "processing":
                return row.state, row.reply_body
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

    async def load_conversation(self, openid: str, memory: timedelta) -> Conversation:
        async with self.sessions() as session:
            row = await session.get(
                ResidentState, (self.account, self.openid_hash(openid)),
                execution_options={"pufa_readonly": True},
            )
        if row is None or utcnow() - row.updated_at > memory:
            return Conversation()
        cited = tuple(row.last_citation) if row.last_citation else None
        return Conversation(
            pages=list(row.pages), page_pos=row.page_pos, candidates=list(row.candidates),
            last_citation=(str(cited[0]), int(cited[1])) if cited else None,
        )

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
    ) -> None:
        now = utcnow()
        async with self.sessions() as session, session.begin():
            await session.execute(
                update(InboundMessage)
                .where(InboundMessage.id == claim.message_id)
                .values(
                    state=state,
                    outcome=outcome.kind,
                    tier=outcome.tier,
                    entry_id=outcome.entry_id,
                    score=outcome.score,
                    citations=[[c.law, c.article] for c in outcome.citations] or None,
                    keywords=list(outcome.keywords) or None,
                    reply=_reply_text(outcome),
                    reply_body=reply_body,
                    delivered=delivered,
                    latency_ms=latency_ms,
                    completed_at=now,
                )
            )
            if conversation.changed:
                await self._save_conversation(session, msg.from_user, conversation, now)
            if outcome.leave_message:
                session.add(
                    StaffMessage(
                        account=self.account, message_id=claim.message_id, openid=msg.from_user,
                        openid_hash=self.openid_hash(msg.from_user), text=outcome.leave_message,
                        created_at=now, last_inbound_at=now,
                    )
                )
        waiter = self._waiters.pop(msg.dedup_key, None)
        if waiter is not None:
            waiter.set()

    async def mark_delivery(self, message_id: int, delivered: str) -> None:
        async with self.sessions() as session, session.begin():
            await session.execute(
                update(InboundMessage).where(InboundMessage.id == message_id).values(delivered=delivered)
            )

    async def _save_conversation(
        self, session: AsyncSession, openid: str, conv: Conversation, now: datetime
    ) -> None:
        values = {
            "pages": conv.pages, "page_pos": conv.page_pos, "candidates": conv.candidates,
            "last_citation": list(conv.last_citation) if conv.last_citation else None, "updated_at": now,
        }
        # Upsert: two messages of one resident may complete at the same moment.
        ins: Any = _dialect_insert(session)(ResidentState)
        stmt = ins.values(account=self.account, openid_hash=self.openid_hash(openid), **values)
        stmt = stmt.on_conflict_do_update(index_elements=["account", "openid_hash"], set_=values)
        await session.execute(stmt)

    async def purge_texts(self, older_than: datetime) -> int:
        """Retention: drop message texts and replies, keep the counts and outcomes."""
        async with self.sessions() as session, session.begin():
            result = await session.execute(
                update(InboundMessage)
                .where(InboundMessage.received_at < older_than, InboundMessage.text.is_not(None))
                .values(text=None, reply=None, reply_body=None)
            )
            await session.execute(delete(ResidentState).where(ResidentState.updated_at < older_than))
            # Messages left for staff are casework, but the same retention applies to the text and
            # to the raw openid kept for replying.
            await session.execute(
                update(StaffMessage)
                .where(StaffMessage.created_at < older_than, StaffMessage.openid != "")
                .values(text=PURGED, openid="")
            )
        return int(getattr(result, "rowcount", 0) or 0)


def _dialect_insert(session: AsyncSession) -> Any:
    """INSERT with ON CONFLICT support for the session's backend."""
    return postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert


def _reply_text(outcome: Outcome) -> str | None:
    reply = outcome.reply
    if reply is None:
        return None
    content = getattr(reply, "content", None)
    if content is not None:
        return str(content)
    return "\n".join(a.title for a in getattr(reply, "articles", ()))
