"""The xlsx workbook: a summary sheet with native Excel charts, then one sheet per month.

Charts are openpyxl's native chart parts (bar and line), which Excel and WPS draw themselves — no
pictures, so staff can restyle them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.worksheet import Worksheet

from bot.config import ReportsSettings
from reports.figures import Figures, Report, top
from reports.rows import ROWS
from reports.texts import MessageText
from reports.wording import paragraphs

SUMMARY = "汇总"
TRENDS = "月度趋势"
TEXTS = "咨询原文"
BOLD = Font(bold=True)


def write(report: Report, settings: ReportsSettings, path: Path, texts: list[MessageText] | None = None) -> None:
    wb = Workbook()
    summary = wb.active
    assert summary is not None
    summary.title = SUMMARY
    _figures_sheet(summary, report, report.total, settings, with_text=True)
    _trends(wb.create_sheet(TRENDS), report)
    for month in report.months:
        _figures_sheet(wb.create_sheet(month.key), report, month, settings, with_text=False)
    if texts is not None:
        _texts(wb.create_sheet(TEXTS), texts)
    wb.save(path)


def _figures_sheet(ws: Worksheet, report: Report, f: Figures, settings: ReportsSettings, *, with_text: bool) -> None:
    ws["A1"] = f"{f.label}普法宣传统计"
    ws["A1"].font = Font(bold=True, size=14)
    ws.append([])
    ws.append(["指标", "数值"])
    for cell in ws[3]:
        cell.font = BOLD
    for row in ROWS:
        value = row.get(f)
        ws.append([row.label, value])
        if row.percent and value is not None:
            ws.cell(ws.max_row, 2).number_format = "0.0%"
    ws.append([])
    ws.append(["热门咨询主题", "自动答复（条）"])
    ws.cell(ws.max_row, 1).font = BOLD
    for k, n in top(f.topics, report.top_n):
        ws.append([report.topic_names.get(k, k), n])
    ws.append([])
    ws.append(["未能答复的关键词", "次数"])
    ws.cell(ws.max_row, 1).font = BOLD
    for k, n in top(f.unanswered_groups, report.top_n):
        ws.append([k, n])
    ws.append([])
    ws.append(["宣传节点", "日期", "推送条数", "是否覆盖"])
    ws.cell(ws.max_row, 1).font = BOLD
    for c in f.campaigns:
        ws.append([f"{c.short} {c.name}", c.first.isoformat(), c.items, "是" if c.covered else "否"])
    ws.append([])
    ws.append(["线下活动类型", "次数", "参与人次", "发放资料（份）"])
    ws.cell(ws.max_row, 1).font = BOLD
    for kind, a in sorted(f.activities.items()):
        ws.append([kind, a.count, a.participants, a.materials])
    if with_text:
        ws.append([])
        ws.append(["报告表述"])
        ws.cell(ws.max_row, 1).font = BOLD
        for p in paragraphs(report, settings):
            ws.append([p])
            ws.cell(ws.max_row, 1).alignment = Alignment(wrap_text=False)
    ws.column_dimensions["A"].width = 30
    for col in "BCD":
        ws.column_dimensions[col].width = 14


TrendGetter = Callable[[Figures], float | int]
TREND_COLUMNS: tuple[tuple[str, TrendGetter | None], ...] = (
    ("月份", None),
    ("推送（条）", lambda f: f.pushes.total),
    ("收到咨询（条）", lambda f: f.questions.received),
    ("自动答复（条）", lambda f: f.questions.answered),
    ("答复率", lambda f: f.questions.answer_rate or 0.0),
    ("新增关注", lambda f: f.followers.new),
    ("期末关注", lambda f: f.followers.end),
)


def _trends(ws: Worksheet, report: Report) -> None:
    ws.append([name for name, _ in TREND_COLUMNS])
    for cell in ws[1]:
        cell.font = BOLD
    for m in report.months:
        ws.append([m.key, *(get(m) for _, get in TREND_COLUMNS[1:] if get is not None)])
        ws.cell(ws.max_row, 5).number_format = "0.0%"
    n = len(report.months)
    cats = Reference(ws, min_col=1, min_row=2, max_row=n + 1)

    bars = BarChart()
    bars.title = "推送与咨询（按月）"
    bars.y_axis.title = "条"
    bars.add_data(Reference(ws, min_col=2, max_col=4, min_row=1, max_row=n + 1), titles_from_data=True)
    bars.set_categories(cats)
    bars.height, bars.width = 8, 16
    ws.add_chart(bars, "I2")

    rate = LineChart()
    rate.title = "答复率（按月）"
    rate.y_axis.number_format = "0%"
    rate.add_data(Reference(ws, min_col=5, min_row=1, max_row=n + 1), titles_from_data=True)
    rate.set_categories(cats)
    rate.height, rate.width = 8, 16
    ws.add_chart(rate, "I19")

    followers = LineChart()
    followers.title = "关注人数（按月）"
    followers.add_data(Reference(ws, min_col=6, max_col=7, min_row=1, max_row=n + 1), titles_from_data=True)
    followers.set_categories(cats)
    followers.height, followers.width = 8, 16
    ws.add_chart(followers, "I36")
    ws.column_dimensions["A"].width = 10


def _texts(ws: Worksheet, texts: list[MessageText]) -> None:
    ws.append(["时间（北京时间）", "结果", "群众（已脱敏）", "原文"])
    for cell in ws[1]:
        cell.font = BOLD
    for t in texts:
        d = t.as_dict()
        ws.append([d["received_at"], d["outcome"], d["resident"], d["text"]])
    ws.column_dimensions["D"].width = 60
