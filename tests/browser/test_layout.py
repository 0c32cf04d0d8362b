"""Every page fits a phone's width (no sideways scrolling of the page) and the office screen."""

from __future__ import annotations

import pytest
from playwright.async_api import Page

from tests.browser.conftest import DESKTOP, PHONE, Site, login, shot

PAGES = ("/admin/", "/admin/kb", "/admin/kb/new", "/admin/hit-test?q=离婚了娃儿归哪个", "/admin/unanswered",
         "/admin/posts", "/admin/posts/new", "/admin/calendar", "/admin/push-log", "/admin/messages",
         "/admin/ledger", "/admin/staff", "/admin/settings", "/admin/audit", "/admin/alerts")


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
async def test_pages_fit_the_screen(page: Page, site: Site, viewport: dict[str, int]) -> None:
    await page.set_viewport_size(viewport)
    await login(page, site)
    wide = []
    for path in PAGES:
        resp = await page.goto(site.url + path)
        assert resp is not None and resp.status == 200, path
        overflow = await page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        if overflow > 1:
            wide.append((path, overflow))
        if path == "/admin/settings" and viewport is DESKTOP:
            await shot(page, "settings")
    assert not wide, wide
