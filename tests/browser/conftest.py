"""Browser tests: the real application on a real port, driven by Debian's Chromium through Playwright.

Chromium comes from ``make browsers`` (apt), never from ``playwright install``. Without
/usr/bin/chromium the tests skip with that reason; CI runs ``make test``, which installs it.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import AdminSettings, Settings
from bot.db.session import create_sessionmaker
from sandbox.api import SandboxPlatform
from sandbox.events import webhook_sink
from tests.conftest import TEST_AES_KEY, TEST_APPID, TEST_TOKEN, Server, start_server

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--lang=zh-CN"]
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
ADMIN = ("管理员甲", "admin-pass-123")
EDITOR = ("编辑乙", "editor-pass-123")
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}

if not os.path.exists(CHROMIUM):
    pytest.skip(f"{CHROMIUM} is absent: run `make browsers` (Debian's chromium) to run the browser tests",
                allow_module_level=True)

from playwright.async_api import Browser, Page, async_playwright  # noqa: E402


@pytest.fixture
def admin_settings(settings: Settings, request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Throttling after 3 failures and the sandbox chat on; the scheduler only for tests marked
    ``with_scheduler`` (fast ticks, so a post scheduled a few seconds ahead goes out in the test)."""
    out = replace(settings, admin=AdminSettings(max_failures=3, sandbox_chat=True,
                                                upload_dir=str(tmp_path / "uploads")))
    if request.node.get_closest_marker("with_scheduler"):
        out = replace(out, scheduler=replace(settings.scheduler, enabled=True, tick_seconds=0.5))
    return out


@dataclass
class Site:
    server: Server
    platform: SandboxPlatform
    engine: AsyncEngine

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def sessions(self) -> Any:
        return create_sessionmaker(self.engine)


@pytest.fixture
async def site(admin_settings: Settings, engine: AsyncEngine, knowledge_view: object,
               platform: SandboxPlatform) -> AsyncIterator[Site]:
    from admin.accounts import add_staff

    sessions = create_sessionmaker(engine)
    await add_staff(sessions, ADMIN[0], "admin", ADMIN[1])
    await add_staff(sessions, EDITOR[0], "editor", EDITOR[1])
    server = await start_server(admin_settings, knowledge_view)
    http = aiohttp.ClientSession()
    # MASSSENDJOBFINISH from the sandbox goes to our webhook, signed and encrypted like WeChat's.
    platform.finish_delay = 0.2
    platform.event_sink = webhook_sink(server.webhook, token=TEST_TOKEN, appid=TEST_APPID, aes_key=TEST_AES_KEY,
                                       session=http)
    yield Site(server, platform, engine)
    platform.event_sink = None
    await server.runner.cleanup()
    await http.close()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        await b.close()


@pytest.fixture
async def page(browser: Browser, site: Site) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport=DESKTOP, accept_downloads=True, locale="zh-CN",
                                        timezone_id="Asia/Shanghai")
    context.set_default_timeout(15_000)
    pg = await context.new_page()
    yield pg
    await context.close()


async def login(page: Page, site: Site, who: tuple[str, str] = ADMIN) -> None:
    await page.goto(site.url + "/admin/login")
    await page.fill("input[name=name]", who[0])
    await page.fill("input[name=password]", who[1])
    await page.click("button[type=submit]")
    await page.wait_for_url(site.url + "/admin/")


async def shot(page: Page, name: str, full_page: bool = True) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)
