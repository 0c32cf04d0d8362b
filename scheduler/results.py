"""Final results of a mass send: the MASSSENDJOBFINISH event (pushed to the webhook) and, when it
does not come, ``message/mass/get``. Both only fill in counts; neither changes whether a post was sent."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.base import utcnow
from bot.wechat.client import WechatApiError, WechatClient, WechatTransportError
from scheduler.models import SENT, Post, PushAttempt

log = logging.getLogger("pufa.scheduler.results")


def _int(fields: dict[str, Any], key: str) -> int | None:
    try:
        return int(fields[key])
    except (KeyError, TypeError, ValueError):
        return None


class MassResults:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Callable[[], datetime] = utcnow) -> None:
        self.sessions = sessions
        self.clock = clock

    async def on_event(self, fields: dict[str, Any]) -> None:
        """The hook for ``AppServices.mass_result_hooks``: idempotent (WeChat may repeat events)."""
        msg_id = _int(fields, "MsgID") or _int(fields, "MsgId")
        if msg_id is None:
            return
        counts = {k: _int(fields, f) for k, f in (("total_count", "TotalCount"), ("filter_count", "FilterCount"),
                                                  ("sent_count", "SentCount"), ("error_count", "ErrorCount"))}
        status = str(fields.get("Status", ""))[:64]
        async with self.sessions() as s, s.begin():
            res = await s.execute(update(Post).where(Post.msg_id == msg_id)
                                  .values(result_status=status, updated_at=self.clock(), **counts)
                                  .execution_options(synchronize_session=False))
            await s.execute(update(PushAttempt)
                            .where(PushAttempt.msg_id == msg_id, PushAttempt.outcome.in_(("sent", "already_sent")))
                            .values(total_count=counts["total_count"], sent_count=counts["sent_count"],
                                    error_count=counts["error_count"])
                            .execution_options(synchronize_session=False))
        if not res.rowcount:  # type: ignore[attr-defined]
            log.info("MASSSENDJOBFINISH for unknown msg_id (sent outside pufa?)")

    async def reconcile(self, client: WechatClient, *, after: float, limit: int = 10) -> int:
        """Ask ``message/mass/get`` about sends whose event has not arrived ``after`` seconds on."""
        now = self.clock()
        async with self.sessions() as s:
            posts = (await s.execute(
                select(Post.id, Post.msg_id).where(
                    Post.state == SENT, Post.channel == "wechat", Post.result_status.is_(None),
                    Post.msg_id.is_not(None), Post.sent_at < now - timedelta(seconds=after),
                    Post.sent_at > now - timedelta(days=3),
                ).limit(limit)
            )).all()
        done = 0
        for post_id, msg_id in posts:
            assert msg_id is not None
            try:
                data = await client.mass_get(int(msg_id))
            except (WechatApiError, WechatTransportError) as exc:
                log.info("mass/get for post %s failed: %s", post_id, exc)
                continue
            async with self.sessions() as s, s.begin():
                await s.execute(update(Post).where(Post.id == post_id, Post.result_status.is_(None))
                                .values(result_status=str(data.get("msg_status", ""))[:64], updated_at=now)
                                .execution_options(synchronize_session=False))
            done += 1
        return done
