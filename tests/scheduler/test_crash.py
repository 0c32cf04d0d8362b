"""kill -9 the sending process inside every phase, restart, and check every post went out once.

Real processes: the sandbox API serves from one (it outlives the senders), ``python -m scheduler.run``
runs the sender in another and prints a marker at each phase (PUFA_SCHEDULER_TRACE), pausing briefly
so the kill lands inside the phase. Each killed sender is replaced by a new one, which must finish
its predecessor's work. Exactly once is judged from the sandbox's record of accepted sends.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from datetime import timedelta

from bot.db.base import utcnow
from scheduler.posts import NewPost, add_post, attempts_of, list_posts

from .procs import sender_env, start_sandbox, start_sender, wait_all_sent

PAUSE = 0.15
# (marker to wait for, sandbox fault on sendall, extra delay window after the marker)
PHASES: list[tuple[str, str | None, tuple[float, float]]] = [
    ("before_claim_commit", None, (0.0, PAUSE * 0.7)),  # claim not yet committed
    ("claimed", None, (0.0, PAUSE * 0.7)),  # claim committed, nothing sent
    ("http_start", None, (0.0, PAUSE * 0.7)),  # draft/add about to run
    ("http_sendall", "slow_before:0.5", (PAUSE + 0.05, PAUSE + 0.4)),  # in flight, not yet accepted
    ("http_sendall", "slow_after:0.5", (PAUSE + 0.1, PAUSE + 0.4)),  # accepted, answer still in flight
    ("accepted", None, (0.0, PAUSE * 0.7)),  # WeChat accepted; msg_id not stored yet
    ("stored", None, (0.0, 0.3)),  # sent; waiting for MASSSENDJOBFINISH / mass/get
]
TRIALS = 21


async def test_kill9_in_every_phase_sends_each_post_exactly_once(database_url, engine, sessions) -> None:
    rng = random.Random(20261204)
    sandbox = await start_sandbox()
    env = sender_env(database_url, sandbox.base, PUFA_SCHEDULER_TRACE="1", PUFA_SCHEDULER_TRACE_PAUSE=str(PAUSE))

    def env_for(trial: int) -> dict[str, str]:
        # Each sender process is killed once, in the phase of its trial: pause only there.
        return {**env, "PUFA_SCHEDULER_TRACE_PAUSE_AT": PHASES[trial % len(PHASES)][0]}

    post_ids: list[int] = []
    kills: Counter[str] = Counter()
    sender = await start_sender(env_for(0))
    try:
        for trial in range(TRIALS):
            marker, fault, (lo, hi) = PHASES[trial % len(PHASES)]
            if fault:
                await sandbox.inject("sendall", fault)
            post = await add_post(sessions, NewPost(
                title=f"第 {trial} 次试验", body="宪法是国家的根本法。", channel="wechat",
                send_at=utcnow() + timedelta(milliseconds=100)), account_type="service", enforce_quota=False)
            post_ids.append(post.id)
            await sender.wait_for(f"TRACE {marker} {post.id}")
            await asyncio.sleep(rng.uniform(lo, hi))
            sender.kill9()
            await sender.proc.wait()
            kills[marker if not fault else f"{marker}/{fault.split(':')[0]}"] += 1
            sender = await start_sender(env_for(trial + 1))
        drain = asyncio.create_task(sender.drain())
        await wait_all_sent(sessions, TRIALS)
        await asyncio.sleep(1.0)  # let the last sender reconcile a few results (not asserted)
        await sender.stop()
        drain.cancel()
        sent = [r for r in await sandbox.sent() if r["kind"] == "mass"]
    finally:
        sender.kill9()
        await sandbox.stop()

    assert len(kills) == len(PHASES), kills
    posts = {p.id: p for p in await list_posts(sessions)}
    by_key = Counter(r["clientmsgid"] for r in sent)
    # Exactly once: one accepted send per post, none under any other key, no post lost.
    assert sorted(by_key) == sorted(p.idem_key for p in posts.values())
    assert set(by_key.values()) == {1}
    msg_ids = {r["clientmsgid"]: r["msg_id"] for r in sent}
    for post in posts.values():
        assert post.msg_id == msg_ids[post.idem_key], post.id
        log = await attempts_of(sessions, post.id)
        outcomes = Counter(a.outcome for a in log)
        # The push log is exact: one success per post, every cut-short attempt marked interrupted.
        assert outcomes["sent"] + outcomes["already_sent"] == 1, (post.id, outcomes)
        assert outcomes["pending"] == 0, (post.id, outcomes)
