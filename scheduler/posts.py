"""The post queue: create (with quota planning), list, show, cancel, and the push log.

Quota is checked in the same transaction as the insert, serialised (SQLite: BEGIN IMMEDIATE;
PostgreSQL: a transaction-level advisory lock), so two staff planning at once cannot both take the
last slot of a day or month.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.base import utcnow
from scheduler.channels import dingtalk, wechat
from scheduler.models import CANCELLED, CHANNELS, DRAFT, SCHEDULED, Post, PushAttempt, StaffAlert
from scheduler.quota import check_quota
from scheduler.timeutil import local_month_bounds

_TAGS = re.compile(r"<[^>]*>")
PG_QUOTA_LOCK = 0x7075666171756F74  # "pufaquot"
TITLE_MAX = 32  # WeChat's article title limit


class PostError(ValueError):
    """Refused; the message is for staff (Chinese)."""


@dataclass(frozen=True)
class NewPost:
    title: str
    body: str
    channel: str
    send_at: datetime
    digest: str = ""
    audience: str = "all"
    campaign: str | None = None
    cover_url: str | None = None
    # A file in the upload directory (scheduler/covers.py).
    cover_file: str | None = None
    draft: bool = False


def validate(new: NewPost) -> None:
    if not new.title.strip():
        raise PostError("标题不能为空")
    if len(new.title) > TITLE_MAX:
        raise PostError(f"标题最多 {TITLE_MAX} 个字（现在 {len(new.title)} 个）")
    if not new.body.strip() or ("<" in new.body and not _TAGS.sub("", new.body).strip() and "<img" not in new.body):
        raise PostError("正文不能为空")
    if new.channel not in CHANNELS:
        raise PostError(f"渠道只能是 {' 或 '.join(CHANNELS)}")
    if new.audience != "all" and not (new.audience.startswith("tag:") and new.audience[4:].isdigit()):
        raise PostError("发送对象应为 all 或 tag:<标签编号>")
    if new.send_at.tzinfo is None:
        raise PostError("发送时间缺少时区")
    # Refused now rather than on the day: WeChat and DingTalk reject what they cannot carry.
    problem = (wechat.too_long(new.digest, new.body) if new.channel == "wechat"
               else dingtalk.too_long(new.title, new.body))
    if problem:
        raise PostError(problem)


async def _serialise(s: AsyncSession) -> None:
    if s.get_bind().dialect.name == "postgresql":
        await s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_QUOTA_LOCK})


async def add_post(sessions: async_sessionmaker[AsyncSession], new: NewPost, *, account_type: str,
                   now: datetime | None = None, enforce_quota: bool = True) -> Post:
    """Queue a post (state ``scheduled``, or ``draft``); refuses past times and quota overruns.

    ``enforce_quota=False`` is for tests and benchmarks that need many sends against the sandbox."""
    validate(new)
    now = now or utcnow()
    if not new.draft and new.send_at < now:
        raise PostError("发送时间已过，请选择将来的时间")
    async with sessions() as s, s.begin():
        await _serialise(s)
        if new.channel == "wechat" and not new.draft and enforce_quota:
            await check_quota(s, account_type, new.send_at)
        post = Post(
            # Fixed now, reused by every attempt: WeChat's clientmsgid (≤ 64 bytes).
            idem_key=f"pufa-{uuid.uuid4().hex}",
            title=new.title.strip(), digest=new.digest, body=new.body, cover_url=new.cover_url,
            cover_file=new.cover_file,
            channel=new.channel, audience=new.audience, campaign=new.campaign,
            send_at=new.send_at, due_at=new.send_at, state=DRAFT if new.draft else SCHEDULED,
            created_at=now, updated_at=now,
        )
        s.add(post)
    return post


async def schedule_draft(sessions: async_sessionmaker[AsyncSession], post_id: int, *, account_type: str,
                         send_at: datetime | None = None, now: datetime | None = None) -> Post:
    async with sessions() as s, s.begin():
        await _serialise(s)
        post = await s.get(Post, post_id)
        if post is None:
            raise PostError(f"没有编号为 {post_id} 的推送")
        if post.state != DRAFT:
            raise PostError(f"推送 #{post_id} 当前状态为 {post.state}，只有草稿可以安排发送")
        when = send_at or post.send_at
        if when < (now or utcnow()):
            raise PostError("发送时间已过，请选一个将来的时间")
        if post.channel == "wechat":
            await check_quota(s, account_type, when, exclude=post.id)
        post.send_at = post.due_at = when
        post.state = SCHEDULED
        post.updated_at = utcnow()
    return post


async def edit_post(sessions: async_sessionmaker[AsyncSession], post_id: int, *, account_type: str,
                    title: str | None = None, body: str | None = None, digest: str | None = None,
                    send_at: datetime | None = None, now: datetime | None = None) -> Post:
    """Change a draft or scheduled post. The idempotency key stays: nothing was sent under it yet."""
    async with sessions() as s, s.begin():
        await _serialise(s)
        post = (await s.execute(select(Post).where(Post.id == post_id).with_for_update())).scalar_one_or_none()
        if post is None:
            raise PostError(f"没有编号为 {post_id} 的推送")
        if post.state not in (DRAFT, SCHEDULED) or post.attempts:
            raise PostError(f"推送 #{post_id} 当前状态为 {post.state}，不能修改")
        changed = NewPost(title=title if title is not None else post.title,
                          body=body if body is not None else post.body, channel=post.channel,
                          send_at=send_at or post.send_at, digest=digest if digest is not None else post.digest,
                          audience=post.audience)
        validate(changed)
        if send_at is not None:
            if send_at < (now or utcnow()):
                raise PostError("发送时间已过，请选择将来的时间")
            if post.channel == "wechat" and post.state == SCHEDULED:
                await check_quota(s, account_type, send_at, exclude=post.id)
            post.send_at = post.due_at = send_at
        post.title, post.body, post.digest = changed.title.strip(), changed.body, changed.digest
        # A stored draft media_id holds the old text.
        post.media_id = None
        post.updated_at = utcnow()
    return post


async def cancel_post(sessions: async_sessionmaker[AsyncSession], post_id: int) -> Post:
    """Cancel a draft or scheduled post. A post already sending cannot be called back."""
    async with sessions() as s, s.begin():
        res = await s.execute(update(Post).where(Post.id == post_id, Post.state.in_((DRAFT, SCHEDULED)))
                              .values(state=CANCELLED, updated_at=utcnow())
                              .execution_options(synchronize_session=False))
        post = await s.get(Post, post_id)
        if post is None:
            raise PostError(f"没有编号为 {post_id} 的推送")
        if res.rowcount != 1:  # type: ignore[attr-defined]
            raise PostError(f"推送 #{post_id} 当前状态为 {post.state}，不能取消")
    return post


async def list_posts(sessions: async_sessionmaker[AsyncSession], state: str | None = None) -> list[Post]:
    async with sessions() as s:
        q = select(Post).order_by(Post.send_at, Post.id)
        if state:
            q = q.where(Post.state == state)
        return list((await s.execute(q)).scalars())


async def get_post(sessions: async_sessionmaker[AsyncSession], post_id: int) -> Post | None:
    async with sessions() as s:
        return await s.get(Post, post_id)


async def attempts_of(sessions: async_sessionmaker[AsyncSession], post_id: int) -> list[PushAttempt]:
    async with sessions() as s:
        q = select(PushAttempt).where(PushAttempt.post_id == post_id).order_by(PushAttempt.id)
        return list((await s.execute(q)).scalars())


async def month_log(sessions: async_sessionmaker[AsyncSession], year: int, month: int
                    ) -> list[tuple[PushAttempt, Post]]:
    start, end = local_month_bounds(year, month)
    async with sessions() as s:
        q = (select(PushAttempt, Post).join(Post, Post.id == PushAttempt.post_id)
             .where(PushAttempt.started_at >= start, PushAttempt.started_at < end)
             .order_by(PushAttempt.started_at, PushAttempt.id))
        return [(a, p) for a, p in (await s.execute(q)).all()]


async def open_alerts(sessions: async_sessionmaker[AsyncSession]) -> list[StaffAlert]:
    async with sessions() as s:
        q = select(StaffAlert).where(StaffAlert.acknowledged_at.is_(None)).order_by(StaffAlert.id)
        return list((await s.execute(q)).scalars())


async def store_thumb(sessions: async_sessionmaker[AsyncSession], post: Post) -> None:
    """Keep the cover's material id a preview uploaded, unless the cover changed meanwhile."""
    if not post.thumb_media_id or not post.cover_file:
        return
    async with sessions() as s, s.begin():
        await s.execute(update(Post).where(Post.id == post.id, Post.cover_file == post.cover_file,
                                           Post.thumb_media_id.is_(None))
                        .values(thumb_media_id=post.thumb_media_id).execution_options(synchronize_session=False))
