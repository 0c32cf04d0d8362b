"""/sandbox: a phone-like chat page where anyone can try the bot without a WeChat account.

Every message goes through the real webhook path: the page posts to /sandbox/chat/send, which signs
(and in safe mode encrypts) the message with FakeWeChat exactly as WeChat would and delivers it to
our own /wechat. Text, voice (a speech-recognition result, as WeChat delivers voice), menu clicks and
the resident commands (继续、原文、digits) are all just messages. Customer-service messages the sandbox
platform delivered to this resident (late answers, staff's replies to a 留言) are polled from its
``/sandbox/api/sent`` and shown too. Mounted in demo mode, or when
``admin.sandbox_chat`` is on; each browser is one pretend resident (a random openid in a cookie).
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bot.config import OFFICIAL_API_BASE
from sandbox.inbound import FakeWeChat

HERE = Path(__file__).resolve().parent
COOKIE = "pufa_sandbox"
MAX_TEXT = 600
KINDS = {"text", "voice", "click", "subscribe"}
MENU = (("TOPIC_labor", "劳动工资"), ("TOPIC_fraud", "防范诈骗"), ("TOPIC_land", "土地承包"),
        ("LEAVE_MESSAGE", "找工作人员"))


def _settings_and_http(request: web.Request) -> tuple[Any, Any]:
    from bot.app import HTTP, SETTINGS

    return request.config_dict[SETTINGS], request.config_dict[HTTP]


async def page(request: web.Request) -> web.StreamResponse:
    html = (HERE / "templates" / "chat.html").read_text(encoding="utf-8")
    menu = "".join(f'<button type="button" class="menu" data-key="{k}">{label}</button>' for k, label in MENU)
    resp = web.Response(text=html.replace("{{MENU}}", menu), content_type="text/html", charset="utf-8")
    if not request.cookies.get(COOKIE):
        resp.set_cookie(COOKIE, secrets.token_hex(8), httponly=True, samesite="Strict", path="/sandbox")
    resp.headers["Content-Security-Policy"] = "default-src 'self'; frame-ancestors 'none'"
    return resp


async def send(request: web.Request) -> web.StreamResponse:
    origin = request.headers.get("Origin", "")
    if not origin.endswith("://" + request.host):
        return web.json_response({"error": "来源不是本站"}, status=403)
    body = await request.json()
    kind, content = str(body.get("kind", "text")), str(body.get("content", "")).strip()[:MAX_TEXT]
    if kind not in KINDS or (kind in {"text", "voice"} and not content):
        return web.json_response({"error": "消息为空"}, status=400)
    openid = resident_openid(request)
    settings, http = _settings_and_http(request)
    w = settings.wechat
    fake = FakeWeChat(f"{request.scheme}://{request.host}/wechat", token=w.token.reveal(), appid=w.appid,
                      aes_key=w.aes_key.reveal(), mode="safe" if w.aes_key else "plain", session=http)
    if kind in {"text", "voice"} and _sandbox_api(settings):
        # As on WeChat, a resident's message opens the 48-hour customer-service window.
        await _call(http, "POST", _sandbox_api(settings) + "/inbound", {"openid": openid, "time": time.time()})
    if kind == "text":
        fields = fake.text(openid, content)
    elif kind == "voice":
        fields = fake.voice(openid, content)
    elif kind == "click":
        fields = fake.event(openid, "CLICK", content)
    else:
        fields = fake.event(openid, "subscribe")
    delivery = await fake.deliver(fields)
    return web.json_response({"reply": delivery.text, "status": delivery.status})


def resident_openid(request: web.Request) -> str:
    return "oSandboxChat" + (request.cookies.get(COOKIE) or "guest")[:16]


def _sandbox_api(settings: Any) -> str:
    """The sandbox platform's own endpoints, when the WeChat API in use is the sandbox's."""
    base = str(settings.wechat.api_base).rstrip("/")
    return "" if base == OFFICIAL_API_BASE else base + "/sandbox/api"


async def _call(http: aiohttp.ClientSession, method: str, url: str, body: Any = None) -> Any:
    try:
        async with http.request(method, url, json=body, timeout=aiohttp.ClientTimeout(total=5)) as resp:
            return await resp.json() if resp.status == 200 else None
    except (aiohttp.ClientError, TimeoutError, ValueError):
        return None


async def inbox(request: web.Request) -> web.StreamResponse:
    """Customer-service messages the platform delivered to this resident after the first ``after``:
    late answers, and staff's replies to a 留言 (sent from /admin/messages)."""
    settings, http = _settings_and_http(request)
    api = _sandbox_api(settings)
    sent = await _call(http, "GET", api + "/sent") if api else None
    openid = resident_openid(request)
    mine = [str(r.get("content", "")) for r in (sent or []) if r.get("kind") == "custom" and r.get("to") == openid]
    try:
        after = max(0, int(request.query.get("after", "0")))
    except ValueError:
        after = 0
    return web.json_response({"messages": mine[after:], "next": len(mine)})


def mount_chat(app: web.Application) -> None:
    app.router.add_get("/sandbox", page)
    app.router.add_post("/sandbox/chat/send", send)
    app.router.add_get("/sandbox/chat/inbox", inbox)
    app.router.add_static("/sandbox/chat-static", HERE / "static")
