"""``pufa ask``: answer questions offline exactly as the webhook would."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.ask import ask, outcome_json
from bot.cli.common import settings_from
from bot.config import Settings
from bot.db.migrate import current_revision, head_revision
from bot.db.session import create_engine, create_sessionmaker
from bot.knowledge_service import KnowledgeHolder
from bot.live_settings import LiveSettings
from bot.routing import build_dispatcher
from bot.services import AppServices


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("ask", help="离线提问，输出机器人会怎么回答")
    p.add_argument("question", nargs="?", help="问题")
    p.add_argument("--json", action="store_true", help="输出 JSON")
    p.add_argument("--jsonl", action="store_true", help="从标准输入逐行读问题，每行输出一个 JSON")
    p.set_defaults(func=run)


@asynccontextmanager
async def offline_services(settings: Settings) -> AsyncIterator[AppServices]:
    """Knowledge from the database when it is migrated and filled, else the bundled files."""
    engine = create_engine(settings.database.url)
    try:
        sessions = None
        try:
            if await current_revision(engine) == head_revision():
                sessions = create_sessionmaker(engine)
        except Exception:  # no database yet: the bundled files are the knowledge base
            sessions = None
        live = LiveSettings(settings)
        if sessions is not None:
            await live.reload(sessions)  # the contacts admins set, as the webhook would answer
        holder = KnowledgeHolder(settings, sessions)
        await holder.load()
        try:
            yield AppServices(live, holder)
        finally:
            holder.close()
    finally:
        await engine.dispose()


async def _run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    dispatcher = build_dispatcher()
    async with offline_services(settings) as services:
        if args.jsonl:
            for line in sys.stdin:
                question = line.rstrip("\n")
                out = outcome_json(await ask(dispatcher, services, question))
                print(json.dumps(out, ensure_ascii=False), flush=True)
            return 0
        if args.question is None:
            print("请给出问题，例如：pufa ask \"老板欠工钱咋办\"", file=sys.stderr)
            return 2
        out = outcome_json(await ask(dispatcher, services, args.question))
        if args.json:
            print(json.dumps(out, ensure_ascii=False, indent=2))
        else:
            print(out["reply"])
        return 0


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_run(args))
