"""首页: this month's headline figures (reports/figures.py) with a six-month trend, what is scheduled
next, posts needing attention and residents' messages waiting."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from aiohttp import web
from sqlalchemy import func, select

from admin.web import SESSIONS, SETTINGS, render
from bot.db.models import StaffMessage
from reports.figures import compute
from reports.period import SHANGHAI, date_range
from scheduler.alerts import alerted_posts
from scheduler.models import FAILED, NEEDS_ATTENTION, SCHEDULED
from scheduler.posts import list_posts, open_alerts

routes = web.RouteTableDef()
TREND_MONTHS = 6


def trend_start(today: date) -> date:
    y, m = today.year, today.month - (TREND_MONTHS - 1)
    while m < 1:
        y, m = y - 1, m + 12
    return date(y, m, 1)


def bars(values: list[tuple[str, int, int]]) -> list[dict[str, object]]:
    """Bar heights (0–100) for the SVG trend: questions received and answered per month."""
    top = max([v for _, v, _ in values] + [1])
    return [{"label": label, "received": r, "answered": a, "h_r": round(r * 100 / top), "h_a": round(a * 100 / top)}
            for label, r, a in values]


@routes.get("/")
async def dashboard(request: web.Request) -> web.StreamResponse:
    sessions, settings = request.config_dict[SESSIONS], request.config_dict[SETTINGS]
    today = datetime.now(SHANGHAI).date()
    period = date_range(trend_start(today).isoformat(), today.isoformat())
    async with sessions() as s:
        await s.connection(execution_options={"pufa_readonly": True})
        report = await compute(s, period, settings.reports)
        waiting = (await s.execute(select(func.count()).select_from(StaffMessage)
                                   .where(StaffMessage.replied_at.is_(None)))).scalar_one()
    month = report.months[-1]
    trend = bars([(f.first.strftime("%m月"), f.questions.received, f.questions.answered) for f in report.months])
    scheduled = (await list_posts(sessions, SCHEDULED))[:5]
    # A post with an alert is shown through its alert, and leaves once staff mark the alert handled.
    alerted = await alerted_posts(sessions)
    attention = [p for p in await list_posts(sessions) if p.state in {NEEDS_ATTENTION, FAILED}
                 and p.id not in alerted and p.updated_at > datetime.now(SHANGHAI) - timedelta(days=30)]
    alerts = await open_alerts(sessions)
    top_unanswered = month.unanswered_groups.most_common(5)
    return render(request, "dashboard.html", active="dashboard", month=month, trend=trend, scheduled=scheduled,
                  attention=attention, alerts=alerts, waiting=waiting, top_unanswered=top_unanswered,
                  notice=request.query.get("notice", ""))
