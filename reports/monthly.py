"""The monthly report job: on the 1st, last month's files into ``[reports] output_dir`` and a headline
message for staff.

Not yet wired into the service (bot/app.py): the caller decides when to run it and how to deliver
``headline`` (the DingTalk robot of the scheduler). Running it twice for a month rewrites the same
files; each run is audited like any export (actor ``monthly-job``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from reports.figures import Report
from reports.period import SHANGHAI, Period, previous_month
from reports.rows import fmt
from reports.service import default_path, produce

FILE_FORMATS = ("xlsx", "docx", "png", "json")
ACTOR = "monthly-job"
HEADLINE = ("【普法助手】{label}统计：推送法律知识{pushes}条（公众号{wechat}、钉钉{dingtalk}），"
            "收到群众咨询{received}条，答复率{rate}，留言{left}条（已回复{replied}），"
            "新增关注{new}人、取消{lost}人，线下活动{acts}次。报表已生成：{folder}")

Notify = Callable[[str], Awaitable[None]]


@dataclass(frozen=True)
class MonthlyResult:
    period: Period
    files: list[Path]
    headline: str


def headline(report: Report, folder: str) -> str:
    t = report.total
    return HEADLINE.format(
        label=report.period.label, pushes=t.pushes.total, wechat=t.pushes.by_channel.get("wechat", 0),
        dingtalk=t.pushes.by_channel.get("dingtalk", 0), received=t.questions.received,
        rate=fmt(t.questions.answer_rate, percent=True), left=t.staff.received, replied=t.staff.replied,
        new=t.followers.new, lost=t.followers.lost, acts=t.activity_total.count, folder=folder)


async def run_monthly(sessions: async_sessionmaker[AsyncSession], settings: Settings, *,
                      today: date | None = None, notify: Notify | None = None) -> MonthlyResult:
    day = today or datetime.now(SHANGHAI).date()
    period = previous_month(day)
    files: list[Path] = []
    report: Report | None = None
    for f in FILE_FORMATS:
        produced = await produce(sessions, settings, period, f, output=default_path(settings, period, f),
                                 actor=ACTOR)
        assert produced.path is not None
        files.append(produced.path)
        report = produced.report
    assert report is not None
    text = headline(report, settings.reports.output_dir)
    if notify is not None:
        await notify(text)
    return MonthlyResult(period, files, text)
