"""The one place the reports read the scheduler's data: pushed items, push attempts, the campaign calendar.

Everything the figures need from issue 4 goes through these functions, so a change in the push-log
schema is a change to this file only.

Push log (scheduler/models.py, migration 0002): ``posts`` is the queue, ``push_log`` has one row per
attempt. An item counts once, in the period of its *first* successful attempt (``sent`` or
``already_sent`` — the latter is WeChat's 45065 answer to a retry of a send that had gone through),
however many recipients it reached and however many attempts it took.

Campaign calendar: the scheduler's (scheduler/calendar.py), its ``required`` entries.

Followers: WeChat's datacube rows (``wechat_user_days``), stored daily by the scheduler.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Integer, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from reports.models import WechatUserDay
from scheduler.calendar import Campaign, load_calendar
from scheduler.models import Post, PushAttempt

SUCCESS_OUTCOMES = ("sent", "already_sent")
CHANNEL_NAMES = {"wechat": "微信公众号", "dingtalk": "钉钉"}
# The calendar entries the report counts as its campaign points (3月法治宣传月, 3·15, 4·15, 6·26, 12·4).
REPORT_DEFAULT = "required"


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


def _short(c: Campaign) -> str:
    """How the report quotes a campaign: ``short`` from the calendar file, else 3·15 for a fixed day,
    3月法治宣传月 for a whole month, the name otherwise."""
    if c.raw.get("short"):
        return str(c.raw["short"])
    if c.kind == "day":
        return f"{int(c.raw['month'])}·{int(c.raw['day'])}"
    name = _plain_name(c.name)
    return f"{int(c.raw['month'])}月{name}" if c.kind == "month" else name


def _plain_name(name: str) -> str:
    """``国际消费者权益日（3·15）`` → ``国际消费者权益日``: the report puts the short form beside it."""
    return name.split("（", 1)[0].strip() or name


def campaign_days(first: date, last: date, calendar_file: str | None = None) -> list[CampaignDay]:
    """The report's campaign points whose dates touch ``first..last`` (inclusive), in date order:
    the ``required`` entries of the scheduler's calendar (scheduler/data/calendar.toml plus staff's
    ``scheduler.calendar_file``), as enabled for that year (per-year overrides apply)."""
    calendar = load_calendar(calendar_file or None)
    out: list[CampaignDay] = []
    for year in range(first.year, last.year + 1):
        for occ in calendar.occurrences(year):
            c = occ.campaign
            if c.default != REPORT_DEFAULT or occ.start is None or occ.end is None:
                continue
            if occ.start <= last and occ.end >= first:
                key = f"{c.key}:{occ.start.year}"
                if any(d.key == key for d in out):  # a season spanning two years, seen from both
                    continue
                out.append(CampaignDay(key, _plain_name(c.name), _short(c), occ.start, occ.end))
    return sorted(out, key=lambda c: (c.first, c.last))


async def user_days(s: AsyncSession, first: date, last: date) -> dict[date, tuple[int, int, int | None]]:
    """WeChat's datacube rows stored by the scheduler (scheduler/datacube.py), by day:
    ``(new_user, cancel_user, cumulate_user)``."""
    rows = await s.execute(
        select(WechatUserDay.day, WechatUserDay.new_user, WechatUserDay.cancel_user, WechatUserDay.cumulate_user)
        .where(WechatUserDay.day >= first, WechatUserDay.day <= last)
    )
    return {r[0]: (int(r[1]), int(r[2]), None if r[3] is None else int(r[3])) for r in rows}


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
