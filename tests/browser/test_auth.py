"""Login, throttling, CSRF and Origin refusal, roles, in a real browser."""

from __future__ import annotations

from aiohttp import web
from playwright.async_api import Page
from sqlalchemy import select

from admin.models import AuditEvent
from scheduler.models import Post
from tests.browser.conftest import ADMIN, EDITOR, PHONE, Site, login, shot
from tests.conftest import start_site


async def test_wrong_password_then_login(page: Page, site: Site) -> None:
    await page.goto(site.url + "/admin/")
    assert page.url.endswith("/admin/login")
    await page.fill("input[name=name]", ADMIN[0])
    await page.fill("input[name=password]", "not-the-password")
    await page.click("button[type=submit]")
    assert "用户名或密码不正确" in await page.inner_text(".error")
    await shot(page, "login-error")
    await login(page, site)
    assert "概况" in await page.inner_text("h1")
    cookie = next(c for c in await page.context.cookies() if c["name"] == "pufa_admin")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    await shot(page, "dashboard")
    await page.set_viewport_size(PHONE)
    await shot(page, "dashboard-phone")
    async with site.sessions() as s:
        actions = [a for (a,) in (await s.execute(select(AuditEvent.action).order_by(AuditEvent.id))).all()]
    assert "login_failed" in actions and "login" in actions


async def test_throttling_refuses_even_the_right_password(page: Page, site: Site) -> None:
    for _ in range(3):  # admin.max_failures = 3 in these tests
        await page.goto(site.url + "/admin/login")
        await page.fill("input[name=name]", EDITOR[0])
        await page.fill("input[name=password]", "wrong-password")
        await page.click("button[type=submit]")
        assert "不正确" in await page.inner_text(".error")
    await page.fill("input[name=name]", EDITOR[0])
    await page.fill("input[name=password]", EDITOR[1])
    await page.click("button[type=submit]")
    assert "尝试次数过多" in await page.inner_text(".error")
    assert page.url.endswith("/admin/login")
    await shot(page, "login-throttled")


async def test_forged_cross_origin_form_is_refused(page: Page, site: Site) -> None:
    await login(page, site)
    # An attacker's page on another origin auto-submits a post form to the admin.
    forged = f"""<html><body><form id=f method=post action="{site.url}/admin/posts/save">
      <input name=title value="伪造的推送"><input name=body value="x"><input name=channel value=wechat>
      <input name=send_at value="2099-01-01T08:30"><input name=action value=schedule></form>
      <script>document.getElementById('f').submit()</script></body></html>"""

    async def evil(request: web.Request) -> web.Response:
        return web.Response(text=forged, content_type="text/html")

    app = web.Application()
    app.router.add_get("/", evil)
    runner, evil_url = await start_site(app)
    try:
        await page.goto(evil_url + "/")
        await page.wait_for_url(site.url + "/admin/posts/save")
        assert "请求被拒绝" in await page.inner_text("body")
    finally:
        await runner.cleanup()
    # Same origin but without the token (a form injected into our own page) is refused too.
    await page.goto(site.url + "/admin/posts/new")
    await page.evaluate("document.querySelector('#post-form input[name=csrf]').value = 'forged'")
    await page.fill("input[name=title]", "没有令牌的推送")
    await page.click("#editor")
    await page.keyboard.type("正文")
    await page.fill("input[name=send_at]", "2099-01-01T08:30:00")
    await page.click("button[value=schedule]")
    assert "安全令牌" in await page.inner_text("body")
    async with site.sessions() as s:
        titles = set((await s.execute(select(Post.title))).scalars())
    assert not titles & {"伪造的推送", "没有令牌的推送"}


async def test_editor_cannot_open_admin_pages(page: Page, site: Site) -> None:
    await login(page, site, EDITOR)
    resp = await page.goto(site.url + "/admin/messages")
    assert resp is not None and resp.status == 403
    resp = await page.goto(site.url + "/admin/staff")
    assert resp is not None and resp.status == 403
    await page.goto(site.url + "/admin/")
    assert "账号" not in await page.inner_text("nav")


async def test_idle_session_expires_and_admin_pages(page: Page, site: Site) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from admin.models import StaffSession
    from bot.db.base import utcnow

    await login(page, site)
    await page.goto(site.url + "/admin/staff")
    await page.fill("form:has(input[value=add]) input[name=name]", "新同事")
    await page.fill("form:has(input[value=add]) input[name=password]", "new-colleague-1")
    await page.click("form:has(input[value=add]) button")
    assert "新同事" in await page.inner_text("table")
    await shot(page, "staff")
    await page.goto(site.url + "/admin/settings")
    body = await page.inner_text("body")
    assert "[admin]" in body and "s3cr3t-app-secret" not in body and "Secret('***')" in body
    await page.goto(site.url + "/admin/audit")
    assert "账号管理" in await page.inner_text("table")
    await shot(page, "audit")
    # Idle past admin.idle_timeout_minutes (30): the next request lands on the login page.
    async with site.sessions() as s, s.begin():
        await s.execute(update(StaffSession).values(last_seen_at=utcnow() - timedelta(minutes=31)))
    await page.goto(site.url + "/admin/")
    assert "/admin/login?expired=1" in page.url
    assert "登录已超时" in await page.inner_text("body")
    async with site.sessions() as s:
        assert (await s.execute(select(StaffSession))).first() is None


async def test_password_reset_ends_the_accounts_sessions(page: Page, site: Site) -> None:
    editor = await page.context.browser.new_context(viewport=page.viewport_size)  # type: ignore[union-attr]
    other = await editor.new_page()
    try:
        await login(other, site, EDITOR)
        await login(page, site)
        await page.goto(site.url + "/admin/staff")
        row = page.locator("tr", has_text=EDITOR[0])
        await row.locator("input[name=password]").fill("editor-new-pass-1")
        await row.locator("button", has_text="重设密码").click()
        await page.wait_for_url(site.url + "/admin/staff")
        await other.goto(site.url + "/admin/posts")
        assert other.url.startswith(site.url + "/admin/login")
    finally:
        await editor.close()
