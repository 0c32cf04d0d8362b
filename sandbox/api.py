"""The API half of the sandbox: the subset of WeChat's official-account API that pufa calls.

Served as a real aiohttp application (``create_api_app``), so pufa's real HTTP client talks to it
over a socket. It keeps WeChat's rules where pufa depends on them: tokens from ``stable_token`` that
do not rotate, ``/cgi-bin/token`` invalidating the previous token, the customer-service window
(5 messages within 48 hours of the resident's last message), and error injection for tests.
Every accepted send is recorded and listed at ``GET /sandbox/api/sent``.
"""

from __future__ import annotations

import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from aiohttp import web

CS_WINDOW = 48 * 3600
CS_LIMIT = 5
TOKEN_TTL = 7200


@dataclass
class SentRecord:
    channel: str
    kind: str
    to: str
    content: str
    time: float
    clientmsgid: str = ""
    msg_id: int = 0
    audience: str = ""
    title: str = ""


@dataclass
class SandboxPlatform:
    """WeChat's side of one official account, in memory."""

    appid: str
    secret: str
    clock: Callable[[], float] = time.time
    tokens: dict[str, float] = field(default_factory=dict)
    stable_token: tuple[str, float] | None = None
    sent: list[SentRecord] = field(default_factory=list)
    # openid -> (time of last inbound message, messages sent since)
    windows: dict[str, tuple[float, int]] = field(default_factory=dict)
    # Injected failures: path suffix -> queue of errcodes (or "timeout"/"500").
    faults: dict[str, deque[int | str]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)

    def record_inbound(self, openid: str, at: float) -> None:
        self.windows[openid] = (at, 0)

    def inject(self, path: str, *codes: int | str) -> None:
        self.faults.setdefault(path, deque()).extend(codes)

    def issue_token(self, rotate: bool) -> tuple[str, int]:
        now = self.clock()
        if not rotate and self.stable_token and self.stable_token[1] > now:
            return self.stable_token[0], int(self.stable_token[1] - now)
        token = secrets.token_urlsafe(32)
        if rotate:
            # /cgi-bin/token: the previous tokens stay valid for a 5-minute overlap only.
            self.tokens = {t: min(exp, now + 300) for t, exp in self.tokens.items()}
        self.tokens[token] = now + TOKEN_TTL
        if not rotate:
            self.stable_token = (token, now + TOKEN_TTL)
        return token, TOKEN_TTL

    def token_valid(self, token: str) -> bool:
        return self.tokens.get(token, 0) > self.clock()

    def custom_send(self, payload: dict[str, Any]) -> dict[str, Any]:
        openid = str(payload.get("touser", ""))
        window = self.windows.get(openid)
        now = self.clock()
        if window is None or now - window[0] > CS_WINDOW:
            return {"errcode": 45015, "errmsg": "response out of time limit or subscription is canceled"}
        if window[1] >= CS_LIMIT:
            return {"errcode": 45047, "errmsg": "out of response count limit"}
        content = str(payload.get("text", {}).get("content", ""))
        if len(content.encode("utf-8")) > 2048:
            return {"errcode": 45002, "errmsg": "content size out of limit"}
        self.windows[openid] = (window[0], window[1] + 1)
        self.sent.append(SentRecord("wechat", "custom", openid, content, now))
        return {"errcode": 0, "errmsg": "ok"}


PLATFORM_KEY = web.AppKey("sandbox_platform", SandboxPlatform)


def _fault(platform: SandboxPlatform, path: str) -> int | str | None:
    queue = platform.faults.get(path)
    return queue.popleft() if queue else None


async def _apply_fault(fault: int | str | None) -> web.Response | None:
    if fault is None:
        return None
    if fault == "timeout":
        import asyncio

        await asyncio.sleep(3600)
    if fault == "500":
        return web.Response(status=500, text="<html>server error</html>")
    return web.json_response({"errcode": int(fault), "errmsg": f"injected {fault}"})


def _authorised(request: web.Request, platform: SandboxPlatform) -> web.Response | None:
    if not platform.token_valid(request.query.get("access_token", "")):
        return web.json_response({"errcode": 40001, "errmsg": "invalid credential, access_token is invalid"})
    return None


async def stable_token(request: web.Request) -> web.Response:
    platform = request.app[PLATFORM_KEY]
    platform.calls.append("stable_token")
    if (resp := await _apply_fault(_fault(platform, "stable_token"))) is not None:
        return resp
    body = await request.json()
    if body.get("appid") != platform.appid or body.get("secret") != platform.secret:
        return web.json_response({"errcode": 40125, "errmsg": "invalid appsecret"})
    token, ttl = platform.issue_token(rotate=bool(body.get("force_refresh")))
    return web.json_response({"access_token": token, "expires_in": ttl})


async def token(request: web.Request) -> web.Response:
    platform = request.app[PLATFORM_KEY]
    platform.calls.append("token")
    q = request.query
    if q.get("appid") != platform.appid or q.get("secret") != platform.secret:
        return web.json_response({"errcode": 40125, "errmsg": "invalid appsecret"})
    value, ttl = platform.issue_token(rotate=True)
    return web.json_response({"access_token": value, "expires_in": ttl})


async def custom_send(request: web.Request) -> web.Response:
    platform = request.app[PLATFORM_KEY]
    platform.calls.append("custom_send")
    if (resp := _authorised(request, platform)) is not None:
        return resp
    if (resp := await _apply_fault(_fault(platform, "custom_send"))) is not None:
        return resp
    return web.json_response(platform.custom_send(await request.json()))


async def inbound(request: web.Request) -> web.Response:
    """Sandbox-only: a resident message seen by another process's FakeWeChat opens the 48 h window."""
    body = await request.json()
    request.app[PLATFORM_KEY].record_inbound(str(body.get("openid", "")), float(body.get("time", time.time())))
    return web.json_response({"errcode": 0})


async def sent(request: web.Request) -> web.Response:
    return web.json_response([asdict(r) for r in request.app[PLATFORM_KEY].sent])


def create_api_app(platform: SandboxPlatform) -> web.Application:
    app = web.Application()
    app[PLATFORM_KEY] = platform
    app.router.add_post("/cgi-bin/stable_token", stable_token)
    app.router.add_get("/cgi-bin/token", token)
    app.router.add_post("/cgi-bin/message/custom/send", custom_send)
    app.router.add_get("/sandbox/api/sent", sent)
    app.router.add_post("/sandbox/api/inbound", inbound)
    return app
