"""/sandbox: a phone-like chat page where anyone can try the bot without a WeChat account.

Every message goes through the real webhook path: the page posts to /sandbox/chat/send, which signs
(and in safe mode encrypts) the message with FakeWeChat exactly as WeChat would and delivers it to
our own /wechat. Text, voice (a speech-recognition result, as WeChat delivers voice), menu clicks and
the resident commands (继续、原文、digits) are all just messages. Mounted in demo mode, or when
``admin.sandbox_chat`` is on; each browser is one pretend resident (a random openid in a cookie).
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from aiohttp import web

from sandbox.inbound import FakeWeChat

HERE = Path(__file__).resolve().parent
COOKIE = "pufa_sandbox"
MAX_TEXT = 600
KINDS = {"text", "voice", "click", "subscribe"}
MENU = (("TOPIC_labor", "劳动工资"), ("TOPIC_fraud", "防范诈骗"), ("TOPIC_land", "土地承包"), ("LEAVE_MESSAGE", "找工作人员"))


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
    openid = "oSandboxChat" + (request.cookies.get(COOKIE) or "guest")[:16]
    settings, http = _settings_and_http(request)
    w = settings.wechat
    platform = _platform(request)
    fake = FakeWeChat(f"{request.scheme}://{request.host}/wechat", token=w.token.reveal(), appid=w.appid,
                      aes_key=w.aes_key.reveal(), mode="safe" if w.aes_key else "plain", session=http,
                      on_inbound=platform.record_inbound if platform is not None else None)
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


def _platform(request: web.Request) -> Any:
    from sandbox.api import PLATFORM_KEY

    return request.config_dict.get(PLATFORM_KEY)


def mount_chat(app: web.Application) -> None:
    app.router.add_get("/sandbox", page)
    app.router.add_post("/sandbox/chat/send", send)
    app.router.add_static("/sandbox/chat-static", HERE / "static")
