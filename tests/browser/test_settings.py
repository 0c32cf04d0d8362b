"""设置 in the browser: admins change operational settings, the bot uses them on the next message,
bad input is refused in plain Chinese, environment-fixed settings are locked, editors are refused."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from playwright.async_api import Page
from sqlalchemy import select

from admin.models import AuditEvent
from bot.config import Settings
from bot.db.models import SettingOverride
from reports.period import SHANGHAI
from sandbox.inbound import FakeWeChat
from scheduler.models import Post
from tests.browser.conftest import EDITOR, Site, login, shot
from tests.conftest import TEST_AES_KEY, TEST_APPID, TEST_TOKEN

QUESTION = "老板欠我工钱不给咋办"
IN_20_DAYS = datetime.now(SHANGHAI).date() + timedelta(days=20)


@pytest.fixture
def admin_settings(admin_settings: Settings, tmp_path: Path) -> Settings:
    """The town's own calendar with one campaign date 20 days ahead: outside the default 7-day lead."""
    calendar = tmp_path / "calendar.toml"
    calendar.write_text(f"""
[[campaign]]
key = "town_fair_day"
name = "镇法治赶场日"
kind = "day"
month = {IN_20_DAYS.month}
day = {IN_20_DAYS.day}
laws = ["民法典"]
tags = ["民法典"]
default = "required"
""", encoding="utf-8")
    return replace(admin_settings, scheduler=replace(admin_settings.scheduler, calendar_file=str(calendar)))


def resident(site: Site) -> FakeWeChat:
    return FakeWeChat(site.server.webhook, token=TEST_TOKEN, appid=TEST_APPID, aes_key=TEST_AES_KEY, mode="safe",
                      on_inbound=site.platform.record_inbound)


async def stored(site: Site) -> dict[str, object]:
    async with site.sessions() as s:
        return {r.key: r.value for r in (await s.execute(select(SettingOverride))).scalars()}


async def test_admin_changes_contacts_and_the_next_answer_uses_them(page: Page, site: Site) -> None:
    async with resident(site) as r:
        before = (await r.say("oResidentSettings", QUESTION)).text
    assert "023-66668888" not in before and "石桥区法律援助中心" not in before
    await login(page, site)
    await page.goto(site.url + "/admin/settings")
    body = await page.inner_text("body")
    assert "s3cr3t-app-secret" not in body and "Secret('***')" in body  # secrets masked, never editable
    assert await page.locator("input[name='wechat.appsecret'], input[name='wechat.token']").count() == 0
    await page.fill("input[name=contact-legal_aid-name]", "石桥区法律援助中心")
    await page.fill("input[name=contact-legal_aid-phone]", "023-66668888")
    await page.fill("input[name='scheduler.lead_days']", "10")
    await page.fill("input[name='reports.round_unit']", "100")
    await page.evaluate("window.scrollTo(0, 0)")  # the contacts table, with the edited row
    await shot(page, "settings-edit", full_page=False)
    await page.click("#settings-form button[type=submit]")
    assert "已保存 3 项" in await page.inner_text(".notice")
    assert await page.input_value("input[name='scheduler.lead_days']") == "10"
    assert "管理员甲" in await page.inner_text("#contact-legal_aid")
    values = await stored(site)
    assert values["contacts.legal_aid"] == {"name": "石桥区法律援助中心", "phone": "023-66668888"}
    assert values["scheduler.lead_days"] == 10 and values["reports.round_unit"] == 100
    # No restart: the resident's next message already lists the new contact.
    async with resident(site) as r:
        after = (await r.say("oResidentSettings", QUESTION)).text
    assert "石桥区法律援助中心" in after and "023-66668888" in after
    # Audited with the old and the new value.
    async with site.sessions() as s:
        rows = list((await s.execute(select(AuditEvent).where(AuditEvent.action == "settings"))).scalars())
    details = {e.target: e.detail for e in rows}
    assert details["宣传日提前提醒天数"] == "7 → 10"
    assert any(d.endswith("→ 石桥区法律援助中心 023-66668888") for d in details.values()), details
    await page.goto(site.url + "/admin/audit")
    assert "修改设置" in await page.inner_text("table")


async def test_bad_values_are_refused_in_chinese_and_nothing_is_saved(page: Page, site: Site) -> None:
    await login(page, site)
    await page.goto(site.url + "/admin/settings")
    await page.fill("input[name='scheduler.lead_days']", "十天")
    await page.fill("input[name='scheduler.default_send_time']", "25:00")
    await page.fill("input[name=contact-hotline-phone]", "call me")
    await page.fill("input[name='scheduler.preview_openids']", "o12345678, <script>")
    async with page.expect_response(lambda r: r.url.endswith("/admin/settings") and r.request.method == "POST") as info:
        await page.click("#settings-form button[type=submit]")
    assert (await info.value).status == 400
    errors = await page.inner_text("#settings-errors")
    assert "“宣传日提前提醒天数”应填整数" in errors
    assert "应写成 时:分" in errors
    assert "电话只能包含数字" in errors
    assert "不像微信 openid" in errors
    # What staff typed stays in the form, so they only fix the wrong parts.
    assert await page.input_value("input[name='scheduler.lead_days']") == "十天"
    await shot(page, "settings-error", full_page=False)
    assert await stored(site) == {}
    # The server refuses it too, not only the page: same form posted directly.
    csrf = await page.input_value("#settings-form input[name=csrf]")
    status = await page.evaluate("""async (csrf) => {
        const f = new FormData(); f.append('csrf', csrf); f.append('reports.round_unit', '0');
        return (await fetch('/admin/settings', {method: 'POST', body: f})).status; }""", csrf)
    assert status == 400
    assert await stored(site) == {}


async def test_environment_wins_and_the_field_is_locked(page: Page, site: Site,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUFA_SCHEDULER_LEAD_DAYS", "5")
    await login(page, site)
    await page.goto(site.url + "/admin/settings")
    field = page.locator("#field-scheduler-lead_days")
    assert "PUFA_SCHEDULER_LEAD_DAYS" in await field.inner_text()
    assert await field.locator("input").is_disabled()
    # A hand-made request cannot change it either.
    csrf = await page.input_value("#settings-form input[name=csrf]")
    await page.evaluate("""async (csrf) => {
        const f = new FormData(); f.append('csrf', csrf); f.append('scheduler.lead_days', '30');
        await fetch('/admin/settings', {method: 'POST', body: f}); }""", csrf)
    assert "scheduler.lead_days" not in await stored(site)


async def test_editor_and_missing_token_are_refused(page: Page, site: Site) -> None:
    await login(page, site, EDITOR)
    resp = await page.goto(site.url + "/admin/settings")
    assert resp is not None and resp.status == 403
    await page.goto(site.url + "/admin/")
    csrf = await page.input_value("form.logout input[name=csrf]")
    statuses = await page.evaluate("""async (csrf) => {
        const post = async (token) => { const f = new FormData(); if (token) f.append('csrf', token);
            f.append('contact-hotline-name', '假热线'); f.append('contact-hotline-phone', '110');
            return (await fetch('/admin/settings', {method: 'POST', body: f})).status; };
        return [await post(csrf), await post('')]; }""", csrf)
    assert statuses == [403, 403]
    assert await stored(site) == {}


@pytest.mark.with_scheduler
async def test_new_lead_days_reach_the_running_scheduler(page: Page, site: Site) -> None:
    async def fair_posts() -> list[Post]:
        async with site.sessions() as s:
            return list((await s.execute(select(Post).where(Post.campaign == "town_fair_day"))).scalars())

    await asyncio.sleep(1.5)  # a few scheduler ticks with the default 7 days
    assert await fair_posts() == []
    await login(page, site)
    await page.goto(site.url + "/admin/settings")
    await page.fill("input[name='scheduler.lead_days']", "30")
    await page.click("#settings-form button[type=submit]")
    assert "已保存 1 项" in await page.inner_text(".notice")
    for _ in range(40):  # no restart: the next tick drafts the campaign and alerts staff
        if await fair_posts():
            break
        await asyncio.sleep(0.25)
    posts = await fair_posts()
    assert len(posts) == 1 and posts[0].state == "draft"
    await page.goto(site.url + "/admin/alerts")
    assert "镇法治赶场日" in await page.inner_text("#open-alerts")
