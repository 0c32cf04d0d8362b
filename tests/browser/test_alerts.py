"""Staff alerts raised by the real scheduler (a send WeChat refuses) are marked handled in the
browser: who and when is kept and audited, and the alert leaves the dashboard."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from playwright.async_api import Page
from sqlalchemy import select

from admin.models import AuditEvent
from bot.db.base import utcnow
from scheduler.models import NEEDS_ATTENTION, Post, StaffAlert
from scheduler.posts import NewPost, add_post
from tests.browser.conftest import EDITOR, Site, login, shot


async def failed_send(site: Site, title: str) -> int:
    """A post the sandbox refuses with 40164 (IP not whitelisted): the sender stops and alerts staff."""
    site.platform.inject("sendall", 40164)
    post = await add_post(site.sessions, NewPost(title=title, body="<p>正文</p>", channel="wechat",
                                                 send_at=utcnow() + timedelta(seconds=1)),
                          account_type="service", enforce_quota=False)
    return post.id


async def wait_for_alert(site: Site, post_id: int) -> StaffAlert:
    for _ in range(60):
        async with site.sessions() as s:
            alert = (await s.execute(select(StaffAlert).where(StaffAlert.post_id == post_id))).scalar_one_or_none()
            post = await s.get(Post, post_id)
        if alert is not None and post is not None and post.state == NEEDS_ATTENTION:
            return alert
        await asyncio.sleep(0.25)
    raise AssertionError("the scheduler raised no alert")


@pytest.mark.with_scheduler
async def test_alert_is_acknowledged_and_leaves_the_dashboard(page: Page, site: Site) -> None:
    post_id = await failed_send(site, "白名单测试推送")
    alert = await wait_for_alert(site, post_id)
    await login(page, site, EDITOR)  # any staff member, not only admins
    card = page.locator(f"#dash-alert-{alert.id}")
    assert "白名单" in await card.inner_text()
    await shot(page, "dashboard-alert")
    await card.locator("button").click()
    assert "已标记为已处理" in await page.inner_text(".notice")
    assert await page.locator(f"#dash-alert-{alert.id}").count() == 0
    # The post it was about does not come back as a separate "needs attention" line either.
    assert "白名单测试推送" not in await page.inner_text("main")
    async with site.sessions() as s:
        row = await s.get(StaffAlert, alert.id)
        events = list((await s.execute(select(AuditEvent).where(AuditEvent.action == "ack"))).scalars())
    assert row is not None and row.acknowledged_by == EDITOR[0] and row.acknowledged_at is not None
    assert [(e.actor, e.target) for e in events] == [(EDITOR[0], f"提醒 #{alert.id}")]
    await page.goto(site.url + "/admin/alerts")
    done = await page.inner_text("#done-alerts")
    assert EDITOR[0] in done and "白名单" in done
    assert await page.locator(f"#alert-{alert.id}").count() == 0


@pytest.mark.with_scheduler
async def test_alerts_page_lists_open_alerts_and_a_second_click_changes_nothing(page: Page, site: Site) -> None:
    first = await wait_for_alert(site, await failed_send(site, "第一条失败推送"))
    second = await wait_for_alert(site, await failed_send(site, "第二条失败推送"))
    await login(page, site)
    await page.goto(site.url + "/admin/alerts")
    # Campaign reminders of the real calendar may be open too (the scheduler's daily job).
    assert await page.locator(f"#alert-{first.id}").count() == 1
    assert await page.locator(f"#alert-{second.id}").count() == 1
    await shot(page, "alerts")
    # Two staff had the page open; both click 已处理 on the first alert.
    other = await page.context.new_page()
    await other.goto(site.url + "/admin/alerts")
    await page.locator(f"#alert-{first.id} button").click()
    assert "已标记为已处理" in await page.inner_text(".notice")
    await other.locator(f"#alert-{first.id} button").click()
    assert "已由 管理员甲 处理" in await other.inner_text(".notice")
    async with site.sessions() as s:
        events = list((await s.execute(select(AuditEvent).where(AuditEvent.action == "ack"))).scalars())
        handled = [a.id for a in (await s.execute(select(StaffAlert).where(StaffAlert.acknowledged_at.is_not(None))))
                   .scalars()]
    assert len(events) == 1 and handled == [first.id]
    await page.goto(site.url + "/admin/alerts")
    assert await page.locator(f"#alert-{first.id}").count() == 0
    assert await page.locator(f"#alert-{second.id}").count() == 1
