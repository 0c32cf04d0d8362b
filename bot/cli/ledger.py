"""``pufa ledger``: the activity ledger (普法台账) — add, list, edit, delete, import from xlsx."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any, TypeVar

from rich.console import Console
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.common import settings_from
from bot.db.base import utcnow
from bot.db.session import create_engine, create_sessionmaker
from reports import ledger
from reports.models import LedgerActivity
from reports.period import PeriodError, date_range, month

T = TypeVar("T")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("ledger", help="普法台账（线下活动登记）")
    lsub = p.add_subparsers(dest="ledger_command", required=True)

    add = lsub.add_parser("add", help="登记一次活动")
    _fields(add, required=True)
    add.set_defaults(func=run_add)

    ls = lsub.add_parser("list", help="列出活动")
    ls.add_argument("--month", help="月份，例如 2026-11")
    ls.add_argument("--from", dest="first", help="开始日期 YYYY-MM-DD")
    ls.add_argument("--to", dest="last", help="结束日期 YYYY-MM-DD")
    ls.add_argument("--type", dest="kind", help="只列某一类型")
    ls.set_defaults(func=run_list)

    ed = lsub.add_parser("edit", help="修改一条活动")
    ed.add_argument("id", type=int)
    _fields(ed, required=False)
    ed.set_defaults(func=run_edit)

    rm = lsub.add_parser("delete", help="删除一条活动")
    rm.add_argument("id", type=int)
    rm.set_defaults(func=run_delete)

    imp = lsub.add_parser(
        "import", help="从 xlsx 表格导入（列：日期、类型、地点、组织单位、参与人数、发放资料、备注、照片）")
    imp.add_argument("file", type=Path)
    imp.set_defaults(func=run_import)

    types = lsub.add_parser("types", help="列出可用的活动类型（在配置 [reports] activity_types 中修改）")
    types.set_defaults(func=run_types)


def _fields(p: argparse.ArgumentParser, *, required: bool) -> None:
    p.add_argument("--date", dest="day", required=required, help="日期 YYYY-MM-DD")
    p.add_argument("--type", dest="kind", required=required, help="活动类型，见 pufa ledger types")
    p.add_argument("--place", help="地点")
    p.add_argument("--organiser", help="组织单位")
    p.add_argument("--participants", help="参与人数")
    p.add_argument("--materials", help="发放资料份数")
    p.add_argument("--notes", help="备注")
    p.add_argument("--photo", dest="photos", action="append", help="照片文件路径（可多次给出）")


def _actor() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "cli"


def _with_session(args: argparse.Namespace, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    settings = settings_from(args)

    async def main() -> T:
        engine = create_engine(settings.database.url, busy_timeout=settings.database.busy_timeout)
        try:
            async with create_sessionmaker(engine)() as s, s.begin():
                return await work(s)
        finally:
            await engine.dispose()

    return asyncio.run(main())


def _given(args: argparse.Namespace) -> dict[str, Any]:
    keys = ("day", "kind", "place", "organiser", "participants", "materials", "notes", "photos")
    return {k: getattr(args, k) for k in keys if getattr(args, k, None) is not None}


def run_types(args: argparse.Namespace) -> int:
    for t in settings_from(args).reports.activity_type_list:
        print(t)
    return 0


def run_add(args: argparse.Namespace) -> int:
    types = settings_from(args).reports.activity_type_list
    try:
        item = ledger.validate(_given(args), types)
    except ValueError as exc:
        print(f"未登记：{exc}", file=sys.stderr)
        return 2
    ids = _with_session(args, lambda s: ledger.add_all(s, [item], _actor()))
    print(f"已登记活动 #{ids[0]}：{item.day} {item.kind}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    try:
        period = (month(args.month) if args.month else
                  date_range(args.first or "2000-01-01", args.last or "2100-12-31") if args.first or args.last
                  else None)
    except PeriodError as exc:
        print(exc, file=sys.stderr)
        return 2
    rows = _with_session(args, lambda s: ledger.listing(
        s, period.first if period else None, period.last if period else None, args.kind))
    table = Table(title="普法台账")
    for name in ("编号", "日期", "类型", "地点", "组织单位", "参与人数", "发放资料", "备注", "照片"):
        table.add_column(name)
    for r in rows:
        table.add_row(str(r.id), r.day.isoformat(), r.kind, r.place, r.organiser, str(r.participants),
                      str(r.materials), r.notes, ";".join(r.photos or []))
    Console().print(table)
    print(f"共 {len(rows)} 条")
    return 0


def run_edit(args: argparse.Namespace) -> int:
    types = settings_from(args).reports.activity_type_list
    changes = _given(args)

    async def work(s: AsyncSession) -> str:
        row = await s.get(LedgerActivity, args.id)
        if row is None:
            return f"没有编号为 {args.id} 的活动"
        current = {"day": row.day, "kind": row.kind, "place": row.place, "organiser": row.organiser,
                   "participants": row.participants, "materials": row.materials, "notes": row.notes,
                   "photos": list(row.photos or [])}
        try:
            item = ledger.validate(current | changes, types)
        except ValueError as exc:
            return f"未修改：{exc}"
        for key, value in asdict(item).items():
            setattr(row, key, value)
        row.updated_at = utcnow()
        return ""

    problem = _with_session(args, work)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    print(f"已修改活动 #{args.id}")
    return 0


def run_delete(args: argparse.Namespace) -> int:
    async def work(s: AsyncSession) -> bool:
        row = await s.get(LedgerActivity, args.id)
        if row is None:
            return False
        await s.delete(row)
        return True

    if not _with_session(args, work):
        print(f"没有编号为 {args.id} 的活动", file=sys.stderr)
        return 2
    print(f"已删除活动 #{args.id}")
    return 0


def run_import(args: argparse.Namespace) -> int:
    types = settings_from(args).reports.activity_type_list
    try:
        items = ledger.read_sheet(args.file, types)
    except ledger.LedgerError as exc:
        print(f"未导入任何一行，请改正后重新导入（共 {len(exc.problems)} 处问题）：", file=sys.stderr)
        for number, message in exc.problems:
            print(f"  第{number}行：{message}" if number else f"  {message}", file=sys.stderr)
        return 2
    ids = _with_session(args, lambda s: ledger.add_all(s, items, _actor()))
    print(f"已导入 {len(ids)} 条活动")
    return 0
