"""Two scheduler processes on one database (SQLite file, or PostgreSQL with PUFA_TEST_DATABASE_URL):
only the leader sends, each post goes out once, and the other takes over when the leader is killed."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

from bot.db.base import utcnow
from scheduler.posts import NewPost, add_post, attempts_of, list_posts

from .procs import sender_env, start_sandbox, start_sender, wait_all_sent


async def _queue(sessions, n: int, start: int) -> None:
    for i in range(n):
        await add_post(sessions, NewPost(title=f"推送 {start + i}", body="正文", channel="wechat",
                                         send_at=utcnow() + timedelta(milliseconds=200 + 50 * i)),
                       account_type="service", enforce_quota=False)


def _claims(lines: list[str]) -> set[str]:
    return {line.split()[2] for line in lines if line.startswith("TRACE claimed ")}


async def test_two_processes_one_database(database_url, engine, sessions) -> None:
    sandbox = await start_sandbox()
    env = sender_env(database_url, sandbox.base, PUFA_SCHEDULER_TRACE="1",
                     # Long lease: a takeover below can only come from the dead-holder / advisory-lock path.
                     PUFA_SCHEDULER_LEADER_LEASE_SECONDS="600")
    a, b = await asyncio.gather(start_sender(env), start_sender(env))
    drains = [asyncio.create_task(p.drain()) for p in (a, b)]
    try:
        await _queue(sessions, 8, 0)
        await wait_all_sent(sessions, 8)
        first = [p for p in (a, b) if _claims(p.lines)]
        assert len(first) == 1, "both processes sent"
        leader, other = first[0], (b if first[0] is a else a)
        leader.kill9()
        await leader.proc.wait()
        await _queue(sessions, 4, 8)
        await wait_all_sent(sessions, 12)
        assert _claims(other.lines), "the survivor did not take over"
        await other.stop()
        sent = [r for r in await sandbox.sent() if r["kind"] == "mass"]
    finally:
        for p in (a, b):
            p.kill9()
        for d in drains:
            d.cancel()
        await sandbox.stop()
    posts = await list_posts(sessions)
    assert Counter(r["clientmsgid"] for r in sent) == Counter(p.idem_key for p in posts)
    for p in posts:
        assert [x.outcome for x in await attempts_of(sessions, p.id)] == ["sent"]
