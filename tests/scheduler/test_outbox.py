"""Staff alerts to the DingTalk group: each alert queued in its own transaction, sent once, paced
together with DingTalk posts, never resent after an unknown outcome."""

from __future__ import annotations

from datetime import timedelta

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import select

from scheduler.alerts import add_alert
from scheduler.models import (
    OUTBOX_EXPIRED,
    OUTBOX_PENDING,
    OUTBOX_SENDING,
    OUTBOX_SENT,
    OUTBOX_UNKNOWN,
    DingtalkNotice,
    Post,
    PushAttempt,
    StaffAlert,
)
from scheduler.outbox import Outbox

from .conftest import FakeClock, Robot


async def _alerts(sessions, clock: FakeClock, n: int) -> None:
    async with sessions() as s, s.begin():
        for i in range(n):
            await add_alert(s, kind="failed", message=f"推送 #{i} 失败", now=clock())


async def _notices(sessions) -> list[DingtalkNotice]:
    async with sessions() as s:
        return list((await s.execute(select(DingtalkNotice).order_by(DingtalkNotice.id))).scalars().all())


async def test_alert_is_sent_to_the_group_once(sessions, robot: Robot, clock: FakeClock) -> None:
    await _alerts(sessions, clock, 1)
    outbox = Outbox(sessions, robot.channel(clock), clock=clock)
    assert await outbox.run() == 1
    assert await outbox.run() == 0
    # A restart (a new outbox, a new leader recovering) sends nothing more.
    restarted = Outbox(sessions, robot.channel(clock), clock=clock)
    assert await restarted.recover() == 0
    assert await restarted.run() == 0
    assert [(r.channel, r.title) for r in robot.robot.sent] == [("dingtalk", "普法助手提醒")]
    assert "推送 #0 失败" in robot.robot.sent[0].content
    [notice] = await _notices(sessions)
    async with sessions() as s:
        [alert] = (await s.execute(select(StaffAlert))).scalars().all()
    assert (notice.state, notice.alert_id, notice.attempts) == (OUTBOX_SENT, alert.id, 1)


async def test_alert_rolled_back_is_not_queued(sessions, clock: FakeClock) -> None:
    with pytest.raises(RuntimeError):
        async with sessions() as s, s.begin():
            await add_alert(s, kind="failed", message="x", now=clock())
            raise RuntimeError("the state change failed")
    assert await _notices(sessions) == []


async def test_unknown_outcome_is_never_resent(sessions, robot: Robot, clock: FakeClock) -> None:
    """A timeout (the robot may have posted it) and an attempt cut short by a crash both end as
    ``unknown``; neither is sent again."""
    await _alerts(sessions, clock, 2)
    # Simulate a crash mid-call for the second notice: claimed (sending), never finished.
    notices = await _notices(sessions)
    async with sessions() as s, s.begin():
        row = await s.get(DingtalkNotice, notices[1].id)
        assert row is not None
        row.state, row.attempts, row.attempted_at = OUTBOX_SENDING, 1, clock()
    # The first gets no answer in time: a server that accepts and never replies.
    async def hang(request: aiohttp.web.Request) -> aiohttp.web.Response:
        import asyncio

        await asyncio.sleep(30)
        return aiohttp.web.json_response({"errcode": 0})

    app = aiohttp.web.Application()
    app.router.add_post("/robot/send", hang)
    slow = TestServer(app)
    await slow.start_server()
    try:
        outbox = Outbox(sessions, robot.channel(clock, str(slow.make_url("/robot/send")) + "?access_token=tok",
                                                timeout=0.3), clock=clock)
        assert await outbox.recover() == 1  # the crashed one
        assert await outbox.run() == 0
    finally:
        await slow.close()
    states = [(n.state, n.attempts) for n in await _notices(sessions)]
    assert states == [(OUTBOX_UNKNOWN, 1), (OUTBOX_UNKNOWN, 1)]
    clock.advance(3600)
    assert await Outbox(sessions, robot.channel(clock), clock=clock).run() == 0
    assert robot.robot.sent == []


async def test_connection_refused_is_retried_later(sessions, robot: Robot, clock: FakeClock) -> None:
    await _alerts(sessions, clock, 1)
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}/robot/send?access_token=tok"
    assert await Outbox(sessions, robot.channel(clock, dead), clock=clock).run() == 0
    [n] = await _notices(sessions)
    assert (n.state, n.attempts) == (OUTBOX_PENDING, 1)
    outbox = Outbox(sessions, robot.channel(clock), clock=clock)
    assert await outbox.run() == 0  # not before the retry time
    clock.advance(61)
    assert await outbox.run() == 1
    assert len(robot.robot.sent) == 1


async def test_notices_share_the_20_per_minute_budget_with_posts(sessions, robot: Robot, clock: FakeClock) -> None:
    # 18 DingTalk post attempts in the last minute leave room for 2 notices.
    async with sessions() as s, s.begin():
        at = clock()
        post = Post(idem_key="k", title="t", body="b", channel="dingtalk", send_at=at, due_at=at, state="sent")
        s.add(post)
        await s.flush()
        for i in range(18):
            s.add(PushAttempt(post_id=post.id, channel="dingtalk", attempt=i + 1,
                              started_at=at - timedelta(seconds=30), finished_at=at, outcome="sent"))
    await _alerts(sessions, clock, 5)
    outbox = Outbox(sessions, robot.channel(clock), clock=clock)
    assert await outbox.run() == 2
    clock.advance(31)  # the 18 post calls leave the window; the 2 notices are still in it
    assert await outbox.run() == 3
    assert robot.robot.rejected == []
    assert [n.state for n in await _notices(sessions)] == [OUTBOX_SENT] * 5


async def test_sender_counts_notices_against_dingtalk_posts(sessions, robot: Robot, clock: FakeClock) -> None:
    from bot.config import SchedulerSettings
    from scheduler.posts import NewPost, add_post
    from scheduler.sender import Sender

    await _alerts(sessions, clock, 20)
    await Outbox(sessions, robot.channel(clock), clock=clock).run()
    await add_post(sessions, NewPost(title="钉钉", body="b", channel="dingtalk", send_at=clock()),
                   account_type="service", now=clock())
    sender = Sender(sessions, SchedulerSettings(), {"dingtalk": robot.channel(clock)}, clock=clock)
    stats = await sender.run_due()
    assert stats.sent == 0  # the minute is full of notices: the post waits
    assert stats.wake_at is not None and stats.wake_at > clock()
    clock.advance(61)
    assert (await sender.run_due()).sent == 1
    assert len(robot.robot.sent) == 21 and robot.robot.rejected == []


async def test_old_notices_expire_instead_of_flooding(sessions, robot: Robot, clock: FakeClock) -> None:
    await _alerts(sessions, clock, 1)
    clock.advance(25 * 3600)  # e.g. no robot was configured when it was raised
    await _alerts(sessions, clock, 1)
    assert await Outbox(sessions, robot.channel(clock), clock=clock).run() == 1
    assert [n.state for n in await _notices(sessions)] == [OUTBOX_EXPIRED, OUTBOX_SENT]


async def test_no_robot_configured_sends_nothing(sessions, clock: FakeClock) -> None:
    await _alerts(sessions, clock, 1)
    assert await Outbox(sessions, None, clock=clock).run() == 0
    assert [n.state for n in await _notices(sessions)] == [OUTBOX_PENDING]
