"""Text outputs: the terminal table (rich), JSON and CSV."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from rich.console import Console
from rich.table import Table

from bot.config import ReportsSettings
from reports.figures import Report, top
from reports.rows import ROWS, column_title, columns, fmt
from reports.wording import paragraphs


def table(report: Report, settings: ReportsSettings, console: Console) -> None:
    t = Table(title=f"{report.period.label}普法宣传统计", show_lines=False)
    t.add_column("指标")
    cols = columns(report)
    for f in cols:
        t.add_column(column_title(report, f), justify="right")
    for row in ROWS:
        t.add_row(row.label, *(fmt(row.get(f), row.percent) for f in cols))
    console.print(t)
    names = report.topic_names
    topics = top(report.total.topics, report.top_n)
    if topics:
        console.print("热门咨询主题：" + "、".join(f"{names.get(k, k)} {n}" for k, n in topics))
    groups = top(report.total.unanswered_groups, report.top_n)
    if groups:
        console.print("未能答复的关键词：" + "；".join(f"{k} {n}" for k, n in groups))
    missed = [c.short for c in report.total.campaigns if not c.covered]
    if missed:
        console.print("未推送的宣传节点：" + "、".join(missed))
    console.print()
    for p in paragraphs(report, settings):
        console.print(p)


def to_json(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def to_csv(report: Report) -> str:
    """Long format, one figure per line: ``period,label,figure,value`` (UTF-8 with BOM for Excel/WPS)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["period", "label", "figure", "name", "value"])
    for f in [*report.months, report.total] if len(report.months) > 1 else [report.total]:
        for row in ROWS:
            value = row.get(f)
            w.writerow([f.key, f.label, row.key, row.label.strip("　"), "" if value is None else value])
    return "\ufeff" + buf.getvalue()
