"""``pufa staff``: accounts for the admin pages (``pufa staff add NAME --role editor|admin``)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys

from bot.cli.common import settings_from
from bot.config import Settings
from bot.db.session import create_engine, create_sessionmaker


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("staff", help="管理页面的工作人员账号")
    ssub = p.add_subparsers(dest="staff_command", required=True)
    add = ssub.add_parser("add", help="新建账号（密码在提示时输入）")
    add.add_argument("name")
    add.add_argument("--role", choices=("editor", "admin"), default="editor",
                     help="editor：内容和推送；admin：另可管理账号、设置、查看留言原文")
    add.add_argument("--password-stdin", action="store_true", help="从标准输入读密码（脚本和测试用）")
    add.set_defaults(func=run_add)
    ls = ssub.add_parser("list", help="列出账号")
    ls.set_defaults(func=run_list)


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("密码（至少8位）：")
    if getpass.getpass("再输入一次：") != first:
        raise SystemExit("两次输入的密码不一致")
    return first


async def _add(settings: Settings, name: str, role: str, password: str) -> None:
    from admin.accounts import add_staff

    engine = create_engine(settings.database.url)
    try:
        await add_staff(create_sessionmaker(engine), name, role, password, actor="cli")
    finally:
        await engine.dispose()


def run_add(args: argparse.Namespace) -> int:
    from admin.accounts import AccountError

    settings = settings_from(args)
    try:
        asyncio.run(_add(settings, args.name, args.role, _password(args)))
    except AccountError as exc:
        print(f"未能新建账号：{exc}", file=sys.stderr)
        return 1
    print(f"已新建账号 {args.name}（{'管理员' if args.role == 'admin' else '编辑'}）")
    return 0


async def _list(settings: Settings) -> list[tuple[str, str, bool]]:
    from admin.accounts import list_staff

    engine = create_engine(settings.database.url)
    try:
        return [(u.name, u.role, u.active) for u in await list_staff(create_sessionmaker(engine))]
    finally:
        await engine.dispose()


def run_list(args: argparse.Namespace) -> int:
    for name, role, active in asyncio.run(_list(settings_from(args))):
        print(f"{name}\t{role}\t{'正常' if active else '已停用'}")
    return 0
