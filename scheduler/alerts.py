"""Staff alerts: written in the same transaction as the state change that caused them, so an alert is
never lost and never raised for a change that rolled back. The admin page and ``pufa posts alerts``
read them; each alert also goes into the DingTalk outbox (scheduler/outbox.py), in the same
transaction, and is sent to the cadres' group once by the leader."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

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
