"""``pufa report``: publicity figures for a month, a year or a date range, in six formats."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from pathlib import Path

from bot.cli.common import settings_from
from bot.config import Settings
from bot.db.session import create_engine, create_sessionmaker
from bot.live_settings import with_overlay
from reports import period as periods
from reports.service import FORMATS, Produced, produce


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("report", help="普法宣传统计报告（月、年或任意时段）")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--month", help="月份，例如 2026-11（北京时间）")
    which.add_argument("--year", help="年份，例如 2026")
    which.add_argument("--from", dest="first", help="开始日期 YYYY-MM-DD（与 --to 一起用）")
    p.add_argument("--to", dest="last", help="结束日期 YYYY-MM-DD（含当天）")
    p.add_argument("--format", choices=FORMATS, default="table", help="输出格式（默认 table）")
    p.add_argument("--output", type=Path, help="输出文件（xlsx/docx/png 默认写到 [reports] output_dir）")
    p.add_argument("--include-texts", action="store_true",
                   help="附上群众咨询原文（群众身份已脱敏）；默认不含任何原文")
    p.add_argument("--by", help="导出人（写入审计记录；默认当前系统用户）")
    p.set_defaults(func=run_report)


def parse_period(args: argparse.Namespace) -> periods.Period:
    if args.month:
        return periods.month(args.month)
    if args.year:
        return periods.year(args.year)
    if not args.last:
        raise periods.PeriodError("--from 需要与 --to 一起使用")
    return periods.date_range(args.first, args.last)


async def _produce(settings: Settings, period: periods.Period, args: argparse.Namespace, actor: str) -> Produced:
    engine = create_engine(settings.database.url, busy_timeout=settings.database.busy_timeout)
    try:
        sessions = create_sessionmaker(engine)
        # The rounding rule admins set on the 设置 page, as the monthly job and the admin page use it.
        settings = await with_overlay(settings, sessions)
        return await produce(sessions, settings, period, args.format, output=args.output,
                             actor=actor, include_texts=args.include_texts)
    finally:
        await engine.dispose()


def run_report(args: argparse.Namespace) -> int:
    try:
        period = parse_period(args)
    except periods.PeriodError as exc:
        print(exc, file=sys.stderr)
        return 2
    settings = settings_from(args)
    try:
        actor = args.by or getpass.getuser()
    except Exception:
        actor = "cli"
    produced = asyncio.run(_produce(settings, period, args, actor))
    if produced.path is not None:
        print(f"已生成 {produced.path}")
    elif produced.text is not None:
        sys.stdout.write(produced.text)
    return 0
