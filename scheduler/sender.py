"""The sender: claim a due post durably, commit, then call the channel; record every attempt.

Exactly once rests on three things: (1) the claim is committed before any network I/O (a crash
after it leaves a ``sending`` row with a ``pending`` log entry, never a silent loss); (2) every try
of a post uses the ``clientmsgid`` fixed at creation, so WeChat answers a repeat with 45065 and the
earlier msg_id; (3) nothing is resent automatically past the retry window (24 h, WeChat's memory).

PostgreSQL claims with ``FOR UPDATE SKIP LOCKED``; SQLite runs every transaction as ``BEGIN
IMMEDIATE`` (bot/db/session.py), and both then do a conditional UPDATE whose rowcount must be 1.
Only the leader runs a sender (scheduler/leader.py); the conditional claim is the second fence.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import SchedulerSettings
from bot.db.base import utcnow
from scheduler.alerts import add_alert
from scheduler.channels import Channel, ChannelResult
from scheduler.models import (
    FAILED,
    NEEDS_ATTENTION,
    SCHEDULED,
    SENDING,
    SENT,
    Post,
    PushAttempt,
)
from scheduler.outbox import dingtalk_call_times
from scheduler.policy import Action, Rule, backoff
from scheduler.timeutil import fmt_local
from scheduler.trace import trace

log = logging.getLogger("pufa.scheduler.sender")

Clock = Callable[[], datetime]


@dataclass
class Claim:
    post: Post
    attempt_id: int
    attempt_no: int


@dataclass
class RunStats:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    stopped: int = 0
    deferred: int = 0  # DingTalk posts held back by pacing
    wake_at: datetime | None = None
    sent_ids: list[int] = field(default_factory=list)


def _claimable(now: datetime) -> Any:
    return or_(
        and_(Post.state == SCHEDULED, Post.due_at <= now),
        # Orphaned by a sender that died (or lost leadership) mid-send: same key, so safe to redo.
        and_(Post.state == SENDING, Post.lease_until < now),
    )


class Sender:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: SchedulerSettings,
        channels: dict[str, Channel],
        *,
        clock: Clock = utcnow,
        dingtalk_per_minute: int = 20,
    ) -> None:
        # Set by the service: renews leadership during a long pass; False stops the pass.
        self.still_leader: Callable[[], Awaitable[bool]] | None = None
        self.sessions = sessions
        self.settings = settings
        self.channels = channels
        self.clock = clock
        self.dingtalk_per_minute = dingtalk_per_minute

    # -- leadership hand-over ----------------------------------------------------------------------
    async def recover(self) -> int:
        """On becoming leader: the previous leader is gone, so its in-flight claims are orphans.
        Make them re-claimable now instead of after their lease (the retry keeps the same key)."""
        now = self.clock()
        async with self.sessions() as s, s.begin():
            result = await s.execute(
                update(Post).where(Post.state == SENDING).values(lease_until=now - timedelta(seconds=1))
            )
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

    # -- the main pass -------------------------------------------------------------------------
    async def run_due(self, limit: int = 100) -> RunStats:
        """Send every post that is due now; return what happened and when to wake next."""
        stats = RunStats()
        paced = False  # DingTalk posts were held back: they are due, but wake at the pacing time
        while True:
            now = self.clock()
            # A full DingTalk minute must not hide due WeChat posts behind a page of DingTalk ones.
            dingtalk_open = await self._dingtalk_slot(now, stats)
            paced = paced or not dingtalk_open
            ids = await self._due(now, limit, exclude_channel=None if dingtalk_open else "dingtalk")
            if not ids:
                break
            progressed = False
            for post_id, channel in ids:
                if self.still_leader is not None and not await self.still_leader():
                    log.warning("lost leadership during a send pass; stopping it")
                    return stats
                if channel == "dingtalk" and not await self._dingtalk_slot(now, stats):
                    stats.deferred += 1
                    paced = True
                    continue
                claim = await self.claim(post_id)
                if claim is None:
                    continue
                progressed = True
                stats.claimed += 1
                await self.deliver(claim, stats)
            if not progressed:
                break
        stats.wake_at = _earliest(stats.wake_at, await self.next_due(exclude_channel="dingtalk" if paced else None))
        return stats

    async def _due(self, now: datetime, limit: int, exclude_channel: str | None = None) -> list[tuple[int, str]]:
        q = select(Post.id, Post.channel).where(_claimable(now))
        if exclude_channel:
            q = q.where(Post.channel != exclude_channel)
        async with self.sessions() as s:
            conn = await s.connection(execution_options={"pufa_readonly": True})
            rows = await conn.execute(q.order_by(Post.due_at).limit(limit))
            return [(int(r[0]), str(r[1])) for r in rows]

    async def next_due(self, exclude_channel: str | None = None) -> datetime | None:
        async with self.sessions() as s:
            conn = await s.connection(execution_options={"pufa_readonly": True})
            q = select(func.min(Post.due_at)).where(Post.state == SCHEDULED)
            if exclude_channel:
                q = q.where(Post.channel != exclude_channel)
            a = (await conn.execute(q)).scalar()
            b = (await conn.execute(select(func.min(Post.lease_until)).where(Post.state == SENDING))).scalar()
        return _earliest(_aware(a), _aware(b))

    async def _dingtalk_slot(self, now: datetime, stats: RunStats) -> bool:
        """At most ``per_minute`` DingTalk calls in any 60 s, counted from the push log and the notice
        outbox (durable, so a restart does not forget the sends of the last minute)."""
        since = now - timedelta(seconds=60)
        async with self.sessions() as s:
            conn = await s.connection(execution_options={"pufa_readonly": True})
            # Staff notices (scheduler/outbox.py) share the robot's budget with posts.
            rows = await dingtalk_call_times(conn, since)
        if len(rows) < self.dingtalk_per_minute:
            return True
        oldest = _aware(rows[len(rows) - self.dingtalk_per_minute])
        assert oldest is not None
        stats.wake_at = _earliest(stats.wake_at, oldest + timedelta(seconds=60.5))
        return False

    # -- claim ---------------------------------------------------------------------------------
    async def claim(self, post_id: int) -> Claim | None:
        """Durably take one post, or decide it must not be sent automatically. Commits before any
        network I/O."""
        now = self.clock()
        async with self.sessions() as s, s.begin():
            post = (await s.execute(
                select(Post).where(Post.id == post_id, _claimable(now)).with_for_update(skip_locked=True)
            )).scalar_one_or_none()
            if post is None:
                return None
            interrupted = await self._close_interrupted(s, post, now)
            stop = self._stop_reason(post, now, interrupted)
            if stop is not None:
                await self._stop(s, post, now, stop)
                await trace("stopped", post.id)
                return None
            attempt_no = post.attempts + 1
            # The conditional UPDATE is the fence on SQLite (which ignores FOR UPDATE): it matches
            # only while the post is still claimable, under the BEGIN IMMEDIATE write lock.
            res = await s.execute(
                update(Post).where(Post.id == post_id, Post.attempts == post.attempts, _claimable(now))
                .values(state=SENDING, attempts=attempt_no,
                        lease_until=now + timedelta(seconds=self.settings.claim_lease_seconds),
                        updated_at=now)
                .execution_options(synchronize_session=False)
            )
            if res.rowcount != 1:  # type: ignore[attr-defined]
                return None
            entry = PushAttempt(post_id=post_id, channel=post.channel, attempt=attempt_no, started_at=now)
            s.add(entry)
            await s.flush()
            await trace("before_claim_commit", post_id)
        await trace("claimed", post_id)
        post.state, post.attempts = SENDING, attempt_no
        return Claim(post, int(entry.id), attempt_no)

    async def _close_interrupted(self, s: AsyncSession, post: Post, now: datetime) -> bool:
        res = await s.execute(
            update(PushAttempt).where(PushAttempt.post_id == post.id, PushAttempt.outcome == "pending")
            .values(outcome="interrupted", finished_at=now, error="发送进程中断（崩溃或重启），结果未知")
            .execution_options(synchronize_session=False)
        )
        return bool(res.rowcount)  # type: ignore[attr-defined]

    def _stop_reason(self, post: Post, now: datetime, interrupted: bool) -> tuple[str, str] | None:
        channel = self.channels.get(post.channel)
        if channel is None:
            return "failed", f"渠道 {post.channel} 未配置"
        late = (now - post.send_at).total_seconds()
        if late > self.settings.retry_window_seconds:
            return ("needs_attention",
                    f"已超过发送时间 {late / 3600:.1f} 小时（超出 {self.settings.retry_window_seconds / 3600:g} "
                    "小时重试期），为避免重复群发，不再自动发送，请人工核对后决定")
        if post.attempts == 0 and late > self.settings.grace_seconds:
            return ("missed",
                    f"服务停机期间错过发送时间 {fmt_local(post.send_at)}（晚了 {late / 3600:.1f} 小时，"
                    f"超过 {self.settings.grace_seconds / 3600:g} 小时宽限期），未自动补发，请人工决定")
        if interrupted and not channel.idempotent:
            return ("needs_attention", "上次发送中断，钉钉无法去重，是否已送达未知，请到群里核对后决定")
        return None

    async def _stop(self, s: AsyncSession, post: Post, now: datetime, reason: tuple[str, str]) -> None:
        outcome, message = reason
        state = FAILED if outcome == "failed" else NEEDS_ATTENTION
        await s.execute(
            update(Post).where(Post.id == post.id)
            .values(state=state, lease_until=None, last_error=message, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        s.add(PushAttempt(post_id=post.id, channel=post.channel, attempt=post.attempts, started_at=now,
                          finished_at=now, outcome=outcome, error=message))
        await add_alert(s, kind=outcome, post_id=post.id, message=f"推送 #{post.id}《{post.title}》：{message}",
                        now=now)
        log.warning("post %s stopped: %s", post.id, outcome)

    # -- deliver -------------------------------------------------------------------------------
    async def deliver(self, claim: Claim, stats: RunStats) -> None:
        post = claim.post
        channel = self.channels[post.channel]

        async def remember_media(media_id: str | None, *, thumb_media_id: str | None = None) -> None:
            values = {k: v for k, v in (("media_id", media_id), ("thumb_media_id", thumb_media_id)) if v}
            async with self.sessions() as s, s.begin():
                await s.execute(update(Post).where(Post.id == post.id, Post.attempts == claim.attempt_no)
                                .values(**values).execution_options(synchronize_session=False))
            post.media_id = media_id or post.media_id
            post.thumb_media_id = thumb_media_id or post.thumb_media_id

        await trace("http_start", post.id)
        result = await channel.send(post, remember_media)
        await self.finish(claim, result, channel.rule(result), stats)

    async def finish(self, claim: Claim, result: ChannelResult, rule: Rule, stats: RunStats) -> None:
        post = claim.post
        now = self.clock()
        ours = (Post.id == post.id, Post.state == SENDING, Post.attempts == claim.attempt_no)
        values: dict[str, Any] = {"lease_until": None, "updated_at": now, "last_error_code": result.errcode or None}
        log_values: dict[str, Any] = {"finished_at": now, "error_code": result.errcode or None,
                                      "error": None if result.errcode == 0 else (rule.note or result.errmsg)}
        alert: str | None = None
        if rule.action in (Action.SENT, Action.ALREADY_SENT):
            values.update(state=SENT, sent_at=now, last_error=None)
            if result.msg_id is not None:
                values["msg_id"] = result.msg_id
            if result.msg_data_id is not None:
                values["msg_data_id"] = result.msg_data_id
            log_values.update(outcome=rule.action.value, msg_id=result.msg_id)
            stats.sent += 1
            stats.sent_ids.append(post.id)
        elif rule.action is Action.RETRY:
            wait = max(rule.wait, backoff(claim.attempt_no, minimum=self.settings.min_backoff_seconds,
                                          maximum=self.settings.max_backoff_seconds))
            next_try = now + timedelta(seconds=wait)
            if (next_try - post.send_at).total_seconds() > self.settings.retry_window_seconds:
                values.update(state=NEEDS_ATTENTION, last_error=f"{rule.note}；重试期已满，未再自动发送")
                log_values["outcome"] = "needs_attention"
                alert = (f"推送 #{post.id}《{post.title}》重试 {claim.attempt_no} 次仍失败（{result.errcode}），"
                         "需人工处理")
                stats.stopped += 1
            else:
                values.update(state=SCHEDULED, due_at=next_try, last_error=rule.note or result.errmsg)
                log_values["outcome"] = "retry"
                stats.retried += 1
                stats.wake_at = _earliest(stats.wake_at, next_try)
        else:
            state = NEEDS_ATTENTION if rule.action is Action.NEEDS_ATTENTION else FAILED
            values.update(state=state, last_error=rule.note or result.errmsg)
            log_values["outcome"] = state if rule.action is not Action.RECORD else "failed"
            stats.stopped += 1
            if rule.alert:
                alert = f"推送 #{post.id}《{post.title}》失败（错误码 {result.errcode}：{rule.note}）"
        await trace("finish", post.id)
        async with self.sessions() as s, s.begin():
            res = await s.execute(update(Post).where(*ours).values(**values)
                                  .execution_options(synchronize_session=False))
            if res.rowcount != 1:  # type: ignore[attr-defined]
                # Someone re-claimed it (our lease ran out): their attempt decides; log ours anyway.
                log_values["error"] = (log_values["error"] or "") + "（本次结果已被新的尝试取代）"
            await s.execute(update(PushAttempt).where(PushAttempt.id == claim.attempt_id).values(**log_values)
                            .execution_options(synchronize_session=False))
            if alert:
                await add_alert(s, kind=log_values["outcome"], post_id=post.id, message=alert, now=now)
        await trace("stored", post.id)
        log.info("post %s attempt %s: %s (%s)", post.id, claim.attempt_no, log_values["outcome"], result.errcode)


def _aware(dt: datetime | None) -> datetime | None:
    from datetime import UTC

    if dt is None:
        return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)
