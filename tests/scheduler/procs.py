"""Real processes for the crash and leader tests: the sandbox API in one process, senders in others."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from scheduler.models import SENT
from scheduler.posts import list_posts

from .conftest import APPID, SECRET

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Guards against a hung child only; no assertion depends on timing.
HANG_GUARD = 30.0


@dataclass
class SandboxProcess:
    proc: asyncio.subprocess.Process
    base: str

    async def sent(self) -> list[dict[str, Any]]:
        async with aiohttp.ClientSession(trust_env=False) as s, s.get(self.base + "/sandbox/api/sent") as r:
            return list(await r.json())

    async def inject(self, path: str, *codes: int | str) -> None:
        async with aiohttp.ClientSession(trust_env=False) as s:
            await s.post(self.base + "/sandbox/api/faults", json={"path": path, "codes": list(codes)})

    async def stop(self) -> None:
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            await self.proc.wait()


async def start_sandbox(finish_delay: float = 0.3) -> SandboxProcess:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "sandbox.api_server", "--appid", APPID, "--secret", SECRET,
        "--finish-delay", str(finish_delay), cwd=ROOT, stdout=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    line = (await asyncio.wait_for(proc.stdout.readline(), HANG_GUARD)).decode()
    assert line.startswith("PORT "), line
    return SandboxProcess(proc, f"http://127.0.0.1:{int(line.split()[1])}")


@dataclass
class SenderProcess:
    proc: asyncio.subprocess.Process
    lines: list[str] = field(default_factory=list)

    async def wait_for(self, text: str) -> None:
        """Read stdout until a line equal to ``text`` (or fail if the process ends first)."""
        assert self.proc.stdout is not None
        while True:
            raw = await asyncio.wait_for(self.proc.stdout.readline(), HANG_GUARD)
            if not raw:
                raise AssertionError(f"sender exited before {text!r}; saw {self.lines[-5:]}")
            line = raw.decode().strip()
            self.lines.append(line)
            if line == text:
                return

    def kill9(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()

    async def drain(self) -> None:
        """Keep reading stdout so the child never blocks on a full pipe."""
        assert self.proc.stdout is not None
        async for raw in self.proc.stdout:
            self.lines.append(raw.decode().strip())

    async def stop(self) -> None:
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        await self.proc.wait()


def sender_env(database_url: str, api_base: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PUFA_")}
    env.update({
        "PUFA_DATABASE_URL": database_url,
        "PUFA_DEMO_MODE": "off",
        "PUFA_WECHAT_APPID": APPID,
        "PUFA_WECHAT_APPSECRET": SECRET,
        "PUFA_WECHAT_TOKEN": "crash-test-token",
        "PUFA_WECHAT_API_BASE": api_base,
        "PUFA_WECHAT_API_TIMEOUT": "5",
        "PUFA_SCHEDULER_TICK_SECONDS": "0.2",
        "PUFA_SCHEDULER_RECONCILE_AFTER_SECONDS": "0.5",
        # No campaign-reminder drafts: these tests count the posts they queue themselves.
        "PUFA_SCHEDULER_LEAD_DAYS": "0",
        "PUFA_LOGGING_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    })
    env.update(extra)
    return env


async def start_sender(env: dict[str, str]) -> SenderProcess:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "scheduler.run", cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE,  # stderr: inherited, captured by pytest
    )
    sp = SenderProcess(proc)
    await sp.wait_for("READY")
    return sp


def dumps(x: Any) -> str:
    return json.dumps(x, ensure_ascii=False, default=str)


async def wait_all_sent(sessions: async_sessionmaker[AsyncSession], n: int) -> None:
    """Until n posts exist and all are sent; HANG_GUARD only stops a hung run."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + HANG_GUARD
    while loop.time() < deadline:
        posts = await list_posts(sessions)
        if len(posts) == n and all(p.state == SENT for p in posts):
            return
        await asyncio.sleep(0.1)
    states = Counter(p.state for p in await list_posts(sessions))
    raise AssertionError(f"not all posts sent: {dict(states)}")
