"""DingTalk: signed webhook checked by the sandbox robot, pacing under 20 a minute (also across a
restart), and no blind resend after an interrupted attempt."""

from __future__ import annotations

import base64
import hashlib
import hmac
import urllib.parse
from datetime import timedelta

import aiohttp
import pytest

from bot.config import SchedulerSettings
from scheduler.channels.dingtalk import DingtalkChannel, sign, signed_url
from scheduler.models import NEEDS_ATTENTION, SCHEDULED, SENT
from scheduler.posts import NewPost, PostError, add_post, attempts_of, get_post, list_posts
from scheduler.sender import Sender

from .conftest import ROBOT_SECRET as SECRET
from .conftest import FakeClock, Robot


def test_sign_matches_dingtalk_formula() -> None:
    ts = 1700000000000
    expected = base64.b64encode(hmac.new(SECRET.encode(), f"{ts}\n{SECRET}".encode(), hashlib.sha256).digest())
    assert urllib.parse.unquote_plus(sign(SECRET, ts)) == expected.decode()
    url = signed_url("https://oapi.dingtalk.com/robot/send?access_token=abc", SECRET, ts)
    assert url.startswith("https://oapi.dingtalk.com/robot/send?access_token=abc&timestamp=1700000000000&sign=")




async def _queue(sessions, clock: FakeClock, n: int) -> None:
    for i in range(n):
        await add_post(sessions, NewPost(title=f"钉钉 {i}", body=f"**第 {i} 条**", channel="dingtalk",
                                         send_at=clock() + timedelta(minutes=1)), account_type="service", now=clock())
    clock.advance(60)


async def test_signature_checked_by_robot(sessions, robot: Robot, clock: FakeClock) -> None:
    await _queue(sessions, clock, 1)
    bad = Sender(sessions, SchedulerSettings(), {"dingtalk": robot.channel(clock, secret="wrong")}, clock=clock)
    await bad.run_due()
    [post] = await list_posts(sessions)
    assert post.state == "failed" and robot.robot.sent == []
    assert robot.robot.rejected[-1]["errcode"] == 310000
    await _queue(sessions, clock, 1)
    good = Sender(sessions, SchedulerSettings(), {"dingtalk": robot.channel(clock)}, clock=clock)
    assert (await good.run_due()).sent == 1
    [rec] = robot.robot.sent
    assert rec.channel == "dingtalk" and rec.title == "钉钉 0"


async def test_stale_timestamp_refused(robot: Robot, clock: FakeClock) -> None:
    old = int((clock.timestamp() - 3700) * 1000)
    async with robot.http.post(signed_url(robot.url(), SECRET, old), json={"msgtype": "text",
                                                                           "text": {"content": "x"}}) as r:
        assert (await r.json())["errcode"] == 310000


async def test_pacing_never_exceeds_20_per_minute_even_across_restart(sessions, robot: Robot,
                                                                       clock: FakeClock) -> None:
    await _queue(sessions, clock, 45)
    sender = Sender(sessions, SchedulerSettings(), {"dingtalk": robot.channel(clock)}, clock=clock)
    stats = await sender.run_due()
    assert stats.sent == 20 and stats.deferred > 0 and stats.wake_at is not None
    clock.advance(30)
    # A restarted process (fresh memory) still sees the last minute's sends in the push log.
    restarted = Sender(sessions, SchedulerSettings(), {"dingtalk": robot.channel(clock)}, clock=clock)
    assert (await restarted.run_due()).sent == 0
    for _ in range(10):
        if stats.wake_at is None:
            break
        clock.now = max(clock.now, stats.wake_at)
        stats = await restarted.run_due()
    assert len(robot.robot.sent) == 45
    assert robot.robot.peak_per_minute <= 20
    assert not [r for r in robot.robot.rejected if r["errcode"] == 130101]
    assert all(p.state == SENT for p in await list_posts(sessions))


async def test_robot_blocks_past_20_per_minute(robot: Robot, clock: FakeClock) -> None:
    """The stand-in itself enforces DingTalk's limit (so a pacing bug would show up as 130101)."""
    codes = []
    for _ in range(21):
        async with robot.http.post(signed_url(robot.url(), SECRET, int(clock.timestamp() * 1000)),
                                   json={"msgtype": "text", "text": {"content": "x"}}) as r:
            codes.append((await r.json())["errcode"])
    assert codes[:20] == [0] * 20 and codes[20] == 130101


async def test_interrupted_dingtalk_attempt_is_not_resent(sessions, robot: Robot, clock: FakeClock) -> None:
    await _queue(sessions, clock, 1)
    sender = Sender(sessions, SchedulerSettings(), {"dingtalk": robot.channel(clock)}, clock=clock)
    [post] = await list_posts(sessions)
    assert await sender.claim(post.id) is not None
    # ... the process dies during the HTTP call; the next leader recovers:
    await sender.recover()
    await sender.run_due()
    got = await get_post(sessions, post.id)
    assert got is not None and got.state == NEEDS_ATTENTION and robot.robot.sent == []
    assert [a.outcome for a in await attempts_of(sessions, post.id)] == ["interrupted", "needs_attention"]


async def test_connection_refused_is_retried(sessions, clock: FakeClock) -> None:
    await _queue(sessions, clock, 1)
    async with aiohttp.ClientSession() as http:
        ch = DingtalkChannel(http, "http://127.0.0.1:9/robot/send?access_token=x", SECRET, timeout=2.0)
        await Sender(sessions, SchedulerSettings(), {"dingtalk": ch}, clock=clock).run_due()
    [post] = await list_posts(sessions)
    assert post.state == SCHEDULED and post.due_at - clock() >= timedelta(seconds=60)


async def test_a_long_post_that_fits_arrives_and_one_that_does_not_is_refused_when_saved(
        sessions, robot: Robot, clock: FakeClock) -> None:
    fits = "宪法是国家的根本法。" * 600  # 6,000 汉字: over the limit only if sent as \uXXXX escapes
    await add_post(sessions, NewPost(title="宪法日学习", body=fits, channel="dingtalk",
                                     send_at=clock() + timedelta(minutes=1)), account_type="service", now=clock())
    clock.advance(60)
    sender = Sender(sessions, SchedulerSettings(), {"dingtalk": robot.channel(clock)}, clock=clock)
    assert (await sender.run_due()).sent == 1
    assert fits in robot.robot.sent[-1].content
    with pytest.raises(PostError, match="钉钉消息最多"):
        await add_post(sessions, NewPost(title="太长", body=fits + fits, channel="dingtalk",
                                         send_at=clock() + timedelta(minutes=1)), account_type="service", now=clock())
    assert len(await list_posts(sessions)) == 1  # nothing stored for the refused one
