"""Wiring shared by ``pufa serve`` (bot/app.py) and the stand-alone runner (scheduler/run.py)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import aiohttp
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import Secret, Settings
from bot.db.base import utcnow
from bot.wechat.client import WechatClient
from scheduler.calendar import load_calendar
from scheduler.channels import Channel
from scheduler.channels.dingtalk import DingtalkChannel
from scheduler.channels.wechat import WechatChannel
from scheduler.covers import CoverStore
from scheduler.datacube import fetch_user_days
from scheduler.drafts import remind_and_draft
from scheduler.jobs import DailyJob, monthly_report
from scheduler.outbox import Outbox
from scheduler.results import MassResults
from scheduler.sender import Sender
from scheduler.service import SchedulerService
from scheduler.timeutil import parse_hhmm


def build_channels(settings: Settings, http: aiohttp.ClientSession,
                   wechat: WechatClient | None) -> dict[str, Channel]:
    channels: dict[str, Channel] = {}
    if wechat is not None:
        channels["wechat"] = WechatChannel(wechat, CoverStore.from_settings(settings))
    d = settings.dingtalk
    if d.configured:
        channels["dingtalk"] = DingtalkChannel(http, d.webhook_url, d.secret.reveal(), d.timeout)
    return channels


def build_service(settings: Settings, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession],
                  http: aiohttp.ClientSession, wechat: WechatClient | None,
                  current: Callable[[], Settings] | None = None) -> SchedulerService:
    """``current`` gives the settings in force at each run (admins may change lead days, the send
    time and the report's rounding on the 设置 page); the sender's technical settings are fixed."""
    current = current or (lambda: settings)
    channels = build_channels(settings, http, wechat)
    sender = Sender(sessions, settings.scheduler, channels, dingtalk_per_minute=settings.dingtalk.per_minute)
    service = SchedulerService(engine, sessions, settings.scheduler, sender, wechat=wechat)
    sched = settings.scheduler

    async def daily() -> object:
        now = current().scheduler
        calendar = load_calendar(sched.calendar_file or None)
        return await remind_and_draft(sessions, calendar, lead_days=now.lead_days,
                                      send_time=parse_hhmm(now.default_send_time))

    service.daily = daily
    service.daily_key = lambda: (current().scheduler.lead_days, current().scheduler.default_send_time)
    service.jobs = build_jobs(settings, sessions, wechat, current=current)
    dingtalk = channels.get("dingtalk")
    service.outbox = Outbox(sessions, dingtalk if isinstance(dingtalk, DingtalkChannel) else None,
                            per_minute=settings.dingtalk.per_minute,
                            max_age_seconds=sched.notice_max_age_seconds)
    return service


def build_jobs(settings: Settings, sessions: async_sessionmaker[AsyncSession],
               wechat: WechatClient | None, clock: Callable[[], datetime] = utcnow,
               current: Callable[[], Settings] | None = None) -> list[DailyJob]:
    """The leader's daily jobs, in order: the datacube fetch first, so the monthly report (later in
    the morning) finds the month's last day stored."""
    sched = settings.scheduler
    jobs: list[DailyJob] = []
    if wechat is not None and sched.datacube_backfill_days > 0:
        async def datacube(today: date) -> object:
            return await fetch_user_days(sessions, wechat, today=today, backfill_days=sched.datacube_backfill_days)

        jobs.append(DailyJob("datacube", parse_hhmm(sched.datacube_time), datacube))

    async def monthly(today: date) -> object:
        return await monthly_report(sessions, current() if current else settings, today, now=clock())

    jobs.append(DailyJob("monthly_report", parse_hhmm(settings.reports.monthly_time), monthly))
    return jobs


if TYPE_CHECKING:
    from sandbox.api import SandboxPlatform
    from sandbox.dingtalk import DingtalkRobot


def demo_settings(settings: Settings, platform: SandboxPlatform, robot: DingtalkRobot | None,
                  http: aiohttp.ClientSession) -> Settings:
    """Demo mode: MASSSENDJOBFINISH goes back to our own webhook, and with no DingTalk robot
    configured the sandbox's robot stands in, so ``make run`` shows pushes end to end."""
    from sandbox.dingtalk import DEMO_PREFIX, DEMO_TOKEN
    from sandbox.events import webhook_sink

    host = settings.server.host if settings.server.host not in {"0.0.0.0", "::"} else "127.0.0.1"
    base = f"http://{host}:{settings.server.port}"
    w = settings.wechat
    platform.event_sink = webhook_sink(base + "/wechat", token=w.token.reveal(), appid=w.appid,
                                       aes_key=w.aes_key.reveal(), session=http)
    if robot is None or settings.dingtalk.configured:
        return settings
    robot_url = f"{base}{DEMO_PREFIX}/robot/send?access_token={DEMO_TOKEN}"
    dingtalk = dataclasses.replace(settings.dingtalk, webhook_url=robot_url, secret=Secret(robot.secret))
    return dataclasses.replace(settings, dingtalk=dingtalk)


@asynccontextmanager
async def scheduler_lifetime(settings: Settings, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession],
                             http: aiohttp.ClientSession, wechat: WechatClient | None,
                             mass_result_hooks: list[Any], current: Callable[[], Settings] | None = None,
                             ) -> AsyncIterator[SchedulerService | None]:
    """For bot/app.py's cleanup_ctx: the result hook always, the scheduler only when enabled."""
    mass_result_hooks.append(MassResults(sessions).on_event)
    service = (build_service(settings, engine, sessions, http, wechat, current)
               if settings.scheduler.enabled else None)
    if service is not None:
        await service.start()
    try:
        yield service
    finally:
        if service is not None:
            await service.stop()
