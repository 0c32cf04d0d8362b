"""``pufa campaigns --year 2027``: the publicity calendar of a year, what is queued for each date, and
warnings where the campaign dates exceed the account's mass-send quota."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections import Counter
from datetime import date
from typing import Any

from bot.cli.common import settings_from
from bot.db.session import create_engine, create_sessionmaker
from scheduler.calendar import CalendarError, Occurrence, load_calendar
from scheduler.models import CANCELLED, Post
from scheduler.posts import list_posts
from scheduler.quota import LIMITS
from scheduler.timeutil import local

DEFAULT_NAMES = {"required": "必选", "on": "默认", "optional": "可选"}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("campaigns", help="普法宣传日历（某一年）")
    p.add_argument("--year", type=int, required=True)
    p.add_argument("--all", action="store_true", help="也列出未启用的可选节点")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def queued_for(occ: Occurrence, posts: list[Post]) -> list[Post]:
    """Posts of this campaign in that period, or unlabelled posts on its first day."""
    out = []
    for p in posts:
        if p.state == CANCELLED:
            continue
        day = local(p.send_at).date()
        if p.campaign == occ.campaign.key and occ.start and occ.end and occ.start <= day <= occ.end:
            out.append(p)
        elif p.campaign is None and occ.start is not None and day == occ.start:
            out.append(p)
    return out


def quota_warnings(occs: list[Occurrence], account_type: str, year: int) -> list[str]:
    dates = [o.send_date for o in occs if o.send_date is not None and o.send_date.year == year]
    limit = LIMITS[account_type]
    warnings = []
    if account_type == "service":
        for month, n in sorted(Counter(d.month for d in dates).items()):
            if n > limit:
                warnings.append(f"{month} 月有 {n} 个宣传节点，服务号每月只能群发 {limit} 次："
                                "请合并或改用钉钉/其他渠道")
    else:
        for day, n in sorted(Counter(dates).items()):
            if n > limit:
                warnings.append(f"{day.month} 月 {day.day} 日有 {n} 个宣传节点，"
                                f"订阅号每天只能群发 {limit} 次：请合并为一条")
    for o in occs:
        if o.start is None:
            warnings.append(f"{o.campaign.name}：{o.note}")
    return warnings


def _when(o: Occurrence) -> str:
    if o.start is None:
        return "日期待设置"
    if o.end is None or o.end == o.start:
        return f"{o.start.month}月{o.start.day}日"
    return f"{o.start.isoformat()} 至 {o.end.isoformat()}"


def run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    try:
        calendar = load_calendar(settings.scheduler.calendar_file or None)
    except CalendarError as exc:
        print(f"日历错误：{exc}", file=sys.stderr)
        return 1
    occs = calendar.occurrences(args.year, include_disabled=args.all)

    async def load() -> list[Post]:
        engine = create_engine(settings.database.url, busy_timeout=settings.database.busy_timeout)
        try:
            return await list_posts(create_sessionmaker(engine))
        finally:
            await engine.dispose()

    posts = asyncio.run(load())
    warnings = quota_warnings([o for o in occs if o.campaign.enabled], settings.wechat.account_type, args.year)
    if args.json:
        out: list[dict[str, Any]] = [{
            "key": o.campaign.key, "name": o.campaign.name, "kind": o.campaign.kind,
            "start": o.start.isoformat() if o.start else None, "end": o.end.isoformat() if o.end else None,
            "laws": list(o.campaign.laws), "tags": list(o.campaign.tags), "default": o.campaign.default,
            "enabled": o.campaign.enabled, "queued": [p.id for p in queued_for(o, posts)],
        } for o in occs]
        print(json.dumps({"year": args.year, "campaigns": out, "warnings": warnings}, ensure_ascii=False, indent=1))
        return 0
    print(f"{args.year} 年普法宣传日历（{'服务号' if settings.wechat.account_type == 'service' else '订阅号'}）")
    today = date.today()
    for o in occs:
        queued = queued_for(o, posts)
        status = ("已安排：" + "、".join(f"#{p.id}《{p.title}》" for p in queued)) if queued else (
            "尚未安排推送" if (o.start is None or o.start >= today) else "无推送")
        print(f"  {_when(o):<24} {o.campaign.name}［{DEFAULT_NAMES[o.campaign.default]}］")
        print(f"      法律：{'、'.join(o.campaign.laws)}；{status}")
    if warnings:
        print("提醒：")
        for w in warnings:
            print(f"  ! {w}")
    return 0
