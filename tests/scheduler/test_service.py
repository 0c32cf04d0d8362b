"""The APScheduler-driven service: wakes the sender at the due time, one leader per database, and
Beijing time regardless of the host's timezone."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.config import SchedulerSettings
from bot.db.base import utcnow
from scheduler.channels.wechat import WechatChannel
from scheduler.models import SENT
from scheduler.posts import NewPost, add_post, get_post
from scheduler.sender import Sender
from scheduler.service import SchedulerService
from scheduler.timeutil import SHANGHAI, parse_local

from .conftest import Sandbox

HANG_GUARD = 20.0


@pytest.fixture
def utc_host(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize("tz", ["UTC", "America/New_York", "Asia/Shanghai"])
def test_beijing_time_whatever_the_host(tz: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", tz)
    time.tzset()
    try:
        assert parse_local("2026-12-04 08:30") == datetime(2026, 12, 4, 0, 30, tzinfo=UTC)
    finally:
        monkeypatch.undo()
        time.tzset()


@pytest.fixture
def real_sandbox_clock(sandbox: Sandbox) -> Sandbox:
    sandbox.platform.clock = time.time
    return sandbox


async def _wait(sessions, post_id: int) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + HANG_GUARD
    while loop.time() < deadline:
        got = await get_post(sessions, post_id)
        if got is not None and got.state == SENT:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("not sent")


async def test_service_sends_due_post_on_utc_host(utc_host, engine, sessions, real_sandbox_clock: Sandbox) -> None:
    settings = replace(SchedulerSettings(), tick_seconds=1.0)
    sender = Sender(sessions, settings, {"wechat": WechatChannel(real_sandbox_clock.client)})
    service = SchedulerService(engine, sessions, settings, sender)
    await service.start()
    try:
        assert service._scheduler is not None and str(service._scheduler.timezone) == str(SHANGHAI)
        post = await add_post(sessions, NewPost(title="t", body="b", channel="wechat",
                                                send_at=utcnow() + timedelta(seconds=1.5)),
                              account_type="service")
        await _wait(sessions, post.id)
    finally:
        await service.stop()
    got = await get_post(sessions, post.id)
    assert got is not None and got.sent_at is not None and got.sent_at >= post.send_at


async def test_one_leader_per_database(engine, sessions, real_sandbox_clock: Sandbox) -> None:
    settings = replace(SchedulerSettings(), tick_seconds=3600.0)
    services = [SchedulerService(engine, sessions, settings,
                                 Sender(sessions, settings, {"wechat": WechatChannel(real_sandbox_clock.client)}))
                for _ in range(3)]
    try:
        for s in services:
            await s.tick()
        assert [s.is_leader for s in services] == [True, False, False]
        await services[0].stop()  # releases the lock
        for s in services[1:]:
            await s.tick()
        assert [s.is_leader for s in services[1:]] == [True, False]
    finally:
        for s in services:
            await s.stop()


async def test_date_job_wakes_for_each_due_post_without_periodic_tick(engine, sessions,
                                                                      real_sandbox_clock: Sandbox) -> None:
    """With the periodic tick out of the way (1 h), only the date jobs can send: each wake-up scheduled
    from inside a running wake-up must survive (APScheduler skips a job id that is still running)."""
    settings = replace(SchedulerSettings(), tick_seconds=3600.0)
    sender = Sender(sessions, settings, {"wechat": WechatChannel(real_sandbox_clock.client)})
    service = SchedulerService(engine, sessions, settings, sender)
    start = utcnow() + timedelta(seconds=1.5)
    posts = [await add_post(sessions, NewPost(title=f"t{i}", body="b", channel="wechat",
                                              send_at=start + timedelta(milliseconds=150 * i)),
                            account_type="service", enforce_quota=False) for i in range(6)]
    await service.start()
    try:
        for p in posts:
            await _wait(sessions, p.id)
    finally:
        await service.stop()


async def test_a_pass_cut_short_by_shutdown_ends_quietly(engine, sessions, real_sandbox_clock: Sandbox,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    settings = replace(SchedulerSettings(), tick_seconds=3600.0)
    service = SchedulerService(engine, sessions, settings,
                               Sender(sessions, settings, {"wechat": WechatChannel(real_sandbox_clock.client)}))
    started, never = asyncio.Event(), asyncio.Event()

    async def daily() -> None:  # the first pass after a start, still drafting when the signal comes
        started.set()
        await never.wait()

    service.daily = daily
    task = asyncio.create_task(service.scheduled_tick())  # as APScheduler runs it
    await asyncio.wait_for(started.wait(), HANG_GUARD)
    task.cancel()
    with caplog.at_level("INFO"):
        assert await task is None  # ended, not an exception APScheduler would log with a traceback
    assert "interrupted by shutdown" in caplog.text
    assert not service._lock.locked()
    await service.stop()
