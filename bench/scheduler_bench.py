"""Scheduler overhead with 10,000 queued posts across a year.

Measures, for the real SchedulerService (APScheduler + leader lock + sender) against the in-process
sandbox API over a socket:
  * start-up: service.start() → first tick finished (leader lock, orphan recovery, due scan, next wake);
  * memory: RSS growth from before the queue is loaded to after the first tick, and the Python heap
    the service itself allocates (tracemalloc);
  * delay between a post's due time and its acceptance by the sandbox, for posts due during the run
    (one every 0.25 s, plus a burst of 20 due in the same second), with the default 20 s tick — so the
    date-job wake-up is what is measured, not the tick.

    .venv/bin/python -m bench.scheduler_bench [--posts 10000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform as pyplatform
import random
import statistics
import tempfile
import time
import tracemalloc
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import aiohttp
from aiohttp.test_utils import TestServer
from sqlalchemy import insert, text

from bot.config import SchedulerSettings
from bot.db.migrate import upgrade
from bot.db.session import create_engine, create_sessionmaker
from bot.wechat.client import WechatClient
from sandbox.api import SandboxPlatform, create_api_app
from scheduler.channels.wechat import WechatChannel
from scheduler.models import Post
from scheduler.sender import Sender
from scheduler.service import SchedulerService


def rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


async def run(n_posts: int, database_url: str | None, timed: int, burst: int) -> dict[str, float | str]:
    tmp = tempfile.mkdtemp(prefix="pufa-sched-bench-")
    url = database_url or f"sqlite+aiosqlite:///{tmp}/bench.db"
    engine = create_engine(url)
    if engine.dialect.name == "postgresql":
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    await upgrade(engine)
    sessions = create_sessionmaker(engine)

    platform = SandboxPlatform("wxbench", "secret", finish_delay=0.0)
    server = TestServer(create_api_app(platform))
    await server.start_server()
    http = aiohttp.ClientSession(trust_env=False)
    client = WechatClient(http, appid="wxbench", secret="secret", api_base=str(server.make_url("")).rstrip("/"))

    # The queue: background posts spread over the next year, and the measured ones due shortly.
    now = datetime.now(UTC)
    start_at = now + timedelta(seconds=8)
    rng = random.Random(1)
    rows = []
    background = n_posts - timed - burst
    for i in range(background):
        at = now + timedelta(hours=1) + timedelta(seconds=rng.uniform(0, 365 * 86400))
        rows.append(_row(f"年度推送 {i}", at, now))
    measured = [start_at + timedelta(seconds=0.25 * i) for i in range(timed)]
    burst_at = start_at + timedelta(seconds=0.25 * timed + 1)
    measured += [burst_at] * burst
    rows += [_row(f"测量 {i}", at, now) for i, at in enumerate(measured)]
    async with sessions() as s, s.begin():
        for i in range(0, len(rows), 1000):
            await s.execute(insert(Post), rows[i:i + 1000])

    rss0 = rss_mib()
    tracemalloc.start()
    settings = replace(SchedulerSettings(), tick_seconds=20.0)
    sender = Sender(sessions, settings, {"wechat": WechatChannel(client)})
    service = SchedulerService(engine, sessions, settings, sender, wechat=client)
    t0 = time.perf_counter()
    await service.start()
    while service.last_stats is None:
        await asyncio.sleep(0.005)
    startup = time.perf_counter() - t0
    heap = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    rss1 = rss_mib()

    wanted: dict[str, float] = {str(r["idem_key"]): r["send_at"].timestamp()  # type: ignore[attr-defined]
                                for r in rows[background:]}
    deadline = time.monotonic() + (measured[-1] - datetime.now(UTC)).total_seconds() + 30
    while time.monotonic() < deadline:
        if sum(1 for r in platform.sent if r.clientmsgid in wanted) == len(wanted):
            break
        await asyncio.sleep(0.1)
    delays = sorted(r.time - wanted[r.clientmsgid] for r in platform.sent if r.clientmsgid in wanted)
    await service.stop()
    await http.close()
    await server.close()
    await engine.dispose()
    if len(delays) != len(wanted):
        raise SystemExit(f"only {len(delays)} of {len(wanted)} measured posts were sent")
    q = statistics.quantiles(delays, n=100, method="inclusive")
    return {
        "db": engine.dialect.name, "posts": n_posts, "measured": len(delays),
        "startup_s": startup, "rss_growth_mib": rss1 - rss0, "rss_mib": rss1, "heap_peak_mib": heap,
        "delay_p50_s": statistics.median(delays), "delay_p99_s": q[98], "delay_max_s": delays[-1],
        "delay_min_s": delays[0],
    }


def _row(title: str, at: datetime, now: datetime) -> dict[str, object]:
    return {"idem_key": f"pufa-{uuid.uuid4().hex}", "title": title, "digest": "", "body": "<p>正文</p>",
            "channel": "wechat", "audience": "all", "send_at": at, "due_at": at, "state": "scheduled",
            "attempts": 0, "created_by": "bench", "created_at": now, "updated_at": now}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--posts", type=int, default=10_000)
    p.add_argument("--timed", type=int, default=120, help="posts due one every 0.25 s during the run")
    p.add_argument("--burst", type=int, default=20, help="posts due in the same second")
    p.add_argument("--database-url")
    a = p.parse_args()
    r = asyncio.run(run(a.posts, a.database_url, a.timed, a.burst))
    print(f"machine: {os.cpu_count()} cores, CPython {pyplatform.python_version()}, {pyplatform.platform()}")
    for k, v in r.items():
        print(f"{k}: {v:.3f}" if isinstance(v, float) else f"{k}: {v}")


if __name__ == "__main__":
    main()
