"""The leader's daily jobs: the monthly report (files + one DingTalk notice, also across a restart)
and the datacube fetch (yesterday after 08:00, catching up missed days ≤ 7 per call)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import select

from bot.config import Settings, load_settings
from reports.models import ReportExport, WechatUserDay
from sandbox.api import _daily_figures, cumulate
from sandbox.dingtalk import DingtalkRobot, create_dingtalk_app
from scheduler.channels.dingtalk import DingtalkChannel
from scheduler.datacube import fetch_user_days, windows
from scheduler.models import JobRun
from scheduler.outbox import Outbox
from scheduler.runtime import build_jobs
from scheduler.sender import Sender
from scheduler.service import SchedulerService

from .conftest import FakeClock, Sandbox

SECRET = "SECjobs0123456789"


def beijing(y: int, m: int, d: int, hh: int, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=UTC) - timedelta(hours=8)


@pytest.fixture
async def robot(clock: FakeClock) -> AsyncIterator[tuple[DingtalkRobot, str, aiohttp.ClientSession]]:
    r = DingtalkRobot("tok", SECRET, [], clock.timestamp)
    server = TestServer(create_dingtalk_app(r))
    await server.start_server()
    async with aiohttp.ClientSession() as http:
        yield r, str(server.make_url("/robot/send")) + "?access_token=tok", http
    await server.close()


@pytest.fixture
def app_settings(database_url: str, tmp_path: Path) -> Settings:
    base = load_settings(None, env={})
    return replace(base, database=replace(base.database, url=database_url),
                   reports=replace(base.reports, output_dir=str(tmp_path / "reports")))


def _service(engine, sessions, settings: Settings, clock: FakeClock, robot, wechat=None) -> SchedulerService:
    _, url, http = robot
    channel = DingtalkChannel(http, url, SECRET, timeout=2.0, clock_ms=lambda: int(clock.timestamp() * 1000))
    sender = Sender(sessions, settings.scheduler, {"dingtalk": channel}, clock=clock)
    service = SchedulerService(engine, sessions, settings.scheduler, sender, clock=clock)
    service.jobs = build_jobs(settings, sessions, wechat, clock=clock)
    service.outbox = Outbox(sessions, channel, clock=clock)
    return service


async def test_monthly_report_on_the_first_once_across_restart(engine, sessions, app_settings: Settings,
                                                               clock: FakeClock, robot) -> None:
    r = robot[0]
    clock.now = beijing(2026, 12, 1, 8, 0)  # before reports.monthly_time (08:30)
    first = _service(engine, sessions, app_settings, clock, robot)
    await first.tick()
    assert first.is_leader and r.sent == []
    assert not (Path(app_settings.reports.output_dir) / "pufa-report-2026-11.xlsx").exists()

    clock.advance(31 * 60)
    await first.tick()
    out = Path(app_settings.reports.output_dir)
    assert sorted(p.name for p in out.iterdir()) == sorted(
        f"pufa-report-2026-11.{f}" for f in ("xlsx", "docx", "png", "json"))
    assert len(r.sent) == 1 and r.sent[0].title == "普法助手月报"
    assert "2026年11月统计：推送法律知识0条" in r.sent[0].content
    await first.tick()  # same day, same process
    await first.stop()

    # A restart on the 1st: a new service (its in-memory "done today" is gone) must not notify again.
    clock.advance(60)
    second = _service(engine, sessions, app_settings, clock, robot)
    await second.tick()
    await second.stop()
    assert len(r.sent) == 1
    async with sessions() as s:
        runs = (await s.execute(select(JobRun.job, JobRun.run_key))).all()
        exports = (await s.execute(select(ReportExport.format))).scalars().all()
    assert [tuple(x) for x in runs] == [("monthly_report", "2026-11")]
    assert sorted(exports) == ["docx", "json", "png", "xlsx"]  # not even the files again


async def test_monthly_report_only_on_the_leader(engine, sessions, app_settings: Settings, clock: FakeClock,
                                                 robot) -> None:
    clock.now = beijing(2026, 12, 1, 9, 0)
    leader = _service(engine, sessions, app_settings, clock, robot)
    other = _service(engine, sessions, app_settings, clock, robot)
    await leader.tick()
    await leader.stop()
    # Lock released: the other one now leads, and must find November's report already done.
    await other.tick()
    assert other.is_leader
    await other.stop()
    assert len(robot[0].sent) == 1


async def test_monthly_report_not_leader_does_nothing(engine, sessions, app_settings: Settings,
                                                      clock: FakeClock, robot) -> None:
    clock.now = beijing(2026, 12, 1, 9, 0)
    leader = _service(engine, sessions, app_settings, clock, robot)
    follower = _service(engine, sessions, app_settings, clock, robot)
    try:
        assert await leader.leader.acquire()
        await follower.tick()
        assert not follower.is_leader
        assert robot[0].sent == [] and not Path(app_settings.reports.output_dir).exists()
    finally:
        await follower.stop()
        await leader.leader.release()


@pytest.mark.parametrize(("day", "expected"), [(date(2026, 12, 3), True), (date(2026, 12, 4), False),
                                               (date(2026, 12, 15), False)])
async def test_monthly_report_catch_up_window(engine, sessions, app_settings: Settings, clock: FakeClock,
                                              robot, day: date, expected: bool) -> None:
    """Down across the 1st: still produced up to the 3rd, not later."""
    clock.now = beijing(day.year, day.month, day.day, 10)
    service = _service(engine, sessions, app_settings, clock, robot)
    await service.tick()
    await service.stop()
    assert (len(robot[0].sent) == 1) is expected


async def test_monthly_notify_off(engine, sessions, app_settings: Settings, clock: FakeClock, robot) -> None:
    settings = replace(app_settings, reports=replace(app_settings.reports, notify=""))
    clock.now = beijing(2026, 12, 1, 9, 0)
    service = _service(engine, sessions, settings, clock, robot)
    await service.tick()
    await service.stop()
    assert robot[0].sent == []
    assert (Path(settings.reports.output_dir) / "pufa-report-2026-11.docx").exists()


# -- datacube ----------------------------------------------------------------------------------


def test_windows_cover_missing_days_with_at_most_seven() -> None:
    d = date(2026, 11, 1)
    days = [d + timedelta(days=i) for i in range(17)] + [date(2026, 11, 25)]
    got = windows(days)
    assert got == [(date(2026, 11, 1), date(2026, 11, 7)), (date(2026, 11, 8), date(2026, 11, 14)),
                   (date(2026, 11, 15), date(2026, 11, 17)), (date(2026, 11, 25), date(2026, 11, 25))]
    assert all((b - a).days < 7 for a, b in got)


async def _user_days(sessions) -> dict[date, tuple[int, int, int | None]]:
    async with sessions() as s:
        rows = (await s.execute(select(WechatUserDay))).scalars().all()
    return {r.day: (r.new_user, r.cancel_user, r.cumulate_user) for r in rows}


async def test_datacube_catches_up_and_stores_the_sandbox_figures(sessions, sandbox: Sandbox,
                                                                  clock: FakeClock) -> None:
    clock.now = beijing(2026, 12, 4, 9)
    stored = await fetch_user_days(sessions, sandbox.client, today=date(2026, 12, 4), backfill_days=20)
    assert stored == 20
    assert sandbox.platform.calls.count("getusersummary") == 3  # 7 + 7 + 6 days
    rows = await _user_days(sessions)
    assert sorted(rows) == [date(2026, 11, 14) + timedelta(days=i) for i in range(20)]
    for day, (new, lost, total) in rows.items():
        assert (new, lost) == _daily_figures(day)
        assert total == cumulate(sandbox.platform.followers, day)
    # Next morning: only the one new day is fetched.
    clock.advance(24 * 3600)
    assert await fetch_user_days(sessions, sandbox.client, today=date(2026, 12, 5), backfill_days=20) == 1
    # (getusersummary itself is asked twice: the day-old token is refused once and refreshed.)
    assert sandbox.platform.calls.count("getusercumulate") == 4
    assert date(2026, 12, 4) in await _user_days(sessions)


async def test_datacube_sums_user_sources(sessions, sandbox: Sandbox, clock: FakeClock,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    async def summary(begin: date, end: date) -> list[dict[str, object]]:
        return [{"ref_date": begin.isoformat(), "user_source": 0, "new_user": 3, "cancel_user": 1},
                {"ref_date": begin.isoformat(), "user_source": 30, "new_user": 2, "cancel_user": 0}]

    monkeypatch.setattr(sandbox.client, "user_summary", summary)
    await fetch_user_days(sessions, sandbox.client, today=date(2026, 12, 4), backfill_days=2)
    rows = await _user_days(sessions)
    assert rows[date(2026, 12, 2)][:2] == (5, 1)
    assert rows[date(2026, 12, 3)][:2] == (0, 0)  # no summary rows: no movement that day


async def test_datacube_job_after_eight_and_retried_after_failure(engine, sessions, app_settings: Settings,
                                                                  sandbox: Sandbox, clock: FakeClock,
                                                                  robot) -> None:
    settings = replace(app_settings, scheduler=replace(app_settings.scheduler, datacube_backfill_days=3))
    clock.now = beijing(2026, 12, 4, 7, 59)
    service = _service(engine, sessions, settings, clock, robot, wechat=sandbox.client)
    try:
        await service.tick()
        assert "getusersummary" not in sandbox.platform.calls  # data not ready before 08:00
        clock.now = beijing(2026, 12, 4, 8, 10)
        sandbox.platform.inject("getusersummary", "500")
        await service.tick()
        assert sandbox.platform.calls.count("getusersummary") == 1
        assert await _user_days(sessions) == {}
        clock.advance(60)
        await service.tick()  # too soon to retry
        assert sandbox.platform.calls.count("getusersummary") == 1
        clock.advance(1800)
        await service.tick()
        assert sorted(await _user_days(sessions)) == [date(2026, 12, 1), date(2026, 12, 2), date(2026, 12, 3)]
        await service.tick()  # done for today
        assert sandbox.platform.calls.count("getusersummary") == 2
    finally:
        await service.stop()
