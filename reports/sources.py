"""The one place the reports read the scheduler's data: pushed items, push attempts, the campaign calendar.

Everything the figures need from issue 4 goes through these functions, so a change in the push-log
schema is a change to this file only.

Push log (scheduler/models.py, migration 0002): ``posts`` is the queue, ``push_log`` has one row per
attempt. An item counts once, in the period of its *first* successful attempt (``sent`` or
``already_sent`` — the latter is WeChat's 45065 answer to a retry of a send that had gone through),
however many recipients it reached and however many attempts it took.

Campaign calendar: **minimal interface** until the scheduler ships its calendar loader. The
scheduler's bundled ``scheduler/data/calendar.toml`` did not exist when this was written, so
``campaign_days`` uses :data:`FALLBACK_CAMPAIGNS` (the required dates of docs/calendar.md). Swap the
body of ``campaign_days`` for the scheduler's loader when it lands.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Integer, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.models import Post, PushAttempt

SUCCESS_OUTCOMES = ("sent", "already_sent")
CHANNEL_NAMES = {"wechat": "微信公众号", "dingtalk": "钉钉"}


@dataclass(frozen=True)
class PushedItem:
    post_id: int
    channel: str
    first_sent_at: datetime
    sent_count: int | None
    campaign: str | None


@dataclass(frozen=True)
class AttemptCounts:
    channel: str
    attempts: int
    retries: int
    failed: int


@dataclass(frozen=True)
class CampaignDay:
    """A calendar point: one day (``first == last``) or a season such as 3月法治宣传月."""

    key: str
    name: str
    short: str  # how the report quotes it: 3·15, 3月法治宣传月
    first: date
    last: date


async def pushed_items(s: AsyncSession, start: datetime, end: datetime) -> list[PushedItem]:
    """Items whose first successful attempt falls in ``[start, end)``, one row per item."""
    first = (
        select(PushAttempt.post_id, func.min(PushAttempt.finished_at).label("first_sent_at"))
        .where(PushAttempt.outcome.in_(SUCCESS_OUTCOMES), PushAttempt.finished_at < end)
        .group_by(PushAttempt.post_id)
        .having(func.min(PushAttempt.finished_at) >= start)
        .subquery()
    )
    rows = await s.execute(
        select(Post.id, Post.channel, first.c.first_sent_at, Post.sent_count, Post.campaign)
        .join(first, first.c.post_id == Post.id)
        .order_by(first.c.first_sent_at)
    )
    out: list[PushedItem] = []
    for r in rows:
        at = r.first_sent_at
        if isinstance(at, str):  # SQLite returns the aggregate as its stored text
            at = datetime.fromisoformat(at)
        out.append(PushedItem(r.id, r.channel, _utc(at), r.sent_count, r.campaign))
    return out


async def attempt_counts(s: AsyncSession, start: datetime, end: datetime) -> list[AttemptCounts]:
    """Raw attempt counts behind the item counts (retries and failures are not items)."""
    retry = func.sum(func.coalesce((PushAttempt.outcome == "retry").cast(Integer), 0))
    failed = func.sum(func.coalesce(PushAttempt.outcome.in_(("failed", "needs_attention")).cast(Integer), 0))
    rows = await s.execute(
        select(PushAttempt.channel, func.count(), retry, failed)
        .where(PushAttempt.started_at >= start, PushAttempt.started_at < end)
        .group_by(PushAttempt.channel)
    )
    return [AttemptCounts(r[0], int(r[1]), int(r[2] or 0), int(r[3] or 0)) for r in rows]


FALLBACK_CAMPAIGNS: Sequence[tuple[str, str, str, int, int, int]] = (
    # key, name, short, month, first day, last day (0 = to the end of the month)
    ("legal_month", "法治宣传月", "3月法治宣传月", 3, 1, 0),
    ("consumer_day", "国际消费者权益日", "3·15", 3, 15, 15),
    ("security_day", "全民国家安全教育日", "4·15", 4, 15, 15),
    ("antidrug_day", "国际禁毒日", "6·26", 6, 26, 26),
    ("constitution_day", "国家宪法日", "12·4", 12, 4, 4),
)


def campaign_days(first: date, last: date) -> list[CampaignDay]:
    """Campaign points whose date falls in ``first..last`` (inclusive), in date order."""
    out: list[CampaignDay] = []
    for year in range(first.year, last.year + 1):
        for key, name, short, month, d1, d2 in FALLBACK_CAMPAIGNS:
            start = date(year, month, d1)
            end = date(year, month, d2) if d2 else (date(year + (month == 12), month % 12 + 1, 1)
                                                    - timedelta(days=1))
            if start <= last and end >= first:
                out.append(CampaignDay(f"{key}:{year}", name, short, start, end))
    return sorted(out, key=lambda c: (c.first, c.last))


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
