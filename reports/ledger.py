"""The activity ledger (普法台账): validation, CRUD and the all-or-nothing xlsx import.

The import sheet has the same columns as ``pufa ledger list`` (header names below, in any order);
every bad row is reported with its row number and nothing is written unless every row is good.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.base import utcnow
from reports.models import LedgerActivity

# Header name → field. The first name is what ``list`` and the template use.
COLUMNS: dict[str, tuple[str, ...]] = {
    "day": ("日期",),
    "kind": ("类型", "活动类型"),
    "place": ("地点",),
    "organiser": ("组织单位", "组织者", "主办"),
    "participants": ("参与人数", "参加人数"),
    "materials": ("发放资料", "发放资料（份）", "资料份数"),
    "notes": ("备注",),
    "photos": ("照片",),
}
REQUIRED = ("day", "kind")
MAX_ROWS = 5000


class LedgerError(ValueError):
    """Bad input; ``problems`` lists (row number or 0, message) for staff."""

    def __init__(self, problems: Sequence[tuple[int, str]]) -> None:
        self.problems = list(problems)
        super().__init__("；".join(f"第{n}行：{m}" if n else m for n, m in self.problems))


@dataclass
class ActivityInput:
    day: date
    kind: str
    place: str = ""
    organiser: str = ""
    participants: int = 0
    materials: int = 0
    notes: str = ""
    photos: list[str] = field(default_factory=list)


def parse_day(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value or "").strip().replace("/", "-").replace(".", "-")
    for fmt in ("%Y-%m-%d", "%Y年%m月%d日"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"日期“{value}”无法识别，应为 YYYY-MM-DD")


def parse_count(value: Any, name: str) -> int:
    if value is None or str(value).strip() == "":
        return 0
    try:
        number = float(str(value).strip())
    except ValueError:
        raise ValueError(f"{name}“{value}”不是数字") from None
    if number < 0 or number != int(number) or number > 10_000_000:
        raise ValueError(f"{name}“{value}”应为不小于 0 的整数")
    return int(number)


def validate(values: dict[str, Any], types: Sequence[str]) -> ActivityInput:
    """One activity from loose values (CLI or a sheet row); raises ValueError with a Chinese message."""
    problems: list[str] = []
    for key in REQUIRED:
        if values.get(key) in (None, ""):
            problems.append(f"缺少{COLUMNS[key][0]}")
    if problems:
        raise ValueError("，".join(problems))
    out: dict[str, Any] = {}
    for key, conv in (("day", parse_day), ("participants", lambda v: parse_count(v, "参与人数")),
                      ("materials", lambda v: parse_count(v, "发放资料"))):
        try:
            out[key] = conv(values.get(key))
        except ValueError as exc:
            problems.append(str(exc))
    kind = str(values.get("kind") or "").strip()
    if kind not in types:
        problems.append(f"活动类型“{kind}”不在类型表中（{'、'.join(types)}）")
    if problems:
        raise ValueError("，".join(problems))
    photos = values.get("photos") or []
    if isinstance(photos, str):
        photos = [p.strip() for p in photos.replace("；", ";").split(";") if p.strip()]
    return ActivityInput(
        day=out["day"], kind=kind, place=str(values.get("place") or "").strip()[:128],
        organiser=str(values.get("organiser") or "").strip()[:128], participants=out["participants"],
        materials=out["materials"], notes=str(values.get("notes") or "").strip(), photos=list(photos),
    )


def read_sheet(path: Path, types: Sequence[str]) -> list[ActivityInput]:
    """All rows of the first sheet, or LedgerError listing every bad row (row numbers as Excel shows)."""
    from openpyxl import load_workbook  # here, not at the top: keeps it out of `pufa serve`'s start

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several unrelated types for a bad file
        raise LedgerError([(0, f"无法读取 {path.name}：{type(exc).__name__}")]) from None
    ws = wb.worksheets[0]
    rows = ws.iter_rows(values_only=True)
    header = next(rows, None)
    if header is None:
        raise LedgerError([(0, "表格是空的")])
    names = {alias: key for key, aliases in COLUMNS.items() for alias in aliases}
    index: dict[str, int] = {}
    for i, cell in enumerate(header):
        key = names.get(str(cell or "").strip())
        if key:
            index[key] = i
    missing = [COLUMNS[k][0] for k in REQUIRED if k not in index]
    if missing:
        raise LedgerError([(1, f"表头缺少列：{'、'.join(missing)}")])
    out: list[ActivityInput] = []
    problems: list[tuple[int, str]] = []
    for number, row in enumerate(rows, start=2):
        if row is None or all(c is None or str(c).strip() == "" for c in row):
            continue
        if number > MAX_ROWS + 1:
            problems.append((number, f"一次最多导入 {MAX_ROWS} 行"))
            break
        values = {key: row[i] if i < len(row) else None for key, i in index.items()}
        try:
            out.append(validate(values, types))
        except ValueError as exc:
            problems.append((number, str(exc)))
    wb.close()
    if problems:
        raise LedgerError(problems)
    return out


def new_row(a: ActivityInput, actor: str) -> LedgerActivity:
    now = utcnow()
    return LedgerActivity(day=a.day, kind=a.kind, place=a.place, organiser=a.organiser,
                          participants=a.participants, materials=a.materials, notes=a.notes,
                          photos=a.photos, created_by=actor[:64], created_at=now, updated_at=now)


async def add_all(s: AsyncSession, items: Iterable[ActivityInput], actor: str) -> list[int]:
    """Adds in the caller's transaction (the caller commits: all rows or none)."""
    rows = [new_row(a, actor) for a in items]
    s.add_all(rows)
    await s.flush()
    return [r.id for r in rows]


async def listing(s: AsyncSession, first: date | None = None, last: date | None = None,
                  kind: str | None = None) -> list[LedgerActivity]:
    stmt = select(LedgerActivity).order_by(LedgerActivity.day, LedgerActivity.id)
    if first is not None:
        stmt = stmt.where(LedgerActivity.day >= first)
    if last is not None:
        stmt = stmt.where(LedgerActivity.day <= last)
    if kind:
        stmt = stmt.where(LedgerActivity.kind == kind)
    return list((await s.execute(stmt)).scalars())
