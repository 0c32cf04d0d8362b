"""Every format produced from the fixture database, parsed back; privacy and the audit log."""

from __future__ import annotations

import json
import warnings
import zipfile
from dataclasses import replace
from datetime import date
from pathlib import Path

import docx
import openpyxl
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from reports import period
from reports.chart import cjk_font
from reports.models import LedgerActivity, ReportExport
from reports.service import produce

FULL_HASH = "a" * 32


async def _add_materials(sessions: async_sessionmaker[AsyncSession], n: int) -> None:
    async with sessions() as s, s.begin():
        s.add(LedgerActivity(day=date(2026, 11, 25), kind="送法入校", participants=0, materials=n, photos=[]))


async def test_docx_reads_like_the_report(seeded: async_sessionmaker[AsyncSession], app_settings: Settings,
                                          tmp_path: Path) -> None:
    await _add_materials(seeded, 7)  # 250 + 180 + 7 = 437 → 430余份; 3 school visits exact
    settings = replace(app_settings, town=replace(app_settings.town, name="古龙镇"))
    out = tmp_path / "r.docx"
    await produce(seeded, settings, period.year("2026"), "docx", output=out)
    d = docx.Document(str(out))
    text = "\n".join(p.text for p in d.paragraphs)
    assert "古龙镇2026年普法宣传工作情况" in text
    assert "一是利用新媒体普法。充分利用钉钉、微信公众号，发送有关法律知识5条" in text
    assert ("依托“12·4”等时间点，开展专项法治宣传教育1次"
            "（“3月法治宣传月”、“3·15”、“4·15”、“6·26”未开展线上推送）") in text
    assert "开展“法治副校长”送法入校活动3次，发放法治宣传资料430余份" in text
    assert "对“法律明白人”开展1次法律培训" in text
    assert text.rstrip().endswith("。") or "。" in text
    # The exact figures beneath.
    cells = {r.cells[0].text: r.cells[1].text for r in d.tables[0].rows}
    assert cells["推送法律知识（条）"] == "5"
    assert cells["　发放资料（份）"] == "467"  # 437 school + 30 lecture
    assert cells["答复率"] == "50.0%"  # 6 answered (Oct 1, Nov 4, Dec 1) of 12 questions in 2026
    assert FULL_HASH not in text and "o-raw" not in text


async def test_xlsx_has_month_sheets_summary_and_native_charts(
        seeded: async_sessionmaker[AsyncSession], app_settings: Settings, tmp_path: Path) -> None:
    out = tmp_path / "r.xlsx"
    await produce(seeded, app_settings, period.year("2026"), "xlsx", output=out)
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["汇总", "月度趋势", *[f"2026-{m:02d}" for m in range(1, 13)]]
    summary = {r[0]: r[1] for r in wb["汇总"].iter_rows(values_only=True) if r and r[0]}
    assert summary["推送法律知识（条）"] == 5 and summary["收到群众咨询（条）"] == 12
    nov = {r[0]: r[1] for r in wb["2026-11"].iter_rows(values_only=True) if r and r[0]}
    assert nov["　其中钉钉"] == 2 and nov["答复率"] == 0.4 and nov["期末关注人数"] == 3
    assert any("发送有关法律知识5条" in str(r[0]) for r in wb["汇总"].iter_rows(values_only=True) if r[0])
    trends = list(wb["月度趋势"].iter_rows(values_only=True))
    assert trends[11] == ("2026-11", 3, 10, 4, 0.4, 2, 3)
    with zipfile.ZipFile(out) as z:
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
        assert len(charts) == 3
        kinds = "".join(z.read(c).decode() for c in charts)
        assert kinds.count("<barChart>") == 1 and kinds.count("<lineChart>") == 2


async def test_json_schema_and_privacy(seeded: async_sessionmaker[AsyncSession], app_settings: Settings) -> None:
    plain = await produce(seeded, app_settings, period.month("2026-11"), "json")
    assert plain.text is not None
    data = json.loads(plain.text)
    assert data["schema"] == "pufa.report/1"
    assert data["period"] == {"kind": "month", "key": "2026-11", "label": "2026年11月",
                              "first": "2026-11-01", "last": "2026-11-30"}
    t = data["total"]
    assert t["questions"] == {"received": 10, "answered": 4, "ambiguous": 1, "unanswered": 5, "no_match": 4,
                              "failed": 1, "answer_rate": 0.4, "commands": 1, "chat": 1}
    assert t["pushes"]["by_channel"] == {"wechat": 1, "dingtalk": 2}
    assert t["top_topics"][0] == {"topic": "labor", "name": "劳动用工", "answered": 2}
    assert t["staff_messages"] == {"received": 3, "replied": 2, "median_reply_hours": 4.0}
    assert "texts" not in data and "问题" not in plain.text and FULL_HASH not in plain.text

    with_texts = await produce(seeded, app_settings, period.month("2026-11"), "json", include_texts=True)
    assert with_texts.text is not None
    texts = json.loads(with_texts.text)["texts"]
    assert len(texts) == 10 and {x["resident"] for x in texts} == {"aaaa…"}
    assert FULL_HASH not in with_texts.text and "o-raw" not in with_texts.text
    assert texts[0]["received_at"] == "2026-11-30T23:59:59+08:00"


async def test_csv_and_table(seeded: async_sessionmaker[AsyncSession], app_settings: Settings) -> None:
    csv_out = await produce(seeded, app_settings, period.month("2026-11"), "csv")
    assert csv_out.text is not None
    lines = csv_out.text.lstrip("\ufeff").splitlines()
    assert lines[0] == "period,label,figure,name,value"
    assert "2026-11,2026年11月,pushes.total,推送法律知识（条）,3" in lines
    assert "2026-11,2026年11月,questions.answer_rate,答复率,0.4" in lines
    table = await produce(seeded, app_settings, period.month("2026-11"), "table")
    assert table.text is not None and "40.0%" in table.text and "劳动用工 2" in table.text


async def test_png_chart_renders_chinese(seeded: async_sessionmaker[AsyncSession], app_settings: Settings,
                                         tmp_path: Path) -> None:
    assert cjk_font() == "Noto Sans SC"
    out = tmp_path / "r.png"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        await produce(seeded, app_settings, period.year("2026"), "png", output=out)
    assert not [w for w in caught if "missing from font" in str(w.message)]
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000


async def test_every_export_is_audited(seeded: async_sessionmaker[AsyncSession], app_settings: Settings,
                                       tmp_path: Path) -> None:
    await produce(seeded, app_settings, period.month("2026-11"), "json", actor="张三")
    await produce(seeded, app_settings, period.year("2026"), "xlsx", actor="李四", include_texts=True)
    async with seeded() as s:
        rows = (await s.execute(select(ReportExport).order_by(ReportExport.id))).scalars().all()
    assert [(r.actor, r.period, r.format, r.include_texts) for r in rows] == [
        ("张三", "2026-11", "json", False), ("李四", "2026", "xlsx", True)]
    assert rows[1].output.endswith("pufa-report-2026.xlsx") and len(rows[1].sha256 or "") == 64
    assert Path(rows[1].output).exists()


async def test_monthly_job_writes_last_months_files(seeded: async_sessionmaker[AsyncSession],
                                                    app_settings: Settings) -> None:
    from reports.monthly import run_monthly

    sent: list[str] = []

    async def notify(text: str) -> None:
        sent.append(text)

    result = await run_monthly(seeded, app_settings, today=date(2026, 12, 1), notify=notify)
    assert result.period.key == "2026-11"
    assert [p.name for p in result.files] == [f"pufa-report-2026-11.{f}" for f in ("xlsx", "docx", "png", "json")]
    assert all(p.stat().st_size > 0 for p in result.files)
    assert sent == [result.headline]
    assert "2026年11月统计：推送法律知识3条（公众号1、钉钉2），收到群众咨询10条，答复率40.0%" in sent[0]
