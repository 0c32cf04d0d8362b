"""The API half of the sandbox: the subset of WeChat's official-account API that pufa calls.

Served as a real aiohttp application (``create_api_app``), so pufa's real HTTP client talks to it
over a socket. It keeps WeChat's rules where pufa depends on them: tokens from ``stable_token`` that
do not rotate, ``/cgi-bin/token`` invalidating the previous token, the customer-service window
(5 messages within 48 hours of the resident's last message), and error injection for tests.
Every accepted send is recorded and listed at ``GET /sandbox/api/sent``.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import logging
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

log = logging.getLogger("pufa.sandbox.api")

SHANGHAI = ZoneInfo("Asia/Shanghai")
CS_WINDOW = 48 * 3600
# WeChat remembers a clientmsgid for 24 hours.
CLIENTMSGID_TTL = 24 * 3600
_mass_ids = itertools.count(int(time.time()) % 100000 * 100000 + 1000000000)
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


@dataclass(frozen=True)
class Material:
    kind: str
    filename: str
    data: bytes


# WeChat's permanent image material: bmp/png/jpeg/gif by content, at most 10 MB (thumb: JPG, 64 KB).
IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"BM")
MATERIAL_LIMITS = {"image": 10 * 1024 * 1024, "thumb": 64 * 1024}


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
    # The custom menu last set through menu/create.
    menu: dict[str, Any] | None = None
    # -- mass send --
    followers: int = 1280
    drafts: dict[str, dict[str, Any]] = field(default_factory=dict)
    images: dict[str, int] = field(default_factory=dict)
    # Permanent material (material/add_material): media_id -> what was uploaded.
    materials: dict[str, Material] = field(default_factory=dict)
    # clientmsgid -> (msg_id, accepted at)
    clientmsgids: dict[str, tuple[int, float]] = field(default_factory=dict)
    mass: dict[int, dict[str, Any]] = field(default_factory=dict)
    # Where MASSSENDJOBFINISH goes (the webhook, through FakeWeChat.deliver); None = nowhere.
    event_sink: Callable[[dict[str, Any]], Awaitable[Any]] | None = None
    finish_delay: float = 1.0
    events_sent: list[dict[str, Any]] = field(default_factory=list)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

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


    def add_draft(self, payload: dict[str, Any]) -> dict[str, Any]:
        articles = payload.get("articles")
        if not isinstance(articles, list) or not articles:
            return {"errcode": 44003, "errmsg": "empty news data"}
        for a in articles:
            if not isinstance(a, dict) or not a.get("title") or len(str(a["title"])) > 32:
                return {"errcode": 45003, "errmsg": "title size out of limit"}
            if len(str(a.get("digest", ""))) > 128:
                return {"errcode": 45004, "errmsg": "description size out of limit"}
            if len(str(a.get("content", ""))) >= 20000:
                return {"errcode": 45002, "errmsg": "content size out of limit"}
            thumb = str(a.get("thumb_media_id", ""))
            # A news article needs a cover, and it must be permanent material of this account
            # (WeChat answers 40007 for a missing one too, whatever older pages say).
            if a.get("article_type", "news") == "news" and thumb not in self.materials:
                return {"errcode": 40007, "errmsg": "invalid media_id"}
        media_id = "draft_" + secrets.token_hex(12)
        self.drafts[media_id] = {"articles": articles}
        return {"media_id": media_id}

    def add_material(self, kind: str, filename: str, data: bytes) -> dict[str, Any]:
        if kind not in MATERIAL_LIMITS:
            return {"errcode": 40004, "errmsg": "invalid media type"}
        if not data:
            return {"errcode": 41005, "errmsg": "media data missing"}
        if len(data) > MATERIAL_LIMITS[kind]:
            return {"errcode": 40009, "errmsg": "invalid image size"}
        if not data.startswith(IMAGE_MAGIC[:1] if kind == "thumb" else IMAGE_MAGIC):
            return {"errcode": 40113, "errmsg": "unsupported file type"}
        media_id = "material_" + secrets.token_hex(16)
        self.materials[media_id] = Material(kind, filename, data)
        return {"media_id": media_id, "url": f"http://mmbiz.qpic.cn.invalid/sandbox/{media_id}/0"}

    def mass_sendall(self, payload: dict[str, Any]) -> dict[str, Any]:
        """WeChat's clientmsgid rule: a repeat within 24 h is refused with 45065 and the earlier msg_id."""
        now = self.clock()
        media_id = str(payload.get("mpnews", {}).get("media_id", ""))
        if payload.get("msgtype") != "mpnews" or media_id not in self.drafts:
            return {"errcode": 40007, "errmsg": "invalid media_id"}
        flt = payload.get("filter") or {}
        audience = "all" if flt.get("is_to_all") else f"tag:{flt.get('tag_id')}"
        if audience == "tag:None":
            return {"errcode": 40003, "errmsg": "invalid filter"}
        cid = str(payload.get("clientmsgid", ""))
        if len(cid.encode()) > 64:
            return {"errcode": 40003, "errmsg": "clientmsgid too long"}
        if cid and cid in self.clientmsgids and now - self.clientmsgids[cid][1] < CLIENTMSGID_TTL:
            return {"errcode": 45065, "errmsg": "clientmsgid exist", "msg_id": self.clientmsgids[cid][0]}
        msg_id = next(_mass_ids)
        if cid:
            self.clientmsgids[cid] = (msg_id, now)
        title = str(self.drafts[media_id]["articles"][0].get("title", ""))
        self.mass[msg_id] = {"status": "SENDING", "audience": audience, "title": title}
        self.sent.append(SentRecord("wechat", "mass", audience, media_id, now, clientmsgid=cid, msg_id=msg_id,
                                    audience=audience, title=title))
        self._finish_later(msg_id)
        return {"errcode": 0, "errmsg": "send job submission success", "msg_id": msg_id,
                "msg_data_id": msg_id % 10**9}

    def _finish_later(self, msg_id: int) -> None:
        async def finish() -> None:
            await asyncio.sleep(self.finish_delay)
            total = self.followers
            self.mass[msg_id]["status"] = "SEND_SUCCESS"
            fields = {"MsgID": msg_id, "Status": "send success", "TotalCount": total, "FilterCount": total,
                      "SentCount": total, "ErrorCount": 0}
            self.events_sent.append(fields)
            if self.event_sink is not None:
                try:
                    await self.event_sink(fields)
                except Exception:
                    log.warning("MASSSENDJOBFINISH delivery failed", exc_info=True)

        try:
            task = asyncio.get_running_loop().create_task(finish())
        except RuntimeError:  # no loop (pure unit use): the event is simply not sent
            return
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def mass_get(self, payload: dict[str, Any]) -> dict[str, Any]:
        try:
            msg_id = int(payload.get("msg_id", 0))
        except (TypeError, ValueError):
            msg_id = 0
        if msg_id not in self.mass:
            return {"errcode": 40003, "errmsg": "invalid msg_id"}
        return {"msg_id": msg_id, "msg_status": self.mass[msg_id]["status"]}

    def mass_preview(self, payload: dict[str, Any]) -> dict[str, Any]:
        media_id = str(payload.get("mpnews", {}).get("media_id", ""))
        if media_id not in self.drafts:
            return {"errcode": 40007, "errmsg": "invalid media_id"}
        openid = str(payload.get("touser", ""))
        if not openid:
            return {"errcode": 40003, "errmsg": "invalid openid"}
        title = str(self.drafts[media_id]["articles"][0].get("title", ""))
        self.sent.append(SentRecord("wechat", "preview", openid, media_id, self.clock(), audience=openid,
                                    title=title))
        return {"errcode": 0, "errmsg": "preview success", "msg_id": next(_mass_ids)}


PLATFORM_KEY = web.AppKey("sandbox_platform", SandboxPlatform)


def _fault(platform: SandboxPlatform, path: str) -> int | str | None:
    queue = platform.faults.get(path)
    return queue.popleft() if queue else None


async def _apply_fault(fault: int | str | None) -> web.Response | None:
    if fault is None:
        return None
    if isinstance(fault, str) and fault.startswith(("slow_before:", "slow_after:")):
        return None  # handled by the endpoint (delay before / after accepting)
    if fault == "timeout":
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


async def _json_endpoint(request: web.Request, name: str,
                         handle: Callable[[dict[str, Any]], dict[str, Any]]) -> web.Response:
    platform = request.app[PLATFORM_KEY]
    platform.calls.append(name)
    if (resp := _authorised(request, platform)) is not None:
        return resp
    fault = _fault(platform, name)
    if (resp := await _apply_fault(fault)) is not None:
        return resp
    try:
        body = await request.json()
    except ValueError:
        return web.json_response({"errcode": 47001, "errmsg": "data format error"})
    if not isinstance(body, dict):
        return web.json_response({"errcode": 47001, "errmsg": "data format error"})
    delay_before = _delay(fault, "slow_before:")
    if delay_before:
        await asyncio.sleep(delay_before)
    answer = handle(body)
    delay_after = _delay(fault, "slow_after:")
    if delay_after:
        # Accepted (and recorded) already: the caller sees the answer late, or never if it dies.
        await asyncio.sleep(delay_after)
    return web.json_response(answer)


def _delay(fault: int | str | None, prefix: str) -> float:
    if isinstance(fault, str) and fault.startswith(prefix):
        return float(fault[len(prefix):])
    return 0.0


async def draft_add(request: web.Request) -> web.Response:
    return await _json_endpoint(request, "draft_add", request.app[PLATFORM_KEY].add_draft)


async def mass_sendall(request: web.Request) -> web.Response:
    return await _json_endpoint(request, "sendall", request.app[PLATFORM_KEY].mass_sendall)


async def mass_preview(request: web.Request) -> web.Response:
    return await _json_endpoint(request, "preview", request.app[PLATFORM_KEY].mass_preview)


async def mass_get(request: web.Request) -> web.Response:
    return await _json_endpoint(request, "mass_get", request.app[PLATFORM_KEY].mass_get)


async def uploadimg(request: web.Request) -> web.Response:
    platform = request.app[PLATFORM_KEY]
    platform.calls.append("uploadimg")
    if (resp := _authorised(request, platform)) is not None:
        return resp
    if (resp := await _apply_fault(_fault(platform, "uploadimg"))) is not None:
        return resp
    form = await request.post()
    media = form.get("media")
    if not isinstance(media, web.FileField):
        return web.json_response({"errcode": 41005, "errmsg": "media data missing"})
    data = media.file.read()
    if len(data) > 1024 * 1024:
        return web.json_response({"errcode": 40009, "errmsg": "invalid image size"})
    name = secrets.token_hex(8)
    platform.images[name] = len(data)
    return web.json_response({"url": f"http://mmbiz.qpic.cn.invalid/sandbox/{name}/0"})


async def add_material(request: web.Request) -> web.Response:
    platform = request.app[PLATFORM_KEY]
    platform.calls.append("add_material")
    if (resp := _authorised(request, platform)) is not None:
        return resp
    if (resp := await _apply_fault(_fault(platform, "add_material"))) is not None:
        return resp
    # Mounted inside pufa in demo mode, whose own body limit is for webhook XML.
    form = await request.clone(client_max_size=MATERIAL_LIMITS["image"] + 64 * 1024).post()
    media = form.get("media")
    if not isinstance(media, web.FileField):
        return web.json_response({"errcode": 41005, "errmsg": "media data missing"})
    return web.json_response(platform.add_material(request.query.get("type", ""), media.filename,
                                                   media.file.read()))


async def user_get(request: web.Request) -> web.Response:
    platform = request.app[PLATFORM_KEY]
    if (resp := _authorised(request, platform)) is not None:
        return resp
    return web.json_response({"total": platform.followers, "count": 0, "data": {"openid": []},
                              "next_openid": ""})


DATACUBE_MAX_DAYS = 7


def _datacube_days(body: dict[str, Any], today: date) -> list[date] | dict[str, Any]:
    try:
        begin = date.fromisoformat(str(body["begin_date"]))
        end = date.fromisoformat(str(body["end_date"]))
    except (KeyError, ValueError):
        return {"errcode": 40097, "errmsg": "invalid args"}
    if end < begin or (end - begin).days >= DATACUBE_MAX_DAYS:
        return {"errcode": 61501, "errmsg": "date range error"}
    if end >= today:
        # A day's figures exist only from the next morning on.
        return {"errcode": 61500, "errmsg": "date format error or data not ready"}
    return [begin + timedelta(days=i) for i in range((end - begin).days + 1)]


def _daily_figures(day: date) -> tuple[int, int]:
    """Deterministic made-up follower movement for one day (new, cancelled)."""
    h = int(hashlib.sha1(day.isoformat().encode()).hexdigest()[:8], 16)
    return 3 + h % 17, h // 17 % 5


async def datacube(request: web.Request) -> web.Response:
    """``datacube/getusersummary`` and ``getusercumulate`` (≤ 7 days a call, up to yesterday)."""
    platform = request.app[PLATFORM_KEY]
    name = request.match_info["name"]
    platform.calls.append(name)
    if (resp := _authorised(request, platform)) is not None:
        return resp
    if (resp := await _apply_fault(_fault(platform, name))) is not None:
        return resp
    try:
        body = await request.json()
    except ValueError:
        return web.json_response({"errcode": 47001, "errmsg": "data format error"})
    today = datetime.fromtimestamp(platform.clock(), SHANGHAI).date()
    days = _datacube_days(body if isinstance(body, dict) else {}, today)
    if isinstance(days, dict):
        return web.json_response(days)
    if name == "getusersummary":
        rows = [{"ref_date": d.isoformat(), "user_source": 0, "new_user": n, "cancel_user": c}
                for d in days for n, c in [_daily_figures(d)]]
    else:
        rows = [{"ref_date": d.isoformat(), "cumulate_user": cumulate(platform.followers, d)} for d in days]
    return web.json_response({"list": rows})


# getusercumulate is anchored to a fixed day (followers = ``SandboxPlatform.followers`` at its end),
# so every call, whatever its window or the day it is made, agrees with getusersummary:
# cumulate(d) - cumulate(d - 1) == new_user(d) - cancel_user(d).
CUMULATE_ANCHOR = date(2026, 1, 1)


def cumulate(followers: int, day: date) -> int:
    total = followers
    step = 1 if day > CUMULATE_ANCHOR else -1
    d = CUMULATE_ANCHOR
    while d != day:
        if step > 0:
            d += timedelta(days=1)
            n, c = _daily_figures(d)
            total += n - c
        else:
            n, c = _daily_figures(d)
            total -= n - c
            d -= timedelta(days=1)
    return total


MENU_TYPES = {"click", "view", "scancode_push", "scancode_waitmsg", "pic_sysphoto", "pic_photo_or_album",
              "pic_weixin", "location_select", "media_id", "article_id", "article_view_limited", "miniprogram"}


def _menu_error(menu: Any) -> tuple[int, str] | None:
    """WeChat's menu/create rules: 1-3 buttons (≤16 bytes), each 1-5 sub-buttons (≤60 bytes)."""
    buttons = menu.get("button") if isinstance(menu, dict) else None
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
        return 40016, "invalid button size"
    for b in buttons:
        if not isinstance(b, dict) or not 0 < len(str(b.get("name", "")).encode()) <= 16:
            return 40018, "invalid button name size"
        subs = b.get("sub_button")
        if subs:
            if not isinstance(subs, list) or len(subs) > 5:
                return 40023, "invalid sub button size"
            for sb in subs:
                if not isinstance(sb, dict) or sb.get("type") not in MENU_TYPES:
                    return 40024, "invalid sub button type"
                if not 0 < len(str(sb.get("name", "")).encode()) <= 60:
                    return 40025, "invalid sub button name size"
                if sb["type"] == "click" and not 0 < len(str(sb.get("key", "")).encode()) <= 128:
                    return 40026, "invalid sub button key size"
        elif b.get("type") not in MENU_TYPES:
            return 40017, "invalid button type"
    return None


async def menu_create(request: web.Request) -> web.Response:
    platform = request.app[PLATFORM_KEY]
    platform.calls.append("menu_create")
    if (resp := _authorised(request, platform)) is not None:
        return resp
    raw = await request.read()
    if b"\\u" in raw:
        return web.json_response({"errcode": 40033, "errmsg": "invalid charset. please check your request"})
    try:
        menu = json.loads(raw)
    except ValueError:
        return web.json_response({"errcode": 47001, "errmsg": "data format error"})
    if (error := _menu_error(menu)) is not None:
        return web.json_response({"errcode": error[0], "errmsg": error[1]})
    platform.menu = menu
    return web.json_response({"errcode": 0, "errmsg": "ok"})


async def menu_get(request: web.Request) -> web.Response:
    return web.json_response({"menu": request.app[PLATFORM_KEY].menu})


async def faults(request: web.Request) -> web.Response:
    """Sandbox-only: inject failures from another process, ``{"path": "sendall", "codes": [-1, 45066]}``."""
    body = await request.json()
    request.app[PLATFORM_KEY].inject(str(body["path"]), *body.get("codes", []))
    return web.json_response({"errcode": 0})


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
    app.router.add_post("/cgi-bin/media/uploadimg", uploadimg)
    app.router.add_post("/cgi-bin/material/add_material", add_material)
    app.router.add_post("/cgi-bin/draft/add", draft_add)
    app.router.add_post("/cgi-bin/message/mass/sendall", mass_sendall)
    app.router.add_post("/cgi-bin/message/mass/preview", mass_preview)
    app.router.add_post("/cgi-bin/message/mass/get", mass_get)
    app.router.add_get("/cgi-bin/user/get", user_get)
    app.router.add_post(r"/datacube/{name:getusersummary|getusercumulate}", datacube)
    app.router.add_post("/cgi-bin/menu/create", menu_create)
    app.router.add_get("/sandbox/api/menu", menu_get)
    app.router.add_post("/sandbox/api/faults", faults)
    app.router.add_get("/sandbox/api/sent", sent)
    app.router.add_post("/sandbox/api/inbound", inbound)
    return app
