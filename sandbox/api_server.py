"""Serve the sandbox API half alone: ``python -m sandbox.api_server --appid A --secret S``.

Prints ``PORT <n>`` once listening (port 0 picks a free one). Used by the crash tests, where the
sandbox must outlive the sender processes that are killed.
"""

from __future__ import annotations

import argparse
import asyncio
import signal

from aiohttp import web

from sandbox.api import SandboxPlatform, create_api_app


async def main(appid: str, secret: str, host: str, port: int, finish_delay: float) -> None:
    platform = SandboxPlatform(appid, secret, finish_delay=finish_delay)
    runner = web.AppRunner(create_api_app(platform), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = runner.addresses[0][1]
    print(f"PORT {bound}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--appid", required=True)
    p.add_argument("--secret", required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--finish-delay", type=float, default=1.0)
    a = p.parse_args()
    asyncio.run(main(a.appid, a.secret, a.host, a.port, a.finish_delay))
