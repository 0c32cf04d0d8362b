"""Sessions in the database, the CSRF token and the Origin check, as one aiohttp middleware.

- The cookie holds 32 random bytes; the table holds their SHA-256. ``HttpOnly; SameSite=Strict;
  Path=/admin`` always, ``Secure`` when ``admin.cookie_secure`` (behind HTTPS).
- A session unused for ``admin.idle_timeout_minutes`` is deleted on its next use.
- Every POST must come from our own origin (``Origin``, else ``Referer``; neither → refused) and
  carry the session's CSRF token in the form field ``csrf``. The login form, which has no session
  yet, uses a double-submit token in its own short-lived cookie.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

from aiohttp import web
from sqlalchemy import delete

from admin.models import ADMIN, StaffSession, StaffUser
from bot.config import Settings
from bot.db.base import utcnow

COOKIE = "pufa_admin"
LOGIN_COOKIE = "pufa_login"
COOKIE_PATH = "/admin"
TOUCH_EVERY = timedelta(seconds=60)
PUBLIC = {"/admin/login", "/admin/static"}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Staff:
    """The logged-in staff member of one request."""

    id: int
    name: str
    role: str
    csrf: str
    session_id: str

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN


STAFF = web.RequestKey("staff", Staff)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def requires_admin(handler: Handler) -> Handler:
    """Only admins (accounts, settings, residents' message texts)."""
    handler.pufa_admin_only = True  # type: ignore[attr-defined]
    return handler


def set_cookie(response: web.StreamResponse, settings: Settings, name: str, value: str,
               max_age: int | None = None) -> None:
    response.set_cookie(name, value, path=COOKIE_PATH, httponly=True, samesite="Strict",
                        secure=settings.admin.cookie_secure, max_age=max_age)


def client_address(request: web.Request) -> str:
    return request.remote or "-"


def same_origin(request: web.Request) -> bool:
    """The POST came from a page of ours: its Origin (or Referer) is this host."""
    source = request.headers.get("Origin") or request.headers.get("Referer") or ""
    if not source or source == "null":
        return False
    parts = urlsplit(source)
    return parts.scheme in {"http", "https"} and parts.netloc == request.host


async def create_session(request: web.Request, user: StaffUser, response: web.StreamResponse) -> None:
    from admin.web import SESSIONS, SETTINGS

    token = secrets.token_urlsafe(32)
    now = utcnow()
    async with request.config_dict[SESSIONS]() as s, s.begin():
        s.add(StaffSession(id=token_hash(token), user_id=user.id, csrf=secrets.token_urlsafe(32),
                           created_at=now, last_seen_at=now))
    set_cookie(response, request.config_dict[SETTINGS], COOKIE, token)


async def end_session(request: web.Request, staff: Staff) -> None:
    from admin.web import SESSIONS

    async with request.config_dict[SESSIONS]() as s, s.begin():
        await s.execute(delete(StaffSession).where(StaffSession.id == staff.session_id))


async def load_staff(request: web.Request, now: datetime) -> tuple[Staff | None, bool]:
    """(staff, expired): the session of the request's cookie, if valid and not idle too long."""
    from admin.web import SESSIONS, SETTINGS

    token = request.cookies.get(COOKIE)
    if not token:
        return None, False
    idle = timedelta(minutes=request.config_dict[SETTINGS].admin.idle_timeout_minutes)
    sid = token_hash(token)
    async with request.config_dict[SESSIONS]() as s, s.begin():
        row = await s.get(StaffSession, sid)
        if row is None:
            return None, False
        user = await s.get(StaffUser, row.user_id)
        if user is None or not user.active or now - row.last_seen_at > idle:
            await s.delete(row)
            return None, True
        if now - row.last_seen_at > TOUCH_EVERY:
            row.last_seen_at = now
        return Staff(user.id, user.name, user.role, row.csrf, sid), False


def forbidden(reason: str) -> web.Response:
    return web.Response(status=403, text=f"请求被拒绝：{reason}。请回到管理页面重新操作。",
                        content_type="text/plain", charset="utf-8")


def redirect(location: str, **params: str) -> web.Response:
    """303 to ``location``, with ``params`` (Chinese notices) URL-encoded into the query."""
    if params:
        location += ("&" if "?" in location else "?") + urlencode(params)
    return web.Response(status=303, headers={"Location": location})


SECURITY_HEADERS = {
    # Everything is served from here: no CDN, no inline script.
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                               "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await _guard(request, handler)
    for k, v in SECURITY_HEADERS.items():
        response.headers.setdefault(k, v)
    return response


def _public(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in PUBLIC)


async def _form(request: web.Request) -> Any:
    try:
        return await request.post()
    except web.HTTPRequestEntityTooLarge:
        raise web.HTTPRequestEntityTooLarge(
            max_size=BODY_LIMIT, actual_size=request.content_length or 0,
            text="提交的内容太大（最多 3 MB；封面图片最大 2 MB）。请缩小图片后再试。", content_type="text/plain",
        ) from None


# The application's own limit is sized for webhook XML; staff forms may carry a cover image.
BODY_LIMIT = 3 * 1024 * 1024


async def _guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    post = request.method not in {"GET", "HEAD", "OPTIONS"}
    if post:
        request = request.clone(client_max_size=BODY_LIMIT)
    if post and not same_origin(request):
        return forbidden("来源不是本站")
    if _public(request.path):
        if post:
            form = await _form(request)
            cookie = request.cookies.get(LOGIN_COOKIE, "")
            if not cookie or not secrets.compare_digest(cookie, str(form.get("csrf", ""))):
                return forbidden("表单已失效")
        return await handler(request)
    staff, expired = await load_staff(request, utcnow())
    if staff is None:
        if post:
            return forbidden("未登录或登录已超时")
        return redirect("/admin/login" + ("?expired=1" if expired else ""))
    if post:
        form = await _form(request)
        if not secrets.compare_digest(staff.csrf, str(form.get("csrf", ""))):
            return forbidden("表单已失效（缺少或错误的安全令牌）")
    if getattr(handler, "pufa_admin_only", False) and not staff.is_admin:
        return web.Response(status=403, text="只有管理员可以打开这个页面。", charset="utf-8")
    request[STAFF] = staff
    return await handler(request)
