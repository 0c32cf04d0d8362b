"""``pufa serve``: run the webhook (and, in demo mode, the sandbox) until interrupted."""

from __future__ import annotations

import argparse
import sys

from bot.cli.common import settings_from
from bot.demo import banner
from bot.matchworker import preload


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("serve", help="运行服务 (webhook)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    # Before the web server's and the database layer's imports (~1.4 s of the cold start on this
    # machine kind): the match helper loads the knowledge snapshot meanwhile, on the other core.
    helper = preload(settings.knowledge.cache_dir) if settings.knowledge.match_process else None
    from aiohttp import web

    from bot import logs
    from bot.app import SchemaMissing, create_app

    logs.setup(settings.logging.level)
    if settings.demo_mode:
        print(banner(settings), flush=True)
    app = create_app(settings, preload=helper)
    try:
        web.run_app(app, host=settings.server.host, port=settings.server.port,
                    access_log_class=logs.AccessLogger, print=lambda m: print(m, flush=True))
    except SchemaMissing as exc:
        print(str(exc), file=sys.stderr)
        return 2
    return 0
