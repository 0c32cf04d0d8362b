"""The admin application: mounted at /admin by bot/app.py, with its own middleware (security.py).

Pages are server-rendered Jinja2 templates (admin/templates) with one local stylesheet; nothing is
loaded from outside. Shared resources (database, knowledge base, WeChat client) are the main app's,
read through ``request.config_dict``.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from admin import accounts, audit
from admin.models import ROLE_NAMES, ROLES
from admin.security import (
    LOGIN_COOKIE,
    STAFF,
    Staff,
    client_address,
    create_session,
    end_session,
    guard,
    redirect,
    requires_admin,
    set_cookie,
)
from bot.app import HOLDER, LIVE, SERVICES, SESSIONS, SETTINGS, WECHAT
from scheduler.timeutil import fmt_local

__all__ = ["HOLDER", "LIVE", "SERVICES", "SESSIONS", "SETTINGS", "WECHAT", "mount", "render", "staff_of"]

HERE = Path(__file__).resolve().parent
ENV = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"),
                         autoescape=jinja2.select_autoescape(["html"]), undefined=jinja2.StrictUndefined)
ENV.filters["local"] = lambda dt: fmt_local(dt) if isinstance(dt, datetime) else ""
ENV.globals["ROLE_NAMES"] = ROLE_NAMES
ENV.globals["ACTION_NAMES"] = audit.ACTION_NAMES

NAV = (
    ("dashboard", "/admin/", "首页"),
    ("kb", "/admin/kb", "问答库"),
    ("unanswered", "/admin/unanswered", "未答问题"),
    ("alerts", "/admin/alerts", "提醒"),
    ("posts", "/admin/posts", "推送"),
    ("calendar", "/admin/calendar", "宣传日历"),
    ("messages", "/admin/messages", "留言"),
    ("ledger", "/admin/ledger", "台账与报表"),
)
ADMIN_NAV = (("staff", "/admin/staff", "账号"), ("settings", "/admin/settings", "设置"),
             ("audit", "/admin/audit", "操作记录"))

routes = web.RouteTableDef()


def staff_of(request: web.Request) -> Staff:
    return request[STAFF]


def render(request: web.Request, template: str, *, status: int = 200, **ctx: Any) -> web.Response:
    staff = request.get(STAFF)
    nav = NAV + (ADMIN_NAV if staff is not None and staff.is_admin else ())
    html = ENV.get_template(template).render(staff=staff, csrf=staff.csrf if staff else "", nav=nav,
                                             town=request.config_dict[LIVE].current.town, **ctx)
    return web.Response(text=html, content_type="text/html", charset="utf-8", status=status)


# -- login ---------------------------------------------------------------------------------------
def _login_page(request: web.Request, error: str = "", status: int = 200, name: str = "") -> web.Response:
    token = secrets.token_urlsafe(24)
    expired = request.query.get("expired") == "1"
    resp = render(request, "login.html", status=status, error=error, login_csrf=token, expired=expired,
                  name=name)
    set_cookie(resp, request.config_dict[SETTINGS], LOGIN_COOKIE, token, max_age=3600)
    return resp


@routes.get("/login")
async def login_form(request: web.Request) -> web.StreamResponse:
    return _login_page(request)


@routes.post("/login")
async def login_submit(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    name, password = str(form.get("name", "")), str(form.get("password", ""))
    settings = request.config_dict[SETTINGS]
    result = await accounts.login(request.config_dict[SESSIONS], settings.admin, name, password,
                                  client_address(request))
    if result.throttled:
        minutes = settings.admin.failure_window_minutes
        return _login_page(request, f"尝试次数过多，请 {minutes} 分钟后再试。", status=429, name=name)
    if result.user is None:
        return _login_page(request, "用户名或密码不正确。", status=401, name=name)
    resp = redirect("/admin/")
    await create_session(request, result.user, resp)
    resp.del_cookie(LOGIN_COOKIE, path="/admin")
    return resp


@routes.post("/logout")
async def logout(request: web.Request) -> web.StreamResponse:
    staff = staff_of(request)
    await end_session(request, staff)
    await audit.log(request.config_dict[SESSIONS], staff.name, "logout", staff.name, "", client_address(request))
    return redirect("/admin/login")


# -- accounts (admins) -----------------------------------------------------------------------------
@routes.get("/staff")
@requires_admin
async def staff_page(request: web.Request) -> web.StreamResponse:
    users = await accounts.list_staff(request.config_dict[SESSIONS])
    return render(request, "staff.html", users=users, roles=ROLES, error=request.query.get("error", ""),
                  active="staff")


@routes.post("/staff")
@requires_admin
async def staff_action(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    sessions, actor = request.config_dict[SESSIONS], staff_of(request).name
    action = str(form.get("action", ""))
    raw_id = str(form.get("id", ""))
    user_id = int(raw_id) if raw_id.isdigit() else 0
    try:
        if action == "add":
            await accounts.add_staff(sessions, str(form.get("name", "")), str(form.get("role", "")),
                                     str(form.get("password", "")), actor=actor)
        elif action == "password":
            await accounts.set_password(sessions, user_id, str(form.get("password", "")), actor=actor)
        elif action in {"disable", "enable"}:
            await accounts.set_active(sessions, user_id, action == "enable", actor=actor)
    except accounts.AccountError as exc:
        users = await accounts.list_staff(sessions)
        return render(request, "staff.html", users=users, roles=ROLES, error=str(exc), active="staff", status=400)
    return redirect("/admin/staff")


@routes.get("/audit")
@requires_admin
async def audit_page(request: web.Request) -> web.StreamResponse:
    return render(request, "audit.html", events=await audit.recent(request.config_dict[SESSIONS]), active="audit")


def mount(app: web.Application) -> None:
    """Add /admin (and its static files) to the main application."""
    from admin import (
        alert_pages,
        dashboard,
        kb_pages,
        messages,
        post_pages,
        report_pages,
        settings_pages,
        unanswered,
    )

    admin = web.Application(middlewares=[guard])
    admin.add_routes(routes)
    for module in (dashboard, kb_pages, unanswered, post_pages, messages, report_pages, settings_pages,
                   alert_pages):
        admin.add_routes(module.routes)
    admin.router.add_static("/static", HERE / "static", name="static")
    app.add_subapp("/admin", admin)
