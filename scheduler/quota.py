"""Mass-send quota planning, checked when a post is scheduled — not discovered on the day.

Subscription account (订阅号): one mass send per Beijing calendar day. Service account (服务号): four
per calendar month (WeChat counts per follower; pufa counts every send, which is never less).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.models import QUOTA_STATES, STATE_NAMES, Post
from scheduler.timeutil import fmt_local, local, local_day_bounds, local_month_bounds

LIMITS = {"subscription": 1, "service": 4}
ACCOUNT_NAMES = {"subscription": "订阅号", "service": "服务号"}


@dataclass(frozen=True)
class Conflict:
    """A post already using the quota (plain values: the transaction is rolled back after a refusal)."""

    id: int
    title: str
    send_at: datetime
    state: str


class QuotaExceeded(ValueError):
    def __init__(self, message: str, conflicts: list[Conflict]) -> None:
        super().__init__(message)
        self.conflicts = conflicts


def period(account_type: str, when: datetime) -> tuple[datetime, datetime, str]:
    lt = local(when)
    if account_type == "subscription":
        start, end = local_day_bounds(lt.date())
        return start, end, lt.strftime("%Y年%m月%d日")
    start, end = local_month_bounds(lt.year, lt.month)
    return start, end, lt.strftime("%Y年%m月")


async def check_quota(s: AsyncSession, account_type: str, when: datetime, exclude: int | None = None) -> None:
    if account_type not in LIMITS:
        raise ValueError(f"unknown account type {account_type!r}")
    limit = LIMITS[account_type]
    start, end, label = period(account_type, when)
    q = (select(Post).where(Post.channel == "wechat", Post.state.in_(QUOTA_STATES),
                            Post.send_at >= start, Post.send_at < end).order_by(Post.send_at, Post.id))
    if exclude is not None:
        q = q.where(Post.id != exclude)
    taken = list((await s.execute(q)).scalars())
    if len(taken) < limit:
        return
    names = "；".join(
        f"#{p.id}《{p.title}》（{fmt_local(p.send_at)}，{STATE_NAMES.get(p.state, p.state)}）" for p in taken
    )
    per = "每天" if account_type == "subscription" else "每月"
    raise QuotaExceeded(
        f"无法安排：{ACCOUNT_NAMES[account_type]}{per}只能群发 {limit} 次，{label}已安排 {len(taken)} 次：{names}。"
        "请改到其他日期，或先取消其中一条。",
        [Conflict(p.id, p.title, p.send_at, p.state) for p in taken],
    )
