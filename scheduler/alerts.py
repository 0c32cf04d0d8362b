"""Staff alerts: written in the same transaction as the state change that caused them, so an alert is
never lost and never raised for a change that rolled back. The admin page and ``pufa posts alerts``
read them, and staff mark them handled (已处理) on the admin page; each alert also goes into the
DingTalk outbox (scheduler/outbox.py), in the same transaction, and is sent to the cadres' group once
by the leader."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.base import utcnow
from scheduler.models import DingtalkNotice, StaffAlert

log = logging.getLogger("pufa.scheduler.alerts")

ALERT_TITLE = "普法助手提醒"


async def add_alert(s: AsyncSession, *, kind: str, message: str, post_id: int | None = None,
                    now: datetime | None = None) -> None:
    now = now or utcnow()
    alert = StaffAlert(post_id=post_id, kind=kind, message=message, created_at=now)
    s.add(alert)
    await s.flush()
    s.add(DingtalkNotice(kind=f"alert:{kind}"[:32], alert_id=alert.id, title=ALERT_TITLE, text=message,
                         created_at=now, due_at=now))
    log.warning("staff alert (%s) for post %s", kind, post_id)


class AlreadyAcknowledged(Exception):
    def __init__(self, alert_id: int, by: str) -> None:
        super().__init__(alert_id)
        self.by = by


async def acknowledge(s: AsyncSession, alert_id: int, by: str, now: datetime | None = None) -> StaffAlert | None:
    """Mark an open alert handled (已处理) by ``by``, in the caller's transaction; None when there is no
    such alert. A conditional UPDATE, so when two staff click at once the first one is recorded."""
    res = await s.execute(update(StaffAlert).where(StaffAlert.id == alert_id, StaffAlert.acknowledged_at.is_(None))
                          .values(acknowledged_at=now or utcnow(), acknowledged_by=by[:64])
                          .execution_options(synchronize_session=False))
    alert = await s.get(StaffAlert, alert_id, populate_existing=True)
    if alert is not None and res.rowcount != 1:  # type: ignore[attr-defined]
        raise AlreadyAcknowledged(alert_id, alert.acknowledged_by or "")
    return alert


async def acknowledged(sessions: async_sessionmaker[AsyncSession], limit: int = 50) -> list[StaffAlert]:
    async with sessions() as s:
        q = (select(StaffAlert).where(StaffAlert.acknowledged_at.is_not(None))
             .order_by(StaffAlert.acknowledged_at.desc()).limit(limit))
        return list((await s.execute(q)).scalars())


async def alerted_posts(sessions: async_sessionmaker[AsyncSession]) -> set[int]:
    """Posts that have ever had an alert: the alert, open or handled, speaks for them."""
    async with sessions() as s:
        q = select(StaffAlert.post_id).where(StaffAlert.post_id.is_not(None)).distinct()
        return {p for p in (await s.execute(q)).scalars() if p is not None}
