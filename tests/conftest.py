"""Shared fixtures: a database per test (SQLite, or PostgreSQL when PUFA_TEST_DATABASE_URL is set),
the real application on a real port, the sandbox platform, and a fake WeChat pushing to the webhook.

The only fakes are at the boundary: WeChat (sandbox) — never our own functions.
"""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlparse

import pytest
from aiohttp import web
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import create_app
from bot.config import PrivacySettings, Secret, Settings, WechatSettings, load_settings
from bot.db.migrate import upgrade
from bot.db.session import create_engine
from sandbox.api import SandboxPlatform, create_api_app
from sandbox.inbound import FakeWeChat

ROOT = Path(__file__).resolve().parent.parent
TEST_TOKEN = "pufatesttoken"
TEST_APPID = "wx1234567890abcdef"
TEST_SECRET = "s3cr3t-app-secret"
TEST_AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
POSTGRES_URL = os.environ.get("PUFA_TEST_DATABASE_URL", "")
REQUIRE_POSTGRES = os.environ.get("PUFA_REQUIRE_POSTGRES") == "1"


def _postgres_reachable(url: str) -> bool:
    parsed = urlparse(url.replace("+asyncpg", ""))
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 5432), timeout=1):
            return True
    except OSError:
        return False


async def reset_postgres(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """A fresh, migrated database for one test."""
    if POSTGRES_URL:
        if not _postgres_reachable(POSTGRES_URL):
            if REQUIRE_POSTGRES:
                pytest.fail(f"PostgreSQL required but unreachable at {POSTGRES_URL}")
            pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}")
        return POSTGRES_URL
    return f"sqlite+aiosqlite:///{tmp_path / 'pufa.db'}"


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    eng = create_engine(database_url)
    if eng.dialect.name == "postgresql":
        await reset_postgres(eng)
    await upgrade(eng)
    yield eng
    await eng.dispose()


@pytest.fixture
def platform() -> SandboxPlatform:
    return SandboxPlatform(TEST_APPID, TEST_SECRET)


def unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def start_site(app: web.Application, port: int = 0) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port or unused_port())
    await site.start()
    host, real_port = runner.addresses[0][:2]
    return runner, f"http://{host}:{real_port}"


@pytest.fixture
async def sandbox_api(platform: SandboxPlatform) -> AsyncIterator[str]:
    runner, url = await start_site(create_api_app(platform))
    yield url
    await runner.cleanup()


@pytest.fixture(scope="session")
def knowledge_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("jieba-cache")


@pytest.fixture
def settings(database_url: str, sandbox_api: str, knowledge_cache: Path) -> Settings:
    base = load_settings(None, env={})
    return replace(
        base,
        database=replace(base.database, url=database_url),
        wechat=WechatSettings(token=Secret(TEST_TOKEN), appid=TEST_APPID, appsecret=Secret(TEST_SECRET),
                              aes_key=Secret(TEST_AES_KEY), api_base=sandbox_api, api_timeout=5.0),
        privacy=PrivacySettings(openid_salt=Secret("test-salt")),
        knowledge=replace(base.knowledge, cache_dir=str(knowledge_cache)),
        # The platform's tests drive the webhook only; tests/scheduler turns the scheduler on.
        scheduler=replace(base.scheduler, enabled=False),
    )


@pytest.fixture(scope="session")
def knowledge_view(knowledge_cache: Path):  # type: ignore[no-untyped-def]
    """One knowledge base for the whole session: building it is the slow part of start-up."""
    from bot.knowledge_service import build_view, entries_dir, load_corpus
    from knowledge.entries import load_entries

    base = load_settings(None, env={})
    return build_view(load_entries(entries_dir(base)), load_corpus(base), str(knowledge_cache))


class Server:
    def __init__(self, app: web.Application, runner: web.AppRunner, url: str) -> None:
        self.app = app
        self.runner = runner
        self.url = url

    @property
    def webhook(self) -> str:
        return self.url + "/wechat"


async def start_server(settings: Settings, knowledge_view: object) -> Server:
    app = create_app(settings, knowledge=knowledge_view)  # type: ignore[arg-type]
    runner, url = await start_site(app)
    return Server(app, runner, url)


@pytest.fixture
async def server(settings: Settings, engine: AsyncEngine, knowledge_view: object) -> AsyncIterator[Server]:
    srv = await start_server(settings, knowledge_view)
    yield srv
    await srv.runner.cleanup()


@pytest.fixture
async def wechat(server: Server, platform: SandboxPlatform) -> AsyncIterator[FakeWeChat]:
    async with FakeWeChat(server.webhook, token=TEST_TOKEN, appid=TEST_APPID, aes_key=TEST_AES_KEY,
                          on_inbound=platform.record_inbound) as fake:
        yield fake


@pytest.fixture
async def safe_wechat(server: Server, platform: SandboxPlatform) -> AsyncIterator[FakeWeChat]:
    async with FakeWeChat(server.webhook, token=TEST_TOKEN, appid=TEST_APPID, aes_key=TEST_AES_KEY,
                          mode="safe", on_inbound=platform.record_inbound) as fake:
        yield fake
