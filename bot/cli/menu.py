"""``pufa menu``: show or set the official account's custom menu."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

import aiohttp

from bot.cli.common import settings_from
from bot.config import Settings
from bot.knowledge_service import entries_dir
from bot.menu import build_menu
from bot.wechat.client import WechatApiError, WechatClient, WechatTransportError
from knowledge.entries import load_entries


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("menu", help="公众号自定义菜单")
    msub = p.add_subparsers(dest="menu_command", required=True)
    msub.add_parser("show", help="显示将要设置的菜单（JSON）").set_defaults(func=run_show)
    msub.add_parser("push", help="通过接口设置公众号菜单").set_defaults(func=run_push)


def menu_for(settings: Settings) -> dict[str, object]:
    topics: dict[str, tuple[str, str, list[object]]] = {}
    for e in load_entries(entries_dir(settings)):
        topics.setdefault(e.topic_key, (e.topic_key, e.topic, []))
    return build_menu(list(topics.values()))


def run_show(args: argparse.Namespace) -> int:
    print(json.dumps(menu_for(settings_from(args)), ensure_ascii=False, indent=2))
    return 0


async def _push(settings: Settings) -> None:
    w = settings.wechat
    async with aiohttp.ClientSession(trust_env=False) as session:
        client = WechatClient(session, appid=w.appid, secret=w.appsecret.reveal(), api_base=w.api_base,
                              timeout=w.api_timeout)
        await client.create_menu(menu_for(settings))


def run_push(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    if not settings.wechat.appsecret:
        print("需要配置 wechat.appid 和 wechat.appsecret（PUFA_WECHAT_APPSECRET）", file=sys.stderr)
        return 2
    try:
        asyncio.run(_push(settings))
    except (WechatApiError, WechatTransportError) as exc:
        print(f"设置菜单失败：{exc}", file=sys.stderr)
        return 1
    print("菜单已设置。微信客户端可能要过一段时间才显示新菜单。")
    return 0
