"""Reminders ahead of campaign dates: when a date within ``lead_days`` has nothing queued, generate a
draft from the knowledge-base entries tagged for that campaign and alert staff.

Idempotent (runs from every leader tick, at most once per Beijing day): a campaign date that already has
any post — queued, sent, cancelled or a generated draft — gets nothing new.
"""

from __future__ import annotations

import hashlib
import html
import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.base import utcnow
from bot.db.models import KbEntry
from scheduler.alerts import add_alert
from scheduler.calendar import Calendar, Occurrence
from scheduler.models import DRAFT, Post
from scheduler.timeutil import at_local, local, local_day_bounds

log = logging.getLogger("pufa.scheduler.drafts")

MAX_ENTRIES = 5
AUTHOR = "auto"


@dataclass(frozen=True)
class Generated:
    post_id: int
    campaign: str
    day: date
    entries: int


def compose(occ: Occurrence, entries: list[KbEntry]) -> tuple[str, str, str]:
    """Title (≤ 32), digest and article HTML for a campaign, from its tagged Q&A."""
    c = occ.campaign
    title = f"{c.name}｜{'、'.join(c.laws[:2])}知识问答"[:32]
    digest = f"{c.name}到了，一起学习{'、'.join(c.laws)}。"[:120]
    parts = [f"<p>{html.escape(digest)}</p>"]
    for e in entries:
        parts.append(f"<h3>问：{html.escape(e.question)}</h3>")
        parts += [f"<p>{html.escape(line)}</p>" for line in e.answer.splitlines() if line.strip()]
    parts.append("<p>有法律问题，可直接在公众号留言，或拨打 12348 公共法律服务热线。</p>")
    return title, digest, "".join(parts)


async def _has_post(s: AsyncSession, occ: Occurrence) -> bool:
    assert occ.start is not None
    start, _ = local_day_bounds(occ.start)
    _, end = local_day_bounds(occ.end or occ.start)
    q = select(Post.id).where(Post.send_at >= start, Post.send_at < end,
                              (Post.campaign == occ.campaign.key) | (Post.campaign.is_(None))).limit(1)
    return (await s.execute(q)).first() is not None


async def _published(sessions: async_sessionmaker[AsyncSession]) -> list[KbEntry]:
    # A read-only transaction: on SQLite an ordinary one takes the write lock at BEGIN, and reading and
    # decoding every entry under it held up the residents' message log for a third of a second at
    # each start (the daily pass runs first thing).
    async with sessions() as s:
        await s.connection(execution_options={"pufa_readonly": True})
        return list((await s.execute(select(KbEntry).where(KbEntry.status == "published")
                                     .order_by(KbEntry.id))).scalars())


def _tagged(entries: list[KbEntry], tags: tuple[str, ...]) -> list[KbEntry]:
    wanted = set(tags)
    return [e for e in entries if wanted & set(e.tags or ())][:MAX_ENTRIES]


async def remind_and_draft(sessions: async_sessionmaker[AsyncSession], calendar: Calendar, *, lead_days: int,
                           send_time: time, now: datetime | None = None) -> list[Generated]:
    now = now or utcnow()
    today = local(now).date()
    horizon = today + timedelta(days=lead_days)
    occs = [o for y in {today.year, horizon.year} for o in calendar.occurrences(y)
            if o.start is not None and today < o.start <= horizon]
    made: list[Generated] = []
    published = await _published(sessions) if occs else []
    for occ in occs:
        assert occ.start is not None
        entries = _tagged(published, occ.campaign.tags)
        title, digest, body = compose(occ, entries)
        async with sessions() as s, s.begin():
            if await _has_post(s, occ):
                continue
            when = at_local(occ.start, send_time)
            # Deterministic: a second generator (another leader, a race) hits the unique key.
            digest_key = hashlib.sha1(f"{occ.campaign.key}/{occ.start}".encode()).hexdigest()[:32]
            post = Post(idem_key=f"pufa-auto-{digest_key}", title=title,
                        digest=digest, body=body, channel="wechat", audience="all", campaign=occ.campaign.key,
                        send_at=when, due_at=when, state=DRAFT, created_by=AUTHOR, created_at=now, updated_at=now)
            s.add(post)
            await s.flush()
            days = (occ.start - today).days
            await add_alert(s, kind="reminder", post_id=post.id, message=(
                f"{occ.start.month}月{occ.start.day}日「{occ.campaign.name}」还有 {days} 天，尚未安排推送；"
                f"已根据知识库生成草稿 #{post.id}《{title}》（{len(entries)} 条问答），"
                f"请在管理页面“推送”中审核第 {post.id} 条后安排发送"), now=now)
            made.append(Generated(post.id, occ.campaign.key, occ.start, len(entries)))
    return made
