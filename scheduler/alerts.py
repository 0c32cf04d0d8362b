"""Staff alerts: written in the same transaction as the state change that caused them, so an alert is
never lost and never raised for a change that rolled back. The admin page and ``pufa posts alerts``
read them."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.base import utcnow
from scheduler.models import StaffAlert

log = logging.getLogger("pufa.scheduler.alerts")


async def add_alert(s: AsyncSession, *, kind: str, message: str, post_id: int | None = None) -> None:
    s.add(StaffAlert(post_id=post_id, kind=kind, message=message, created_at=utcnow()))
    log.warning("staff alert (%s) for post %s", kind, post_id)
