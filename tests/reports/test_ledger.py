"""The activity ledger: xlsx import (all or nothing, bad rows by number) and the CLI round trip."""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.cli import main as pufa
from bot.db.session import create_engine, create_sessionmaker
from reports import ledger
from reports.models import LedgerActivity

TYPES = ("送法入校", "法律明白人培训", "法治讲座", "其他")
HEADER = ["日期", "类型", "地点", "组织单位", "参与人数", "发放资料", "备注", "照片"]


def sheet(path: Path, rows: list[list[Any]], header: list[str] = HEADER) -> Path:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(header)
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def test_read_sheet_good_rows(tmp_path: Path) -> None:
    path = sheet(tmp_path / "a.xlsx", [
        [datetime(2026, 11, 5), "送法入校", "古龙小学", "司法所", 300, 250, "", "a.jpg;b.jpg"],
        [],  # blank rows are skipped
        ["2026/11/20", "法治讲座", "村委会", "司法所", "60", None, "备注", None],
    ])
    items = ledger.read_sheet(path, TYPES)
    assert [(i.day, i.kind, i.participants, i.materials, i.photos) for i in items] == [
        (date(2026, 11, 5), "送法入校", 300, 250, ["a.jpg", "b.jpg"]),
        (date(2026, 11, 20), "法治讲座", 60, 0, []),
    ]


def test_read_sheet_reports_every_bad_row_by_number(tmp_path: Path) -> None:
    path = sheet(tmp_path / "b.xlsx", [
        ["2026-11-05", "送法入校", "", "", 10, 5, "", ""],       # row 2 fine
        ["2026-13-01", "送法入校", "", "", 10, 5, "", ""],       # row 3 bad date
        ["2026-11-06", "打麻将", "", "", 10, 5, "", ""],         # row 4 unknown type
        ["2026-11-07", "法治讲座", "", "", -3, "许多", "", ""],  # row 5 two bad numbers
        [None, "其他", "", "", 1, 1, "", ""],                    # row 6 no date
    ])
    with pytest.raises(ledger.LedgerError) as err:
        ledger.read_sheet(path, TYPES)
    numbers = [n for n, _ in err.value.problems]
    assert numbers == [3, 4, 5, 6]
    text = dict(err.value.problems)
    assert "打麻将" in text[4] and "参与人数" in text[5] and "发放资料" in text[5] and "缺少日期" in text[6]


def test_read_sheet_missing_header(tmp_path: Path) -> None:
    path = sheet(tmp_path / "c.xlsx", [["x"]], header=["地点", "备注"])
    with pytest.raises(ledger.LedgerError, match="日期"):
        ledger.read_sheet(path, TYPES)


def _count(url: str) -> int:
    """Counted on an engine of its own: the test's event loop is not the fixture's."""
    async def q() -> int:
        engine = create_engine(url)
        try:
            async with create_sessionmaker(engine)() as s:
                return int((await s.execute(select(func.count()).select_from(LedgerActivity))).scalar_one())
        finally:
            await engine.dispose()
    return asyncio.run(q())


@pytest.fixture
def cli_db(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    monkeypatch.setenv("PUFA_DATABASE_URL", database_url)
    monkeypatch.setenv("PUFA_REPORTS_OUTPUT_DIR", str(tmp_path / "out"))
    monkeypatch.delenv("PUFA_CONFIG", raising=False)
    return database_url


def test_cli_ledger_round_trip(engine: AsyncEngine, cli_db: str, tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    assert pufa(["ledger", "add", "--date", "2026-11-05", "--type", "送法入校", "--place", "古龙小学",
                 "--participants", "300", "--materials", "250", "--photo", "p1.jpg"]) == 0
    assert pufa(["ledger", "add", "--date", "2026-11-05", "--type", "打麻将"]) == 2
    assert "不在类型表中" in capsys.readouterr().err
    assert pufa(["ledger", "edit", "1", "--materials", "260"]) == 0
    assert pufa(["ledger", "edit", "1", "--participants", "-1"]) == 2
    bad = sheet(tmp_path / "bad.xlsx", [["2026-11-06", "送法入校", "", "", 1, 1, "", ""],
                                        ["2026-11-07", "没这类", "", "", 1, 1, "", ""]])
    assert pufa(["ledger", "import", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "未导入任何一行" in err and "第3行" in err
    assert _count(cli_db) == 1  # nothing half-imported
    good = sheet(tmp_path / "good.xlsx", [["2026-11-06", "送法入校", "", "", 1, 1, "", ""],
                                          ["2026-11-07", "法治讲座", "", "", 40, 0, "", ""]])
    assert pufa(["ledger", "import", str(good)]) == 0
    assert _count(cli_db) == 3
    assert pufa(["ledger", "delete", "3"]) == 0 and pufa(["ledger", "delete", "99"]) == 2
    capsys.readouterr()
    assert pufa(["ledger", "list", "--month", "2026-11"]) == 0
    out = capsys.readouterr().out
    assert "共 2 条" in out and "260" in out


def test_cli_report_all_formats(engine: AsyncEngine, cli_db: str, tmp_path: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    assert pufa(["ledger", "add", "--date", "2026-11-05", "--type", "送法入校", "--materials", "83"]) == 0
    capsys.readouterr()
    assert pufa(["report", "--month", "2026-11", "--format", "json"]) == 0
    assert '"schema": "pufa.report/1"' in capsys.readouterr().out
    for fmt in ("xlsx", "docx", "png", "csv"):
        out = tmp_path / f"r.{fmt}"
        assert pufa(["report", "--year", "2026", "--format", fmt, "--output", str(out), "--by", "测试"]) == 0
        assert out.stat().st_size > 0
    assert pufa(["report", "--from", "2026-11-01", "--to", "2026-11-30"]) == 0
    assert "发放法治宣传资料80余份" in capsys.readouterr().out
    assert pufa(["report", "--month", "2026-13"]) == 2
    assert pufa(["report", "--from", "2026-11-01"]) == 2
