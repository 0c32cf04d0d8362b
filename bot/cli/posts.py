"""``pufa posts``: queue, list, show, cancel, preview pushes, and read the push log.

Stable contracts (docs/scheduling.md): ``pufa posts add --title T --body B --channel wechat|dingtalk
--at "YYYY-MM-DD HH:MM"`` (Beijing time) and ``pufa posts list --json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli.common import settings_from
from bot.config import Settings
from bot.db.session import create_engine, create_sessionmaker
from bot.live_settings import with_overlay
from bot.wechat.client import WechatApiError, WechatClient, WechatTransportError
from scheduler.covers import CoverStore
from scheduler.models import CHANNELS, STATE_NAMES, STATES, Post, PushAttempt
from scheduler.posts import (
    NewPost,
    PostError,
    add_post,
    attempts_of,
    cancel_post,
    edit_post,
    get_post,
    list_posts,
    month_log,
    open_alerts,
    schedule_draft,
    store_thumb,
)
from scheduler.preview import PreviewResult, send_preview, staff_openids
from scheduler.quota import QuotaExceeded
from scheduler.timeutil import TimeFormatError, fmt_local, local, parse_local, parse_month

T = TypeVar("T")

OUTCOME_NAMES = {"pending": "进行中", "sent": "成功", "already_sent": "成功（此前已发出）", "retry": "失败，将重试",
                 "failed": "失败", "needs_attention": "需人工处理", "interrupted": "中断", "missed": "停机错过"}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("posts", help="推送队列（群发微信、钉钉）")
    ps = p.add_subparsers(dest="posts_command", required=True)

    add = ps.add_parser("add", help="安排一条推送")
    add.add_argument("--title", required=True)
    body = add.add_mutually_exclusive_group(required=True)
    body.add_argument("--body", help="正文（微信为文章 HTML 或纯文本，钉钉为 markdown）")
    body.add_argument("--body-file", help="从文件读取正文（UTF-8）")
    add.add_argument("--channel", required=True, choices=CHANNELS)
    add.add_argument("--at", required=True, help='发送时间，北京时间 "YYYY-MM-DD HH:MM"')
    add.add_argument("--digest", default="")
    add.add_argument("--audience", default="all", help="all（全部关注者）或 tag:<标签编号>")
    add.add_argument("--campaign", help="所属宣传节点（campaigns 中的 key）")
    add.add_argument("--draft", action="store_true", help="只存为草稿，不安排发送")
    add.add_argument("--json", action="store_true")
    add.set_defaults(func=run_add)

    ls = ps.add_parser("list", help="列出推送")
    ls.add_argument("--state", choices=STATES)
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=run_list)

    show = ps.add_parser("show", help="查看一条推送及其每次发送记录")
    show.add_argument("id", type=int)
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=run_show)

    sched = ps.add_parser("schedule", help="把草稿（如自动生成的草稿）安排发送")
    sched.add_argument("id", type=int)
    sched.add_argument("--at", help='发送时间，北京时间 "YYYY-MM-DD HH:MM"（默认用草稿上的时间）')
    sched.set_defaults(func=run_schedule)

    preview = ps.add_parser("preview", help="把推送预览发给工作人员（scheduler.preview_openids）")
    preview.add_argument("id", type=int)
    preview.add_argument("--openid", action="append", help="接收预览的 openid（可重复；默认用配置）")
    preview.set_defaults(func=run_preview)

    edit = ps.add_parser("edit", help="修改尚未发送的推送")
    edit.add_argument("id", type=int)
    edit.add_argument("--title")
    edit.add_argument("--body")
    edit.add_argument("--digest")
    edit.add_argument("--at", help='新的发送时间，北京时间 "YYYY-MM-DD HH:MM"')
    edit.set_defaults(func=run_edit)

    cancel = ps.add_parser("cancel", help="取消尚未发送的推送")
    cancel.add_argument("id", type=int)
    cancel.set_defaults(func=run_cancel)

    log = ps.add_parser("log", help="推送日志（每次尝试）")
    log.add_argument("--month", required=True, help="YYYY-MM（北京时间）")
    log.add_argument("--json", action="store_true")
    log.set_defaults(func=run_log)

    alerts = ps.add_parser("alerts", help="需要工作人员处理的提醒")
    alerts.set_defaults(func=run_alerts)


def _with_db(settings: Settings, work: Callable[[async_sessionmaker[AsyncSession]], Awaitable[T]]) -> T:
    async def main() -> T:
        engine = create_engine(settings.database.url, busy_timeout=settings.database.busy_timeout)
        try:
            return await work(create_sessionmaker(engine))
        finally:
            await engine.dispose()

    return asyncio.run(main())


def post_json(p: Post) -> dict[str, Any]:
    return {
        "id": p.id, "title": p.title, "channel": p.channel, "audience": p.audience, "campaign": p.campaign,
        "state": p.state, "send_at": local(p.send_at).isoformat(), "idem_key": p.idem_key,
        "attempts": p.attempts, "msg_id": p.msg_id,
        "sent_at": local(p.sent_at).isoformat() if p.sent_at else None,
        "result_status": p.result_status, "sent_count": p.sent_count, "last_error": p.last_error,
    }


def attempt_json(a: PushAttempt) -> dict[str, Any]:
    return {
        "post_id": a.post_id, "channel": a.channel, "attempt": a.attempt, "time": local(a.started_at).isoformat(),
        "outcome": a.outcome, "error_code": a.error_code, "error": a.error, "msg_id": a.msg_id,
        "total_count": a.total_count, "sent_count": a.sent_count, "error_count": a.error_count,
    }


def _fail(message: str) -> int:
    print(message, file=sys.stderr)
    return 1


def run_add(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    try:
        send_at = parse_local(args.at)
        body = Path(args.body_file).read_text(encoding="utf-8") if args.body_file else args.body
    except (TimeFormatError, OSError) as exc:
        return _fail(str(exc))
    new = NewPost(title=args.title, body=body, channel=args.channel, send_at=send_at, digest=args.digest,
                  audience=args.audience, campaign=args.campaign, draft=args.draft)
    try:
        post = _with_db(settings, lambda s: add_post(s, new, account_type=settings.wechat.account_type))
    except (PostError, QuotaExceeded) as exc:
        return _fail(str(exc))
    if args.json:
        print(json.dumps(post_json(post), ensure_ascii=False))
    else:
        what = "已存为草稿" if args.draft else "已安排推送"
        print(f"{what} #{post.id}《{post.title}》：{fmt_local(post.send_at)}（北京时间）经{_channel(post.channel)}发送")
    return 0


def _channel(name: str) -> str:
    return {"wechat": "微信群发", "dingtalk": "钉钉群"}.get(name, name)


def run_list(args: argparse.Namespace) -> int:
    posts = _with_db(settings_from(args), lambda s: list_posts(s, args.state))
    if args.json:
        print(json.dumps([post_json(p) for p in posts], ensure_ascii=False, indent=1))
        return 0
    if not posts:
        print("没有推送。")
    for p in posts:
        print(f"#{p.id:<5} {fmt_local(p.send_at)}  {_channel(p.channel):<6} {STATE_NAMES.get(p.state, p.state):<6} "
              f"{p.title}")
    return 0


def run_show(args: argparse.Namespace) -> int:
    async def load(s: async_sessionmaker[AsyncSession]) -> tuple[Post | None, list[PushAttempt]]:
        return await get_post(s, args.id), await attempts_of(s, args.id)

    post, attempts = _with_db(settings_from(args), load)
    if post is None:
        return _fail(f"没有编号为 {args.id} 的推送")
    if args.json:
        print(json.dumps({**post_json(post), "body": post.body, "log": [attempt_json(a) for a in attempts]},
                         ensure_ascii=False, indent=1))
        return 0
    print(f"#{post.id}《{post.title}》 {STATE_NAMES.get(post.state, post.state)}")
    print(f"  渠道：{_channel(post.channel)}  对象：{post.audience}  发送时间：{fmt_local(post.send_at)}")
    print(f"  幂等键（clientmsgid）：{post.idem_key}")
    if post.msg_id:
        print(f"  msg_id：{post.msg_id}  结果：{post.result_status or '等待微信回报'}  送达：{post.sent_count or '-'}")
    if post.last_error:
        print(f"  最近错误：{post.last_error}")
    for a in attempts:
        print(f"  第 {a.attempt} 次  {fmt_local(a.started_at)}  {OUTCOME_NAMES.get(a.outcome, a.outcome)}"
              + (f"  错误码 {a.error_code}" if a.error_code else "") + (f"  {a.error}" if a.error else ""))
    return 0


def run_schedule(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    try:
        when = parse_local(args.at) if args.at else None
        post = _with_db(settings, lambda s: schedule_draft(s, args.id, account_type=settings.wechat.account_type,
                                                           send_at=when))
    except (TimeFormatError, PostError, QuotaExceeded) as exc:
        return _fail(str(exc))
    print(f"已安排推送 #{post.id}《{post.title}》：{fmt_local(post.send_at)}（北京时间）经{_channel(post.channel)}发送")
    return 0


def run_preview(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    w = settings.wechat
    if not (w.appid and w.appsecret):
        return _fail("没有配置公众号 appid / appsecret，无法预览")

    async def work(s: async_sessionmaker[AsyncSession]) -> list[PreviewResult] | str:
        # Staff openids may have been changed on the admin 设置 page.
        openids = args.openid or staff_openids((await with_overlay(settings, s)).scheduler.preview_openids)
        post = await get_post(s, args.id)
        if post is None:
            return f"没有编号为 {args.id} 的推送"
        async with aiohttp.ClientSession(trust_env=False) as http:
            client = WechatClient(http, appid=w.appid, secret=w.appsecret.reveal(), api_base=w.api_base,
                                  timeout=w.api_timeout)
            try:
                results = await send_preview(client, post, openids, CoverStore.from_settings(settings))
                await store_thumb(s, post)
                return results
            except ValueError as exc:
                return str(exc)
            except (WechatApiError, WechatTransportError) as exc:
                return f"预览失败：{exc}"

    results = _with_db(settings, work)
    if isinstance(results, str):
        return _fail(results)
    for r in results:
        print(f"{r.openid}：{'已发送预览' if r.ok else '失败 ' + r.error}")
    return 0 if all(r.ok for r in results) else 1


def run_edit(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    try:
        when = parse_local(args.at) if args.at else None
        post = _with_db(settings, lambda s: edit_post(s, args.id, account_type=settings.wechat.account_type,
                                                      title=args.title, body=args.body, digest=args.digest,
                                                      send_at=when))
    except (TimeFormatError, PostError, QuotaExceeded) as exc:
        return _fail(str(exc))
    print(f"已修改推送 #{post.id}《{post.title}》：{fmt_local(post.send_at)}（北京时间）")
    return 0


def run_cancel(args: argparse.Namespace) -> int:
    try:
        post = _with_db(settings_from(args), lambda s: cancel_post(s, args.id))
    except PostError as exc:
        return _fail(str(exc))
    print(f"已取消推送 #{post.id}《{post.title}》")
    return 0


def run_log(args: argparse.Namespace) -> int:
    try:
        year, month = parse_month(args.month)
    except TimeFormatError as exc:
        return _fail(str(exc))
    rows = _with_db(settings_from(args), lambda s: month_log(s, year, month))
    delivered = {p.id for a, p in rows if a.outcome in ("sent", "already_sent")}
    if args.json:
        print(json.dumps({"month": f"{year:04d}-{month:02d}", "delivered_posts": len(delivered),
                          "attempts": [{**attempt_json(a), "title": p.title} for a, p in rows]},
                         ensure_ascii=False, indent=1))
        return 0
    for a, p in rows:
        print(f"{fmt_local(a.started_at)}  #{p.id}《{p.title}》 {_channel(a.channel)} 第 {a.attempt} 次 "
              f"{OUTCOME_NAMES.get(a.outcome, a.outcome)}" + (f" 错误码 {a.error_code}" if a.error_code else "")
              + (f" msg_id {a.msg_id}" if a.msg_id else ""))
    print(f"{year} 年 {month} 月：共 {len(rows)} 次发送尝试，发送有关法律知识 {len(delivered)} 条。")
    return 0


def run_alerts(args: argparse.Namespace) -> int:
    alerts = _with_db(settings_from(args), open_alerts)
    if not alerts:
        print("没有待处理的提醒。")
    for a in alerts:
        print(f"{fmt_local(a.created_at)}  {a.message}")
    return 0
