"""Produce a report in one format and record it in the audit log (``report_exports``).

Every export is audited — the terminal table too — with who, when, which period and whether message
texts were included, so the office can answer "who took which figures out, and when".
"""

from __future__ import annotations

import hashlib
import io
import logging
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from reports import chart, render, word, xlsx
from reports.figures import Report, compute
from reports.models import ReportExport
from reports.period import Period
from reports.schema import to_dict
from reports.texts import MessageText, question_texts

log = logging.getLogger("pufa.reports")

FORMATS = ("table", "json", "csv", "xlsx", "docx", "png")
BINARY = ("xlsx", "docx", "png")


@dataclass(frozen=True)
class Produced:
    format: str
    path: Path | None  # None: written to the returned text
    text: str | None
    report: Report


def default_path(settings: Settings, period: Period, fmt: str) -> Path:
    return Path(settings.reports.output_dir) / f"pufa-report-{period.key.replace('..', '_')}.{fmt}"


async def produce(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    period: Period,
    fmt: str,
    *,
    output: Path | None = None,
    actor: str = "cli",
    include_texts: bool = False,
    console_width: int = 120,
) -> Produced:
    if fmt not in FORMATS:
        raise ValueError(f"未知的格式 {fmt!r}，可选：{'、'.join(FORMATS)}")
    rs = settings.reports
    async with sessions() as s:
        # A pure reader: on SQLite it runs beside the webhook's writes instead of queueing behind them.
        await s.connection(execution_options={"pufa_readonly": True})
        report = await compute(s, period, rs, calendar_file=settings.scheduler.calendar_file or None)
        texts: list[MessageText] | None = await question_texts(s, period) if include_texts else None
    if fmt in BINARY and output is None:
        output = default_path(settings, period, fmt)
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
    text: str | None = None
    if fmt == "table":
        buf = io.StringIO()
        render.table(report, rs, Console(file=buf, width=console_width, force_terminal=False))
        text = buf.getvalue()
    elif fmt == "json":
        text = render.to_json(to_dict(report, rs, texts))
    elif fmt == "csv":
        text = render.to_csv(report)
    elif fmt == "xlsx":
        assert output is not None
        xlsx.write(report, rs, output, texts)
    elif fmt == "docx":
        assert output is not None
        word.write(report, rs, output, town=settings.town.name if settings.town.name != "本镇" else "",
                   texts=texts)
    elif fmt == "png":
        assert output is not None
        chart.write(report, output)
    if text is not None and output is not None and fmt != "table":
        output.write_text(text, encoding="utf-8")
    digest = hashlib.sha256(output.read_bytes() if output is not None and output.exists()
                            else (text or "").encode()).hexdigest()
    async with sessions() as s, s.begin():
        s.add(ReportExport(actor=actor[:64], period=period.key[:32], period_start=period.start,
                           period_end=period.end, format=fmt, output=str(output or "-")[:512],
                           include_texts=include_texts, sha256=digest))
    log.info("report %s %s by %s -> %s", period.key, fmt, actor, output or "stdout")
    return Produced(fmt, output, text, report)
