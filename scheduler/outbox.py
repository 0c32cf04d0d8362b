"""The DingTalk outbox: staff notices (alerts, the monthly report's headline) sent to the cadres'
group exactly once at most.

A notice is written in the transaction that caused it (``add_alert``, the monthly job). The leader
sends pending notices after each pass of the post sender, sharing DingTalk's 20-a-minute budget with
DingTalk posts (both are counted from the database: ``push_log`` and this table). Each send is
claimed and committed (``sending``) before the call, then recorded. DingTalk has no idempotency
key, so an attempt whose outcome is unknown (timeout, crash mid-call) becomes ``unknown`` and is
never repeated; only answers proving nothing was delivered (connection refused, 130101 too fast)
put it back to ``pending``. Notices older than ``max_age`` (e.g. queued while no robot was
configured) are ``expired`` rather than sent late.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from bot.db.base import utcnow
from scheduler.channels import ChannelResult
from scheduler.channels.dingtalk import TOO_FAST, DingtalkChannel
from scheduler.models import (
    OUTBOX_EXPIRED,
    OUTBOX_FAILED,
    OUTBOX_PENDING,
    OUTBOX_SENDING,
    OUTBOX_SENT,
    OUTBOX_UNKNOWN,
    DingtalkNotice,
    PushAttempt,
)

log = logging.getLogger("pufa.scheduler.outbox")

WINDOW = timedelta(seconds=60)
CONNECT_RETRY = timedelta(seconds=60)
TOO_FAST_WAIT = timedelta(seconds=600)


async def dingtalk_call_times(conn: AsyncConnection, since: datetime) -> list[datetime]:
    """Start times of every DingTalk call after ``since``: posts (push_log) and notices (outbox)."""
    posts = (await conn.execute(
        select(PushAttempt.started_at).where(PushAttempt.channel == "dingtalk", PushAttempt.started_at > since)
    )).scalars().all()
    notices = (await conn.execute(
        select(DingtalkNotice.attempted_at).where(DingtalkNotice.attempted_at > since)
    )).scalars().all()
    return sorted(_aware(t) for t in [*posts, *notices] if t is not None)


async def enqueue(s: AsyncSession, *, kind: str, title: str, text: str,
                  now: datetime | None = None) -> DingtalkNotice:
    now = now or utcnow()
    notice = DingtalkNotice(kind=kind[:32], title=title[:64], text=text, created_at=now, due_at=now)
    s.add(notice)
    return notice


class Outbox:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], channel: DingtalkChannel | None, *,
                 per_minute: int = 20, max_age_seconds: float = 24 * 3600.0,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.sessions = sessions
        self.channel = channel
        self.per_minute = per_minute
        self.max_age = timedelta(seconds=max_age_seconds)
        self.clock = clock

    async def recover(self) -> int:
        """On becoming leader: a notice left ``sending`` was cut short; its outcome is unknown."""
        async with self.sessions() as s, s.begin():
            res = await s.execute(
                update(DingtalkNotice).where(DingtalkNotice.state == OUTBOX_SENDING)
                .values(state=OUTBOX_UNKNOWN, error="发送中断（崩溃或重启），是否送达未知，不再重发")
            )
            return int(res.rowcount or 0)  # type: ignore[attr-defined]

    async def run(self, limit: int = 100) -> int:
        """Send due notices while the DingTalk minute has room; returns how many were delivered."""
        if self.channel is None:
            return 0
        sent = 0
        await self._expire()
        for _ in range(limit):
            now = self.clock()
            if not await self._slot(now):
                break
            claimed = await self._claim(now)
            if claimed is None:
                break
            notice_id, attempt, title, text = claimed
            result = await self.channel.send_notice(title, text)
            if await self._finish(notice_id, attempt, result):
                sent += 1
        return sent

    async def _expire(self) -> None:
        cutoff = self.clock() - self.max_age
        async with self.sessions() as s, s.begin():
            await s.execute(
                update(DingtalkNotice)
                .where(DingtalkNotice.state == OUTBOX_PENDING, DingtalkNotice.created_at < cutoff)
                .values(state=OUTBOX_EXPIRED, error="排队超过时限，未发送（请在管理页面查看提醒）")
            )

    async def _slot(self, now: datetime) -> bool:
        async with self.sessions() as s:
            conn = await s.connection(execution_options={"pufa_readonly": True})
            return len(await dingtalk_call_times(conn, now - WINDOW)) < self.per_minute

    async def _claim(self, now: datetime) -> tuple[int, int, str, str] | None:
        async with self.sessions() as s, s.begin():
            row = (await s.execute(
                select(DingtalkNotice)
                .where(DingtalkNotice.state == OUTBOX_PENDING, DingtalkNotice.due_at <= now)
                .order_by(DingtalkNotice.due_at, DingtalkNotice.id).limit(1).with_for_update(skip_locked=True)
            )).scalar_one_or_none()
            if row is None:
                return None
            attempt = row.attempts + 1
            res = await s.execute(
                update(DingtalkNotice)
                .where(DingtalkNotice.id == row.id, DingtalkNotice.state == OUTBOX_PENDING,
                       DingtalkNotice.attempts == row.attempts)
                .values(state=OUTBOX_SENDING, attempts=attempt, attempted_at=now)
                .execution_options(synchronize_session=False)
            )
            if res.rowcount != 1:  # type: ignore[attr-defined]
                return None
            return int(row.id), attempt, row.title, row.text

    async def _finish(self, notice_id: int, attempt: int, result: ChannelResult) -> bool:
        now = self.clock()
        values: dict[str, Any] = {"error_code": result.errcode or None}
        if result.errcode == 0:
            values.update(state=OUTBOX_SENT, sent_at=now, error=None)
        elif result.errcode == TOO_FAST:
            values.update(state=OUTBOX_PENDING, due_at=now + TOO_FAST_WAIT, error="钉钉限流，10 分钟后再发")
        elif result.errcode == -1 and not result.may_have_arrived:
            values.update(state=OUTBOX_PENDING, due_at=now + CONNECT_RETRY, error="无法连接钉钉，消息未发出")
        elif result.errcode == -1:
            values.update(state=OUTBOX_UNKNOWN, error=f"钉钉未答复（{result.errmsg}），是否送达未知，不再重发")
        else:
            values.update(state=OUTBOX_FAILED, error=f"钉钉拒绝：{result.errcode} {result.errmsg}")
        async with self.sessions() as s, s.begin():
            await s.execute(
                update(DingtalkNotice)
                .where(DingtalkNotice.id == notice_id, DingtalkNotice.state == OUTBOX_SENDING,
                       DingtalkNotice.attempts == attempt)
                .values(**values).execution_options(synchronize_session=False)
            )
        if result.errcode:
            log.warning("dingtalk notice %s: %s", notice_id, values["state"])
        return result.errcode == 0


def _aware(dt: datetime) -> datetime:
    from datetime import UTC

    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt
