"""``pufa db upgrade``: apply the database migrations."""

from __future__ import annotations

import argparse
import asyncio

from bot.cli.common import settings_from
from bot.db.migrate import current_revision, upgrade
from bot.db.session import create_engine


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("db", help="数据库管理")
    dsub = p.add_subparsers(dest="db_command", required=True)
    up = dsub.add_parser("upgrade", help="把数据库结构升级到最新")
    up.set_defaults(func=run_upgrade)


async def _upgrade(url: str) -> str | None:
    engine = create_engine(url)
    try:
        await upgrade(engine)
        return await current_revision(engine)
    finally:
        await engine.dispose()


def run_upgrade(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    rev = asyncio.run(_upgrade(settings.database.url))
    print(f"数据库已是最新结构（{rev}）")
    return 0
