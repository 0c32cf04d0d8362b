"""The docx section, in the shape of the town's own report: "（五）强化法治宣传教育…" followed by
"一是…；二是…。" paragraphs with rounded counts, then the exact figures in a table beneath.

Formatting follows the usual government-document look (标题黑体, 正文仿宋三号, 首行缩进两字); the fonts
are named, not embedded — Word and WPS on staff computers have them.
"""

from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt
from docx.text.paragraph import Paragraph

from bot.config import ReportsSettings
from reports.figures import Report
from reports.rows import ROWS, fmt
from reports.texts import MessageText
from reports.wording import paragraphs

SECTION_HEADING = "（五）强化法治宣传教育，营造法治氛围"
TABLE_HEADING = "附：{label}普法宣传统计数据（精确值）"
CAMPAIGN_HEADING = "宣传节点推送情况"
TEXTS_HEADING = "群众咨询原文（已脱敏）"
BODY_FONT = "仿宋_GB2312"
HEADING_FONT = "黑体"
TITLE_FONT = "方正小标宋简体"


def _font(paragraph: Paragraph, name: str, size: float, bold: bool = False) -> None:
    for run in paragraph.runs:
        run.font.name = name
        run.font.size = Pt(size)
        run.font.bold = bold
        rpr = run._element.get_or_add_rPr()
        rpr.get_or_add_rFonts().set(qn("w:eastAsia"), name)


def write(report: Report, settings: ReportsSettings, path: Path, *, town: str = "",
          texts: list[MessageText] | None = None) -> None:
    doc = Document()
    title = doc.add_paragraph(f"{town}{report.period.label}普法宣传工作情况")
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(title, TITLE_FONT, 22)
    heading = doc.add_paragraph(SECTION_HEADING)
    _font(heading, HEADING_FONT, 16)
    for text in paragraphs(report, settings):
        p = doc.add_paragraph(text)
        p.paragraph_format.first_line_indent = Pt(32)
        p.paragraph_format.line_spacing = Pt(28)
        _font(p, BODY_FONT, 16)

    cap = doc.add_paragraph(TABLE_HEADING.format(label=report.period.label))
    _font(cap, HEADING_FONT, 14)
    table = doc.add_table(rows=1, cols=2)
    table.style = "Table Grid"
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = "指标", "数值"
    for row in ROWS:
        cells = table.add_row().cells
        cells[0].text = row.label
        cells[1].text = fmt(row.get(report.total), row.percent)

    if report.total.campaigns:
        cap = doc.add_paragraph(CAMPAIGN_HEADING)
        _font(cap, HEADING_FONT, 14)
        ct = doc.add_table(rows=1, cols=3)
        ct.style = "Table Grid"
        for cell, text in zip(ct.rows[0].cells, ("宣传节点", "推送条数", "是否覆盖"), strict=True):
            cell.text = text
        for c in report.total.campaigns:
            cells = ct.add_row().cells
            # "3·15 国际消费者权益日"; a season's short name already is its name ("3月法治宣传月").
            cells[0].text = c.short if c.name in c.short else f"{c.short} {c.name}"
            cells[1].text = str(c.items)
            cells[2].text = "是" if c.covered else "否"

    if texts is not None:
        cap = doc.add_paragraph(TEXTS_HEADING)
        _font(cap, HEADING_FONT, 14)
        tt = doc.add_table(rows=1, cols=3)
        tt.style = "Table Grid"
        for cell, text in zip(tt.rows[0].cells, ("时间", "群众", "原文"), strict=True):
            cell.text = text
        for t in texts:
            d = t.as_dict()
            cells = tt.add_row().cells
            cells[0].text, cells[1].text, cells[2].text = d["received_at"], d["resident"], d["text"]
    doc.save(str(path))
