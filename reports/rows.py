"""The exact figures as labelled rows: one list shared by the terminal table, CSV, xlsx and docx."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from reports.figures import Figures, Report

Value = int | float | None


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    get: Callable[[Figures], Value]
    percent: bool = False


ROWS: tuple[Row, ...] = (
    Row("pushes.total", "推送法律知识（条）", lambda f: f.pushes.total),
    Row("pushes.wechat", "　其中微信公众号", lambda f: f.pushes.by_channel.get("wechat", 0)),
    Row("pushes.dingtalk", "　其中钉钉", lambda f: f.pushes.by_channel.get("dingtalk", 0)),
    Row("pushes.wechat_sent_count", "公众号群发送达（人次）", lambda f: f.pushes.wechat_sent_count),
    Row("campaigns.covered", "覆盖宣传节点（个）", lambda f: sum(c.covered for c in f.campaigns)),
    Row("campaigns.missed", "未覆盖宣传节点（个）", lambda f: sum(not c.covered for c in f.campaigns)),
    Row("questions.received", "收到群众咨询（条）", lambda f: f.questions.received),
    Row("questions.answered", "　自动答复", lambda f: f.questions.answered),
    Row("questions.ambiguous", "　需群众选择", lambda f: f.questions.ambiguous),
    Row("questions.unanswered", "　未能答复", lambda f: f.questions.unanswered),
    Row("questions.answer_rate", "答复率", lambda f: f.questions.answer_rate, percent=True),
    Row("staff.received", "群众留言（条）", lambda f: f.staff.received),
    Row("staff.replied", "　已回复", lambda f: f.staff.replied),
    Row("staff.median_reply_hours", "　回复用时中位数（小时）", lambda f: f.staff.median_reply_hours),
    Row("followers.start", "期初关注人数", lambda f: f.followers.start),
    Row("followers.new", "新增关注", lambda f: f.followers.new),
    Row("followers.lost", "取消关注", lambda f: f.followers.lost),
    Row("followers.net", "净增关注", lambda f: f.followers.net),
    Row("followers.end", "期末关注人数", lambda f: f.followers.end),
    Row("activities.count", "线下普法活动（次）", lambda f: f.activity_total.count),
    Row("activities.participants", "　参与群众（人次）", lambda f: f.activity_total.participants),
    Row("activities.materials", "　发放资料（份）", lambda f: f.activity_total.materials),
)


def fmt(value: Value, percent: bool = False) -> str:
    if value is None:
        return "—"
    if percent:
        return f"{float(value) * 100:.1f}%"
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return str(value)


def columns(report: Report) -> list[Figures]:
    """Months then the total; a one-month period is just its total."""
    return [report.total] if len(report.months) == 1 else [*report.months, report.total]


def column_title(report: Report, f: Figures) -> str:
    return "合计" if f is report.total and len(report.months) > 1 else f.label
