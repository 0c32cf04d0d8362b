"""The sender against the sandbox: sending, the error-code policy of reliability.md row by row,
the retry window, and the downtime matrix (grace period)."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from scheduler.models import FAILED, NEEDS_ATTENTION, SCHEDULED, SENDING, SENT
from scheduler.posts import attempts_of, get_post, open_alerts
from scheduler.sender import Sender

from .conftest import Sandbox, add_news_draft, queue


async def test_not_sent_before_due_then_sent_once(sessions, sandbox: Sandbox, sender: Sender, clock) -> None:
    post = await queue(sessions, clock)
    assert (await sender.run_due()).claimed == 0
    clock.now = post.send_at + timedelta(seconds=1)
    stats = await sender.run_due()
    got = await get_post(sessions, post.id)
    assert got is not None and got.state == SENT, (got.last_error_code, sandbox.platform.calls)
    assert stats.sent == 1
    [rec] = sandbox.mass()
    assert rec.clientmsgid == post.idem_key and got.msg_id == rec.msg_id
    assert (await sender.run_due()).claimed == 0
    log = await attempts_of(sessions, post.id)
    assert [a.outcome for a in log] == ["sent"] and log[0].msg_id == rec.msg_id


async def test_orphaned_claim_is_resent_with_same_key_and_45065_keeps_msg_id(
        sessions, sandbox: Sandbox, sender: Sender, clock) -> None:
    """The crash case in-process: WeChat accepted, the process died before storing msg_id."""
    post = await queue(sessions, clock)
    clock.now = post.send_at
    claim = await sender.claim(post.id)
    assert claim is not None
    media = await add_news_draft(sandbox, post.title)
    accepted = await sandbox.client.mass_sendall(media, clientmsgid=post.idem_key)
    # ... killed here. The next leader recovers orphans at once:
    assert await sender.recover() == 1
    stats = await sender.run_due()
    assert stats.sent == 1
    got = await get_post(sessions, post.id)
    assert got is not None and got.state == SENT and got.msg_id == accepted["msg_id"]
    assert len(sandbox.mass()) == 1
    outcomes = [a.outcome for a in await attempts_of(sessions, post.id)]
    assert outcomes == ["interrupted", "already_sent"]


# (errcode injected on sendall, expected state, log outcome, alert raised)
TABLE = [
    (-1, SCHEDULED, "retry", False),
    ("500", SCHEDULED, "retry", False),
    (45066, SCHEDULED, "retry", False),
    (45009, FAILED, "failed", True),
    (45011, FAILED, "failed", True),
    (45028, FAILED, "failed", True),
    (45015, FAILED, "failed", False),
    (45047, FAILED, "failed", False),
    (40164, NEEDS_ATTENTION, "needs_attention", True),
    (99999, FAILED, "failed", True),
]


@pytest.mark.parametrize(("fault", "state", "outcome", "alert"), TABLE, ids=[str(r[0]) for r in TABLE])
async def test_error_code_policy(sessions, sandbox: Sandbox, sender: Sender, clock, fault, state, outcome,
                                 alert) -> None:
    post = await queue(sessions, clock)
    clock.now = post.send_at
    sandbox.platform.inject("sendall", fault)
    await sender.run_due()
    got = await get_post(sessions, post.id)
    assert got is not None and got.state == state
    [attempt] = await attempts_of(sessions, post.id)
    assert attempt.outcome == outcome
    assert bool(await open_alerts(sessions)) is alert
    assert sandbox.mass() == []
    if state == SCHEDULED:
        # Backs off at least 60 s, then the retry reuses the key and gets through.
        assert got.due_at - clock.now >= timedelta(seconds=60)
        clock.advance(59)
        assert (await sender.run_due()).claimed == 0
        clock.advance(2)
        assert (await sender.run_due()).sent == 1
        [rec] = sandbox.mass()
        assert rec.clientmsgid == post.idem_key


@pytest.mark.parametrize("code", [40001, 40014, 42001])
async def test_token_errors_refresh_once_and_retry_once(sessions, sandbox: Sandbox, sender: Sender, clock,
                                                        code) -> None:
    post = await queue(sessions, clock)
    clock.now = post.send_at
    sandbox.platform.inject("sendall", code)
    stats = await sender.run_due()
    assert stats.sent == 1
    assert sandbox.platform.calls.count("stable_token") == 2  # initial + one forced refresh
    assert sandbox.platform.calls.count("sendall") == 2


async def test_token_error_twice_backs_off(sessions, sandbox: Sandbox, sender: Sender, clock) -> None:
    post = await queue(sessions, clock)
    clock.now = post.send_at
    sandbox.platform.inject("sendall", 40001, 40001)
    await sender.run_due()
    got = await get_post(sessions, post.id)
    assert got is not None and got.state == SCHEDULED and sandbox.platform.calls.count("sendall") == 2


async def test_timeout_is_retried_with_same_key(sessions, sandbox: Sandbox, sender: Sender, clock) -> None:
    post = await queue(sessions, clock)
    clock.now = post.send_at
    # Accepted by the platform, but the answer comes after the client's 2 s timeout.
    sandbox.platform.inject("sendall", "slow_after:3")
    await sender.run_due()
    got = await get_post(sessions, post.id)
    assert got is not None and got.state == SCHEDULED
    assert len(sandbox.mass()) == 1
    clock.advance(61)
    await sender.run_due()
    got = await get_post(sessions, post.id)
    assert got is not None and got.state == SENT and got.msg_id == sandbox.mass()[0].msg_id
    assert len(sandbox.mass()) == 1
    assert [a.outcome for a in await attempts_of(sessions, post.id)] == ["retry", "already_sent"]


async def test_retries_stop_after_24_hours(sessions, sandbox: Sandbox, sender: Sender, clock) -> None:
    post = await queue(sessions, clock)
    clock.now = post.send_at
    for _ in range(200):
        sandbox.platform.inject("sendall", -1)
    for _ in range(100):
        await sender.run_due()
        got = await get_post(sessions, post.id)
        assert got is not None
        if got.state != SCHEDULED:
            break
        clock.now = got.due_at
    assert got.state == NEEDS_ATTENTION
    assert clock.now - post.send_at <= timedelta(hours=24)
    log = await attempts_of(sessions, post.id)
    assert log[-1].outcome == "needs_attention" and all(a.outcome == "retry" for a in log[:-1])
    gaps = [(b.started_at - a.started_at).total_seconds() for a, b in itertools.pairwise(log)]
    assert min(gaps) >= 60
    assert sandbox.mass() == []
    assert await open_alerts(sessions)


@pytest.mark.parametrize(
    ("down_for", "grace_hours", "expected"),
    [
        (timedelta(seconds=6), 6, SENT),
        (timedelta(hours=5, minutes=59), 6, SENT),
        (timedelta(hours=6, minutes=1), 6, NEEDS_ATTENTION),
        (timedelta(hours=6, minutes=1), 8, SENT),
        (timedelta(hours=26), 6, NEEDS_ATTENTION),
        (timedelta(hours=26), 48, NEEDS_ATTENTION),  # past WeChat's 24 h memory: never automatic
    ],
)
async def test_downtime_matrix(sessions, sandbox: Sandbox, clock, down_for, grace_hours, expected) -> None:
    from dataclasses import replace

    from bot.config import SchedulerSettings
    from scheduler.channels.wechat import WechatChannel

    post = await queue(sessions, clock)
    settings = replace(SchedulerSettings(), grace_seconds=grace_hours * 3600.0)
    # The service was down across the send time; this is the first pass after start-up.
    clock.now = post.send_at + down_for
    sender = Sender(sessions, settings, {"wechat": WechatChannel(sandbox.client)}, clock=clock)
    await sender.recover()
    await sender.run_due()
    got = await get_post(sessions, post.id)
    assert got is not None and got.state == expected
    assert len(sandbox.mass()) == (1 if expected == SENT else 0)
    if expected == NEEDS_ATTENTION:
        [alert] = await open_alerts(sessions)
        assert f"#{post.id}" in alert.message


async def test_lease_fences_a_stale_sender(sessions, sandbox: Sandbox, sender: Sender, clock) -> None:
    """A claim whose sender vanished is taken over after the claim lease; the stale sender's late
    answer does not overwrite the new attempt."""
    post = await queue(sessions, clock)
    clock.now = post.send_at
    first = await sender.claim(post.id)
    assert first is not None
    assert await sender.claim(post.id) is None  # held
    got = await get_post(sessions, post.id)
    assert got is not None and got.state == SENDING
    clock.advance(121)
    stats = await sender.run_due()
    assert stats.sent == 1 and len(sandbox.mass()) == 1


async def test_mass_result_event_and_reconcile(sessions, sandbox: Sandbox, sender: Sender, clock) -> None:
    from scheduler.results import MassResults

    a = await queue(sessions, clock)
    b = await queue(sessions, clock, at="2026-12-05 08:30", title="第二条")
    clock.now = a.send_at
    await sender.run_due()
    clock.now = b.send_at
    await sender.run_due()
    pa, pb = await get_post(sessions, a.id), await get_post(sessions, b.id)
    assert pa is not None and pb is not None and pa.msg_id and pb.msg_id
    results = MassResults(sessions, clock)
    event = {"MsgID": str(pa.msg_id), "Status": "send success", "TotalCount": "100", "FilterCount": "98",
             "SentCount": "97", "ErrorCount": "1"}
    await results.on_event(event)
    await results.on_event(event)  # repeated by WeChat: no change
    pa = await get_post(sessions, a.id)
    assert pa is not None and (pa.result_status, pa.sent_count, pa.error_count) == ("send success", 97, 1)
    [attempt] = await attempts_of(sessions, a.id)
    assert attempt.sent_count == 97
    import asyncio
    await asyncio.sleep(0.05)  # let the sandbox finish its (zero-delay) send jobs
    clock.advance(601)
    assert await results.reconcile(sandbox.client, after=600) == 1  # only b still lacks a result
    pb = await get_post(sessions, b.id)
    assert pb is not None and pb.result_status == "SEND_SUCCESS"


async def test_preview_goes_to_staff_only(sessions, sandbox: Sandbox, clock) -> None:
    from scheduler.preview import send_preview, staff_openids

    post = await queue(sessions, clock)
    results = await send_preview(sandbox.client, post, staff_openids("oStaff1, oStaff2"))
    assert [r.ok for r in results] == [True, True]
    previews = [r for r in sandbox.platform.sent if r.kind == "preview"]
    assert [r.to for r in previews] == ["oStaff1", "oStaff2"] and sandbox.mass() == []
    got = await get_post(sessions, post.id)
    assert got is not None and got.state == SCHEDULED and await attempts_of(sessions, post.id) == []
