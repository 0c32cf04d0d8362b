"""The daily datacube job: WeChat's own follower figures, stored one row per day.

``datacube/getusersummary`` (new_user, cancel_user per day and source) and ``getusercumulate``
(followers at the end of each day) cover at most 7 days a call, and a day's data is ready only from
about 08:00 Beijing time the next day. The leader runs this after ``scheduler.datacube_time``: every
day missing from ``wechat_user_days`` within the last ``scheduler.datacube_backfill_days`` days up
to yesterday is fetched, oldest first, in windows of at most 7 days, each window committed on its
own (so a failure keeps what was stored and the next try resumes). The reports use these rows when
they cover a month (reports/sources.py).
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.base import utcnow
from bot.wechat.client import WechatClient
from reports.models import WechatUserDay

log = logging.getLogger("pufa.scheduler.datacube")

MAX_DAYS = 7


def windows(missing: list[date], max_days: int = MAX_DAYS) -> list[tuple[date, date]]:
    """Calls covering every missing day: each starts at a missing day and spans ≤ ``max_days``
    days, ending at the last missing day it can reach."""
    out: list[tuple[date, date]] = []
    i = 0
    days = sorted(set(missing))
    while i < len(days):
        begin = days[i]
        limit = begin + timedelta(days=max_days - 1)
        j = i
        while j + 1 < len(days) and days[j + 1] <= limit:
            j += 1
        out.append((begin, days[j]))
        i = j + 1
    return out


async def missing_days(sessions: async_sessionmaker[AsyncSession], first: date, last: date) -> list[date]:
    async with sessions() as s:
        have = set((await s.execute(
            select(WechatUserDay.day).where(WechatUserDay.day >= first, WechatUserDay.day <= last)
        )).scalars().all())
    n = (last - first).days + 1
    return [d for d in (first + timedelta(days=i) for i in range(max(0, n))) if d not in have]


def _int(value: object) -> int:
    try:
        return int(value)  # type: ignore[call-overload,no-any-return]
    except (TypeError, ValueError):
        return 0


async def fetch_user_days(sessions: async_sessionmaker[AsyncSession], client: WechatClient, *,
                          today: date, backfill_days: int) -> int:
    """Fetch and store the missing days up to yesterday (``today`` is Beijing's). Returns the number
    of days stored. WeChat errors propagate (the caller retries later); earlier windows stay stored."""
    if backfill_days <= 0:
        return 0
    last = today - timedelta(days=1)
    first = today - timedelta(days=backfill_days)
    stored = 0
    for begin, end in windows(await missing_days(sessions, first, last)):
        summary = await client.user_summary(begin, end)
        cumulate = await client.user_cumulate(begin, end)
        new: dict[date, int] = {}
        lost: dict[date, int] = {}
        total: dict[date, int] = {}
        for item in summary:  # one row per day *and* user_source: add them up
            day = date.fromisoformat(str(item.get("ref_date")))
            new[day] = new.get(day, 0) + _int(item.get("new_user"))
            lost[day] = lost.get(day, 0) + _int(item.get("cancel_user"))
        for item in cumulate:
            total[date.fromisoformat(str(item.get("ref_date")))] = _int(item.get("cumulate_user"))
        now = utcnow()
        async with sessions() as s, s.begin():
            for i in range((end - begin).days + 1):
                day = begin + timedelta(days=i)
                existing = await s.get(WechatUserDay, day)
                if existing is None:
                    existing = WechatUserDay(day=day)
                    s.add(existing)
                row = existing
                # A day WeChat lists no summary rows for had no movement.
                row.new_user, row.cancel_user = new.get(day, 0), lost.get(day, 0)
                row.cumulate_user = total.get(day)
                row.fetched_at = now
                stored += 1
        log.info("datacube: stored %s..%s", begin, end)
    return stored
