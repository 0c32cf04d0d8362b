"""留言: messages residents left for staff, answered as a customer-service message within WeChat's
48-hour window (counted from the resident's last message); overdue ones are highlighted. The texts
are residents' own words: admins only."""

from __future__ import annotations

from datetime import datetime, timedelta

from aiohttp import web
from sqlalchemy import select, update

from admin import audit
from admin.security import redirect, requires_admin
from admin.web import SESSIONS, WECHAT, render, staff_of
from bot.db.base import utcnow
from bot.db.models import StaffMessage
from bot.wechat.client import WechatApiError, WechatTransportError

routes = web.RouteTableDef()
WINDOW = timedelta(hours=48)
REPLY_MAX = 600


def window_left(msg: StaffMessage, now: datetime) -> timedelta:
    return msg.last_inbound_at + WINDOW - now


@routes.get("/messages")
@requires_admin
async def queue(request: web.Request) -> web.StreamResponse:
    show_all = request.query.get("all") == "1"
    async with request.config_dict[SESSIONS]() as s:
        q = select(StaffMessage).order_by(StaffMessage.replied_at.is_not(None), StaffMessage.created_at.desc())
        if not show_all:
            q = q.where(StaffMessage.replied_at.is_(None))
        rows = list((await s.execute(q.limit(300))).scalars())
    now = utcnow()
    items = [{"m": m, "left_h": window_left(m, now).total_seconds() / 3600} for m in rows]
    return render(request, "messages.html", active="messages", items=items, show_all=show_all,
                  notice=request.query.get("notice", ""), error=request.query.get("error", ""))


@routes.post("/messages/{id:\\d+}/reply")
@requires_admin
async def reply(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    text = str(form.get("text", "")).strip()
    mid = int(request.match_info["id"])
    if not text or len(text) > REPLY_MAX:
        return redirect("/admin/messages", error=f"回复不能为空，最多 {REPLY_MAX} 字")
    sessions = request.config_dict[SESSIONS]
    async with sessions() as s:
        msg = await s.get(StaffMessage, mid)
    if msg is None:
        raise web.HTTPNotFound(text="没有这条留言")
    if msg.replied_at is not None:
        return redirect("/admin/messages", error="这条留言已经回复过了")
    if window_left(msg, utcnow()) <= timedelta(0):
        return redirect("/admin/messages", error="已超过48小时，微信不允许再发客服消息，请电话联系群众")
    client = request.config_dict.get(WECHAT)
    if client is None:
        return redirect("/admin/messages", error="未配置微信公众号，无法发送")
    try:
        await client.send_text(msg.openid, text)
    except WechatApiError as exc:
        return redirect("/admin/messages", error=f"微信拒绝发送（{exc.errcode}）：{exc.errmsg}")
    except WechatTransportError:
        return redirect("/admin/messages", error="连接微信失败，请稍后再试")
    staff = staff_of(request)
    async with sessions() as s, s.begin():
        await s.execute(update(StaffMessage).where(StaffMessage.id == mid)
                        .values(replied_at=utcnow(), reply_text=text, replied_by=staff.name))
        await audit.record(s, staff.name, "reply", f"留言 #{mid}", "")
    return redirect("/admin/messages", notice="已回复")
