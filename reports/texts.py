"""Residents' message texts for an export, only on explicit request (``--include-texts``).

The message log holds a salted hash, never the openid; exports show only a short, further-masked
prefix of that hash (enough to see that two questions came from one resident, not to look anyone up).
``staff_messages`` (which does keep raw openids) is never read here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import InboundMessage
from reports.figures import QUESTION_OUTCOMES, not_chat
from reports.period import SHANGHAI, Period

DEFAULT_LIMIT = 1000


def mask(openid_hash: str) -> str:
    return (openid_hash[:4] + "…") if openid_hash else "—"


@dataclass(frozen=True)
class MessageText:
    received_at: datetime
    outcome: str
    resident: str
    text: str

    def as_dict(self) -> dict[str, Any]:
        return {"received_at": self.received_at.astimezone(SHANGHAI).isoformat(timespec="seconds"),
                "outcome": self.outcome, "resident": self.resident, "text": self.text}


async def question_texts(s: AsyncSession, period: Period, limit: int = DEFAULT_LIMIT) -> list[MessageText]:
    """Questions of the period (most recent first), with masked residents."""
    m = InboundMessage
    rows = await s.execute(
        select(m.received_at, m.outcome, m.openid_hash, m.text)
        .where(m.received_at >= period.start, m.received_at < period.end,
               m.outcome.in_(QUESTION_OUTCOMES), not_chat(), m.text.is_not(None))
        .order_by(m.received_at.desc())
        .limit(limit)
    )
    return [MessageText(r.received_at, r.outcome, mask(r.openid_hash), r.text) for r in rows]
