"""Run only the scheduler (no webhook): ``python -m scheduler.run [--config FILE]``.

The same service ``pufa serve`` starts in-process; useful as a dedicated sender process and used by
the crash tests, which kill -9 it. Settings come from the config file and ``PUFA_*`` variables.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal

import aiohttp

from bot.config import load_settings
from bot.db.session import create_engine, create_sessionmaker
from bot.live_settings import LiveSettings
from bot.wechat.client import WechatClient
from scheduler.runtime import build_service


async def main(config: str | None) -> None:
    settings = load_settings(config)
    logging.basicConfig(level=settings.logging.level, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    engine = create_engine(settings.database.url, busy_timeout=settings.database.busy_timeout)
    sessions = create_sessionmaker(engine)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with aiohttp.ClientSession(trust_env=False) as http:
        w = settings.wechat
        client = (WechatClient(http, appid=w.appid, secret=w.appsecret.reveal(), api_base=w.api_base,
                               timeout=w.api_timeout) if w.appid and w.appsecret else None)
        live = LiveSettings(settings)
        await live.reload(sessions)
        poll = asyncio.create_task(live.poll(sessions))
        service = build_service(settings, engine, sessions, http, client, current=lambda: live.current)
        await service.start()
        print("READY", flush=True)
        await stop.wait()
        await service.stop()
        poll.cancel()
    await engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="pufa scheduler only")
    parser.add_argument("--config")
    asyncio.run(main(parser.parse_args().config))
