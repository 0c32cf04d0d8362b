"""台账与报表: add and edit activity-ledger rows (reports/ledger.py validates them) and download the
xlsx/docx report of a month or a year (reports/service.py, which records the export; the admin audit
log records it too)."""

from __future__ import annotations

import asyncio
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from admin import audit
from admin.security import client_address, redirect
from admin.web import LIVE, SESSIONS, render, staff_of
from bot.config import Settings
from bot.db.base import utcnow
from bot.db.session import create_engine, create_sessionmaker
from reports import ledger, period
from reports.models import LedgerActivity
from reports.period import SHANGHAI, Period, PeriodError

routes = web.RouteTableDef()
MIME = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}
FIELDS = ("day", "kind", "place", "organiser", "participants", "materials", "notes")


@routes.get("/ledger")
async def ledger_page(request: web.Request) -> web.StreamResponse:
    now = datetime.now(SHANGHAI)
    month = request.query.get("month", f"{now:%Y-%m}")
    try:
        p = period.month(month)
    except PeriodError:
        p = period.month(f"{now:%Y-%m}")
    async with request.config_dict[SESSIONS]() as s:
        rows = await ledger.listing(s, p.first, p.last)
    edit = request.query.get("edit", "")
    edit_id = int(edit) if edit.isdigit() else 0
    editing = next((r for r in rows if r.id == edit_id), None)
    return render(request, "ledger.html", active="ledger", rows=rows, month=p.key, label=p.label, editing=editing,
                  types=request.config_dict[LIVE].current.reports.activity_type_list,
                  error=request.query.get("error", ""),
                  notice=request.query.get("notice", ""), this_year=now.year, today=now.date().isoformat())


@routes.post("/ledger/save")
async def ledger_save(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    values: dict[str, Any] = {k: str(form.get(k, "")) for k in FIELDS}
    types = request.config_dict[LIVE].current.reports.activity_type_list
    raw_id = str(form.get("id") or "")
    row_id = int(raw_id) if raw_id.isdigit() else 0
    try:
        item = ledger.validate(values, types)
    except ValueError as exc:
        return redirect("/admin/ledger", error=str(exc))
    actor = staff_of(request).name
    async with request.config_dict[SESSIONS]() as s, s.begin():
        if row_id:
            row = await s.get(LedgerActivity, row_id)
            if row is None:
                raise web.HTTPNotFound(text="没有这条台账")
            for key in FIELDS:
                setattr(row, key, getattr(item, key))
            row.updated_at = utcnow()
        else:
            row_id = (await ledger.add_all(s, [item], actor))[0]
        await audit.record(s, actor, "edit", f"台账 #{row_id}", f"{item.day} {item.kind} {item.place}")
    return redirect(f"/admin/ledger?month={item.day:%Y-%m}", notice="已保存")


def produce_blocking(settings: Settings, p: Period, fmt: str, out: Path, actor: str) -> None:
    # Imported here: the report renderers pull in matplotlib, docx and openpyxl (≈1 s), which
    # `pufa serve` would otherwise load at start for a page that staff open now and then.
    from reports.service import produce

    async def run() -> None:
        engine = create_engine(settings.database.url, busy_timeout=settings.database.busy_timeout)
        try:
            await produce(create_sessionmaker(engine), settings, p, fmt, output=out, actor=actor)
        finally:
            await engine.dispose()

    asyncio.run(run())


@routes.get("/report")
async def report_download(request: web.Request) -> web.StreamResponse:
    fmt = request.query.get("format", "xlsx")
    if fmt not in MIME:
        raise web.HTTPBadRequest(text="格式只能是 xlsx 或 docx")
    try:
        if request.query.get("kind") == "year":
            p = period.year(request.query.get("year", ""))
        else:
            p = period.month(request.query.get("month", ""))
    except PeriodError as exc:
        return redirect("/admin/ledger", error=str(exc))
    staff = staff_of(request)
    settings = request.config_dict[LIVE].current  # the rounding rule admins set on the 设置 page
    with tempfile.TemporaryDirectory(prefix="pufa-report-") as tmp:
        out = Path(tmp) / f"pufa-report-{p.key}.{fmt}"
        # Writing xlsx/docx (and the chart) is CPU work: a worker thread with its own loop and engine
        # keeps the webhook answering within WeChat's 5 s meanwhile.
        await asyncio.get_running_loop().run_in_executor(
            None, produce_blocking, settings, p, fmt, out, f"admin:{staff.name}")
        data = out.read_bytes()
    await audit.log(request.config_dict[SESSIONS], staff.name, "export", f"报表 {p.key}", fmt, client_address(request))
    name = f"普法报表-{p.key}.{fmt}"
    from urllib.parse import quote

    return web.Response(body=data, content_type=MIME[fmt], headers={
        "Content-Disposition": f"attachment; filename=\"pufa-report-{p.key}.{fmt}\"; filename*=UTF-8''{quote(name)}"})
