"""The figures of a period, computed in the database and split by calendar month (Beijing time).

Every count is aggregated in SQL, grouped by a month bucket, so a year is one pass over the index
(``ix_messages_report``) rather than twelve. Definitions (docs/reports.md has the full contract):

- a *question* is an inbound message whose outcome is ``answered``, ``ambiguous``, ``no_match`` or
  ``failed``, except chit-chat with nothing about law in it (``no_match`` with tier ``chat``: weather,
  farming, phones), counted apart as ``chat``; *unanswered* = ``no_match`` + ``failed``;
  answer rate = answered / questions;
- followers: WeChat's datacube figures for a month whose days are all stored (scheduler/datacube.py),
  else SUBSCRIBE/UNSUBSCRIBE events; followers at the start are then all subscribes minus
  unsubscribes logged before the period (pufa only knows what it has logged);
- a pushed item counts once, in the month of its first successful attempt (reports/sources.py);
- a campaign point is covered when an item was pushed within ``campaign_window_days`` of it, or an
  item names the campaign.
"""

from __future__ import annotations

import json
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Text, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from bot.config import ReportsSettings
from bot.db.models import InboundMessage, KbEntry, StaffMessage
from knowledge.match import CHAT_TIER
from reports import sources
from reports.models import LedgerActivity
from reports.period import SHANGHAI, UTC_OFFSET_HOURS, Period

QUESTION_OUTCOMES = ("answered", "ambiguous", "no_match", "failed")
SUBSCRIBE, UNSUBSCRIBE = "SUBSCRIBE", "UNSUBSCRIBE"
LAW_TOPIC = ("law", "法条直答")


def not_chat() -> ColumnElement[bool]:
    """Messages other than chit-chat (tier CHAT_TIER); rows without a tier (events, old rows) count."""
    return InboundMessage.tier.is_distinct_from(CHAT_TIER)
NO_KEYWORDS = "（无关键词）"


@dataclass
class Questions:
    received: int = 0
    answered: int = 0
    ambiguous: int = 0
    no_match: int = 0
    failed: int = 0
    commands: int = 0  # 继续、数字、原文、留言… — not questions, reported as a raw count
    chat: int = 0  # messages with nothing about law in them (天气、庄稼、手机…) — not questions either

    @property
    def unanswered(self) -> int:
        return self.no_match + self.failed

    @property
    def answer_rate(self) -> float | None:
        return round(self.answered / self.received, 4) if self.received else None


@dataclass
class Followers:
    start: int = 0
    new: int = 0
    lost: int = 0
    # "datacube" (WeChat's own daily figures), "events" (subscribe/unsubscribe pufa logged), or
    # "mixed" for a period whose months differ.
    source: str = "events"

    @property
    def net(self) -> int:
        return self.new - self.lost

    @property
    def end(self) -> int:
        return self.start + self.net


@dataclass
class StaffMessages:
    received: int = 0
    replied: int = 0
    reply_hours: list[float] = field(default_factory=list)

    @property
    def median_reply_hours(self) -> float | None:
        return round(statistics.median(self.reply_hours), 2) if self.reply_hours else None


@dataclass
class Pushes:
    by_channel: dict[str, int] = field(default_factory=dict)
    wechat_sent_count: int = 0  # SentCount summed over mass sends (MASSSENDJOBFINISH)
    attempts: int = 0
    retries: int = 0
    failed_attempts: int = 0

    @property
    def total(self) -> int:
        return sum(self.by_channel.values())


@dataclass
class Campaign:
    key: str
    name: str
    short: str
    first: date
    last: date
    items: int = 0

    @property
    def covered(self) -> bool:
        return self.items > 0


@dataclass
class ActivityType:
    count: int = 0
    participants: int = 0
    materials: int = 0


@dataclass
class Figures:
    """The figures of one month, or of the whole period (``key`` = the period's key)."""

    key: str
    label: str
    first: date
    last: date
    questions: Questions = field(default_factory=Questions)
    followers: Followers = field(default_factory=Followers)
    staff: StaffMessages = field(default_factory=StaffMessages)
    pushes: Pushes = field(default_factory=Pushes)
    campaigns: list[Campaign] = field(default_factory=list)
    activities: dict[str, ActivityType] = field(default_factory=dict)
    topics: Counter[str] = field(default_factory=Counter)
    unanswered_groups: Counter[str] = field(default_factory=Counter)

    @property
    def activity_total(self) -> ActivityType:
        t = ActivityType()
        for a in self.activities.values():
            t.count += a.count
            t.participants += a.participants
            t.materials += a.materials
        return t


@dataclass
class Report:
    period: Period
    total: Figures
    months: list[Figures]
    topic_names: dict[str, str]
    top_n: int
    generated_at: datetime


def month_bucket(col: Any, dialect: str) -> ColumnElement[str]:
    """``YYYY-MM`` of a UTC timestamp in Beijing time, computed by the database."""
    if dialect == "sqlite":
        return func.strftime("%Y-%m", col, f"+{UTC_OFFSET_HOURS} hours")
    return func.to_char(func.timezone("Asia/Shanghai", col), "YYYY-MM")


def date_bucket(col: Any, dialect: str) -> ColumnElement[str]:
    """``YYYY-MM`` of a DATE column."""
    if dialect == "sqlite":
        return func.strftime("%Y-%m", col)
    return func.to_char(col, "YYYY-MM")


def local_month(at: datetime) -> str:
    return f"{at.astimezone(SHANGHAI):%Y-%m}"


def topic_of(entry_id: str | None, topics: dict[str, str] | None = None) -> str:
    """The topic key of an answer: the entry's own (``topics``: entry id → topic key, as staff last
    saved it — a draft made from unanswered questions keeps its ``draft-…`` id after staff give it a
    topic), else the id's prefix (``labor-wage-arrears`` → ``labor``) for an entry no longer stored."""
    if not entry_id:
        return LAW_TOPIC[0]
    return (topics or {}).get(entry_id) or entry_id.split("-", 1)[0]


def keyword_group(raw: Any) -> str:
    """A stable name for a set of keywords: sorted, de-duplicated, joined with 、."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raw = [raw]
    words = sorted({str(w).strip() for w in (raw or []) if str(w).strip()})
    return "、".join(words) if words else NO_KEYWORDS


async def compute(s: AsyncSession, period: Period, settings: ReportsSettings,
                  now: datetime | None = None, *, calendar_file: str | None = None) -> Report:
    dialect = s.get_bind().dialect.name
    months = [Figures(m.first.strftime("%Y-%m"), m.label, m.first, m.last) for m in period.months()]
    by_key = {m.key: m for m in months}
    total = Figures(period.key, period.label, period.first, period.last)

    await _messages(s, period, dialect, by_key, total)
    now = now or datetime.now(SHANGHAI)
    await _followers(s, period, months, total, now.astimezone(SHANGHAI).date())
    await _unanswered(s, period, dialect, by_key, total)
    await _staff(s, period, by_key, total)
    await _pushes(s, period, settings, months, total, calendar_file)
    await _ledger(s, period, dialect, by_key, total)
    names = {k: v for k, v in (await s.execute(select(KbEntry.topic_key, KbEntry.topic).distinct())).all()}
    names[LAW_TOPIC[0]] = LAW_TOPIC[1]
    return Report(period, total, months, names, settings.top_n, now)


async def _messages(s: AsyncSession, period: Period, dialect: str, by_key: dict[str, Figures],
                    total: Figures) -> None:
    m = InboundMessage
    bucket = month_bucket(m.received_at, dialect).label("bucket")
    rows = (await s.execute(
        select(bucket, m.outcome, m.event, m.entry_id, m.tier, func.count())
        .where(m.received_at >= period.start, m.received_at < period.end)
        .group_by(bucket, m.outcome, m.event, m.entry_id, m.tier)
    )).all()
    ids = {r[3] for r in rows if r[3]}
    topics = dict((await s.execute(select(KbEntry.id, KbEntry.topic_key).where(KbEntry.id.in_(ids)))).all()) \
        if ids else {}
    for key, outcome, event, entry_id, tier, n in rows:
        for fig in (by_key[key], total):
            q = fig.questions
            if tier == CHAT_TIER:
                q.chat += n
            elif outcome in QUESTION_OUTCOMES:
                q.received += n
                setattr(q, outcome, getattr(q, outcome) + n)
                if outcome == "answered":
                    fig.topics[topic_of(entry_id, topics)] += n
            elif outcome == "command":
                q.commands += n
            if event == SUBSCRIBE:
                fig.followers.new += n
            elif event == UNSUBSCRIBE:
                fig.followers.lost += n


async def _followers(s: AsyncSession, period: Period, months: list[Figures], total: Figures, today: date) -> None:
    """Per month: WeChat's datacube rows when they cover every day of the month up to yesterday
    (start = the last day's cumulate_user − net), else the logged subscribe/unsubscribe events
    (start = the previous month's end; the first month's from every event logged before it)."""
    m = InboundMessage
    rows = await s.execute(
        select(m.event, func.count())
        .where(m.event.in_((SUBSCRIBE, UNSUBSCRIBE)), m.received_at < period.start)
        .group_by(m.event)
    )
    before = dict(rows.all())
    start = before.get(SUBSCRIBE, 0) - before.get(UNSUBSCRIBE, 0)
    cube = await sources.user_days(s, period.first, period.last)
    yesterday = today - timedelta(days=1)
    for fig in months:
        fo = fig.followers
        last = min(fig.last, yesterday)
        days = [fig.first + timedelta(days=i) for i in range((last - fig.first).days + 1)]
        if days and all(d in cube for d in days) and cube[last][2] is not None:
            fo.new = sum(cube[d][0] for d in days)
            fo.lost = sum(cube[d][1] for d in days)
            fo.start = int(cube[last][2] or 0) - fo.net
            fo.source = "datacube"
        else:
            fo.start = start
        start = fo.end
    t = total.followers
    t.new = sum(f.followers.new for f in months)
    t.lost = sum(f.followers.lost for f in months)
    # Anchored at the end, which the last month's own figures give: where an early month knows only
    # the events pufa logged and a later one WeChat's count, the period's start is that count less the
    # changes since (a year report said "期初 0, 期末 511" for an account of 4,249 followers).
    t.start = (months[-1].followers.end - t.net) if months else start
    kinds = {f.followers.source for f in months}
    t.source = kinds.pop() if len(kinds) == 1 else ("mixed" if kinds else "events")


async def _unanswered(s: AsyncSession, period: Period, dialect: str, by_key: dict[str, Figures],
                      total: Figures) -> None:
    m = InboundMessage
    bucket = month_bucket(m.received_at, dialect).label("bucket")
    words = cast(m.keywords, Text).label("words")
    rows = await s.execute(
        select(bucket, words, func.count())
        .where(m.outcome == "no_match", not_chat(), m.received_at >= period.start, m.received_at < period.end)
        .group_by(bucket, words)
    )
    for key, raw, n in rows:
        group = keyword_group(raw)
        by_key[key].unanswered_groups[group] += n
        total.unanswered_groups[group] += n


async def _staff(s: AsyncSession, period: Period, by_key: dict[str, Figures], total: Figures) -> None:
    sm = StaffMessage
    rows = await s.execute(
        select(sm.created_at, sm.replied_at)
        .where(sm.created_at >= period.start, sm.created_at < period.end)
    )
    for created, replied in rows:
        for fig in (by_key[local_month(created)], total):
            fig.staff.received += 1
            if replied is not None:
                fig.staff.replied += 1
                fig.staff.reply_hours.append((replied - created).total_seconds() / 3600)


async def _pushes(s: AsyncSession, period: Period, settings: ReportsSettings, months: list[Figures],
                  total: Figures, calendar_file: str | None) -> None:
    window = timedelta(days=settings.campaign_window_days)
    items = await sources.pushed_items(s, period.start - window, period.end + window)
    by_key = {f.key: f for f in months}
    for item in items:
        if period.start <= item.first_sent_at < period.end:
            for fig in (by_key[local_month(item.first_sent_at)], total):
                fig.pushes.by_channel[item.channel] = fig.pushes.by_channel.get(item.channel, 0) + 1
                if item.channel == "wechat":
                    fig.pushes.wechat_sent_count += item.sent_count or 0
    for a in await sources.attempt_counts(s, period.start, period.end):
        total.pushes.attempts += a.attempts
        total.pushes.retries += a.retries
        total.pushes.failed_attempts += a.failed
    for day in sources.campaign_days(period.first, period.last, calendar_file):
        lo, hi = day.first - window, day.last + window
        base = day.key.split(":", 1)[0]
        n = sum(1 for i in items
                if lo <= i.first_sent_at.astimezone(SHANGHAI).date() <= hi
                or (i.campaign is not None and i.campaign in (base, day.key, day.name, day.short)))
        campaign = Campaign(day.key, day.name, day.short, day.first, day.last, n)
        total.campaigns.append(campaign)
        month_key = f"{max(day.first, period.first):%Y-%m}"
        if month_key in by_key:
            by_key[month_key].campaigns.append(campaign)


async def _ledger(s: AsyncSession, period: Period, dialect: str, by_key: dict[str, Figures],
                  total: Figures) -> None:
    la = LedgerActivity
    bucket = date_bucket(la.day, dialect).label("bucket")
    rows = await s.execute(
        select(bucket, la.kind, func.count(), func.sum(la.participants), func.sum(la.materials))
        .where(la.day >= period.first, la.day <= period.last)
        .group_by(bucket, la.kind)
    )
    for key, kind, n, people, materials in rows:
        for fig in (by_key[key], total):
            a = fig.activities.setdefault(kind, ActivityType())
            a.count += n
            a.participants += int(people or 0)
            a.materials += int(materials or 0)


def top(counter: Counter[str], n: int) -> list[tuple[str, int]]:
    """The ``n`` largest, ties broken by name so the order is stable."""
    return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
