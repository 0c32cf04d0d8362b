"""Two real ``pufa serve`` processes (demo mode off) on one database, against the sandbox API in a
third process: every due post is delivered once, by one of them only."""

from __future__ import annotations

import asyncio
import shutil
import socket
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path

import aiohttp

from bot.db.base import utcnow
from scheduler.models import SENT
from scheduler.posts import NewPost, add_post, attempts_of, list_posts

from .procs import HANG_GUARD, ROOT, SenderProcess, sender_env, start_sandbox

PUFA = str(Path(sys.executable).with_name("pufa"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _spawn(env: dict[str, str]) -> tuple[SenderProcess, int]:
    port = _free_port()
    proc = await asyncio.create_subprocess_exec(
        PUFA, "serve", cwd=ROOT, env={**env, "PUFA_SERVER_PORT": str(port)},
        stdout=asyncio.subprocess.PIPE,  # stderr: inherited, captured by pytest
    )
    return SenderProcess(proc), port


async def _listening(sp: SenderProcess) -> None:
    assert sp.proc.stdout is not None
    while True:  # aiohttp prints "======== Running on http://127.0.0.1:<port> ========"
        raw = await asyncio.wait_for(sp.proc.stdout.readline(), HANG_GUARD * 2)
        if not raw:
            raise AssertionError(f"pufa serve exited: {sp.lines[-5:]}")
        sp.lines.append(raw.decode().strip())
        if "Running on" in sp.lines[-1]:
            return


async def test_two_pufa_serve_processes_send_each_post_once(database_url, engine, sessions,
                                                            tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    shared = Path(ROOT) / "data" / "cache" / "pufa-jieba.cache"
    if shared.exists():  # a copy: the tokenizer's dictionary cache saves each process a few seconds
        shutil.copy(shared, cache / shared.name)
    sandbox = await start_sandbox()
    env = sender_env(database_url, sandbox.base, PUFA_SCHEDULER_TRACE="1",
                     PUFA_SERVER_HOST="127.0.0.1",
                     PUFA_REPORTS_OUTPUT_DIR=str(tmp_path / "reports"),
                     PUFA_KNOWLEDGE_CACHE_DIR=str(cache),
                     PUFA_DEMO_STATE_FILE=str(tmp_path / "demo.toml"))
    procs: list[SenderProcess] = []
    drains: list[asyncio.Task[None]] = []
    try:
        started = [await _spawn(env) for _ in range(2)]
        procs.extend(p for p, _ in started)
        await asyncio.gather(*(_listening(p) for p in procs))
        for p, port in started:
            drains.append(asyncio.create_task(p.drain()))
            async with aiohttp.ClientSession(trust_env=False) as http, \
                    http.get(f"http://127.0.0.1:{port}/healthz") as r:
                health = await r.json()
                assert (health["status"], health["demo"]) == ("ok", False)
                assert health["matching"] in {"helper", "warming", "loop"}
        for i in range(6):
            await add_post(sessions, NewPost(title=f"推送 {i}", body="正文", channel="wechat",
                                             send_at=utcnow() + timedelta(milliseconds=300 + 100 * i)),
                           account_type="service", enforce_quota=False)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + HANG_GUARD
        while loop.time() < deadline:
            posts = await list_posts(sessions)
            if all(p.state == SENT for p in posts):
                break
            await asyncio.sleep(0.1)
        sent = [r for r in await sandbox.sent() if r["kind"] == "mass"]
    finally:
        for p in procs:
            await p.stop()
        for d in drains:
            d.cancel()
        await sandbox.stop()
    posts = await list_posts(sessions)
    assert Counter(p.state for p in posts) == {SENT: 6}
    assert Counter(r["clientmsgid"] for r in sent) == Counter(p.idem_key for p in posts)
    for p in posts:
        assert [x.outcome for x in await attempts_of(sessions, p.id)] == ["sent"]
    claimers = [p for p in procs if any(line.startswith("TRACE claimed ") for line in p.lines)]
    assert len(claimers) == 1, "both pufa serve processes sent"
    assert all(p.proc.returncode is not None for p in procs)
