"""Fixtures for the scheduler tests: a migrated database (the root conftest's ``engine``: SQLite, or
PostgreSQL with PUFA_TEST_DATABASE_URL), the sandbox API served on a real port, a real WechatClient
talking to it, and a settable clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import SchedulerSettings
from bot.db.session import create_sessionmaker
from bot.wechat.client import WechatClient
from sandbox.api import SandboxPlatform, create_api_app
from sandbox.dingtalk import DingtalkRobot, create_dingtalk_app
from scheduler.channels.dingtalk import DingtalkChannel
from scheduler.channels.wechat import WechatChannel
from scheduler.covers import BUNDLED_DEFAULT
from scheduler.models import Post
from scheduler.posts import NewPost, add_post
from scheduler.sender import Sender
from scheduler.timeutil import parse_local

APPID = "wxschedtest0001"
SECRET = "sched-secret"
ROBOT_SECRET = "SEC0123456789abcdef"
class FakeClock:
    """UTC 'now' that tests move by hand; shared by the sender and the sandbox."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def timestamp(self) -> float:
        return self.now.timestamp()

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> FakeClock:
    # 2026-12-04 08:30 Beijing = 00:30 UTC.
    return FakeClock(datetime(2026, 12, 4, 0, 0, tzinfo=UTC))


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_sessionmaker(engine)


@pytest.fixture
def sched_settings() -> SchedulerSettings:
    return SchedulerSettings()


@dataclass
class Sandbox:
    platform: SandboxPlatform
    server: TestServer
    client: WechatClient
    http: aiohttp.ClientSession

    @property
    def base(self) -> str:
        return str(self.server.make_url("")).rstrip("/")

    def mass(self) -> list[object]:
        return [r for r in self.platform.sent if r.kind == "mass"]


@pytest.fixture
async def sandbox(clock: FakeClock) -> AsyncIterator[Sandbox]:
    platform = SandboxPlatform(APPID, SECRET, clock=clock.timestamp, finish_delay=0.0)
    server = TestServer(create_api_app(platform))
    await server.start_server()
    http = aiohttp.ClientSession(trust_env=False)
    client = WechatClient(http, appid=APPID, secret=SECRET, api_base=str(server.make_url("")).rstrip("/"),
                          timeout=2.0)
    yield Sandbox(platform, server, client, http)
    await http.close()
    await server.close()


@pytest.fixture
def sender(sessions: async_sessionmaker[AsyncSession], sandbox: Sandbox, clock: FakeClock,
           sched_settings: SchedulerSettings) -> Sender:
    return Sender(sessions, sched_settings, {"wechat": WechatChannel(sandbox.client)}, clock=clock)


def settings_with(**kw: float) -> SchedulerSettings:
    return replace(SchedulerSettings(), **kw)


class Robot:
    """The sandbox DingTalk group robot on a real port, and channels that post to it."""

    def __init__(self, robot: DingtalkRobot, server: TestServer, http: aiohttp.ClientSession) -> None:
        self.robot, self.server, self.http = robot, server, http

    def url(self, token: str = "tok") -> str:
        return str(self.server.make_url("/robot/send")) + f"?access_token={token}"

    def channel(self, clock: FakeClock, url: str | None = None, *, secret: str = ROBOT_SECRET,
                timeout: float = 2.0) -> DingtalkChannel:
        return DingtalkChannel(self.http, url or self.url(), secret, timeout=timeout,
                               clock_ms=lambda: int(clock.timestamp() * 1000))


@pytest.fixture
async def robot(clock: FakeClock) -> AsyncIterator[Robot]:
    r = DingtalkRobot("tok", ROBOT_SECRET, [], clock.timestamp)
    server = TestServer(create_dingtalk_app(r))
    await server.start_server()
    async with aiohttp.ClientSession() as http:
        yield Robot(r, server, http)
    await server.close()


async def add_news_draft(sb: Sandbox, title: str = "标题", content: str = "<p>x</p>") -> str:
    """A draft as pufa makes it: a news article with the bundled cover as permanent material."""
    thumb = await sb.client.add_material("cover.png", BUNDLED_DEFAULT.read_bytes(), "image/png")
    return await sb.client.add_draft([{"title": title, "digest": "", "content": content, "thumb_media_id": thumb}])


SEND_AT = "2026-12-04 08:30"


async def queue(sessions: async_sessionmaker[AsyncSession], clock: FakeClock, at: str = SEND_AT,
                title: str = "12·4 国家宪法日：学宪法 讲宪法") -> Post:
    return await add_post(sessions, NewPost(title=title, body="宪法是国家的根本法。", channel="wechat",
                                            send_at=parse_local(at)), account_type="service", now=clock())
