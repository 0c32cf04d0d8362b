"""提醒: staff alerts raised by the scheduler (posts needing attention, failed sends, campaign dates
with nothing queued), marked handled (已处理) by any staff member; who and when is kept on the alert
and in the audit log, and a handled alert leaves the dashboard."""

from __future__ import annotations

from aiohttp import web

from admin import audit
from admin.security import client_address, redirect
from admin.web import SESSIONS, render, staff_of
from scheduler.alerts import AlreadyAcknowledged, acknowledge, acknowledged
from scheduler.posts import open_alerts

routes = web.RouteTableDef()
KIND_NAMES = {"reminder": "宣传日提醒", "failed": "发送失败", "needs_attention": "需人工处理", "missed": "停机错过"}
# Where the button may send staff back to (never an address taken from the form as it is).
RETURN_TO = {"dashboard": "/admin/", "alerts": "/admin/alerts"}


@routes.get("/alerts")
async def alerts_page(request: web.Request) -> web.StreamResponse:
    sessions = request.config_dict[SESSIONS]
    return render(request, "alerts.html", active="alerts", open=await open_alerts(sessions),
                  done=await acknowledged(sessions), kind_names=KIND_NAMES, notice=request.query.get("notice", ""))


@routes.post("/alerts/{id:\\d+}/ack")
async def alert_ack(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    back = RETURN_TO.get(str(form.get("back", "")), "/admin/alerts")
    alert_id = int(request.match_info["id"])
    actor = staff_of(request).name
    try:
        async with request.config_dict[SESSIONS]() as s, s.begin():
            alert = await acknowledge(s, alert_id, actor)
            if alert is None:
                return redirect(back, notice="没有这条提醒")
            await audit.record(s, actor, "ack", f"提醒 #{alert_id}", alert.message[:200], client_address(request))
    except AlreadyAcknowledged as exc:
        return redirect(back, notice=f"这条提醒已由 {exc.by} 处理")
    return redirect(back, notice="已标记为已处理")
