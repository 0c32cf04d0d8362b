"""Quota planning: refused at planning time, with the conflicting posts named."""

from __future__ import annotations

from dataclasses import replace

import pytest

from scheduler.posts import NewPost, PostError, add_post, cancel_post, schedule_draft
from scheduler.quota import QuotaExceeded
from scheduler.timeutil import parse_local

from .conftest import FakeClock


def new(title: str, at: str, channel: str = "wechat", draft: bool = False) -> NewPost:
    return NewPost(title=title, body="正文", channel=channel, send_at=parse_local(at), draft=draft)


async def test_subscription_one_per_beijing_day(sessions, clock: FakeClock) -> None:
    first = await add_post(sessions, new("宪法日", "2026-12-04 08:30"), account_type="subscription", now=clock())
    with pytest.raises(QuotaExceeded) as err:
        await add_post(sessions, new("宪法日晚间", "2026-12-04 23:59"), account_type="subscription", now=clock())
    msg = str(err.value)
    assert "订阅号每天只能群发 1 次" in msg and f"#{first.id}《宪法日》" in msg and "2026-12-04 08:30" in msg
    assert [p.id for p in err.value.conflicts] == [first.id]
    # 00:10 Beijing on the 5th is still 12-04 in UTC: the day is Beijing's, not UTC's.
    await add_post(sessions, new("次日", "2026-12-05 00:10"), account_type="subscription", now=clock())
    # DingTalk posts and drafts do not use the WeChat quota.
    await add_post(sessions, new("钉钉", "2026-12-04 09:00", channel="dingtalk"), account_type="subscription",
                   now=clock())
    await add_post(sessions, new("草稿", "2026-12-04 10:00", draft=True), account_type="subscription", now=clock())


async def test_service_four_per_calendar_month(sessions, clock: FakeClock) -> None:
    ids = []
    for day in (4, 6, 8, 9):
        p = await add_post(sessions, new(f"12月{day}日", f"2026-12-{day:02d} 08:30"), account_type="service",
                           now=clock())
        ids.append(p.id)
    with pytest.raises(QuotaExceeded) as err:
        await add_post(sessions, new("第五条", "2026-12-31 23:00"), account_type="service", now=clock())
    assert "服务号每月只能群发 4 次" in str(err.value) and "2026年12月" in str(err.value)
    assert [p.id for p in err.value.conflicts] == ids
    await add_post(sessions, new("一月", "2027-01-01 00:05"), account_type="service", now=clock())
    # Cancelling one frees the slot.
    await cancel_post(sessions, ids[0])
    await add_post(sessions, new("第五条", "2026-12-31 23:00"), account_type="service", now=clock())


async def test_scheduling_a_draft_checks_quota(sessions, clock: FakeClock) -> None:
    await add_post(sessions, new("已排", "2026-12-04 08:30"), account_type="subscription", now=clock())
    draft = await add_post(sessions, new("草稿", "2026-12-04 12:00", draft=True), account_type="subscription",
                           now=clock())
    with pytest.raises(QuotaExceeded):
        await schedule_draft(sessions, draft.id, account_type="subscription", now=clock())
    moved = await schedule_draft(sessions, draft.id, account_type="subscription",
                                 send_at=parse_local("2026-12-06 08:30"), now=clock())
    assert moved.state == "scheduled"


async def test_refusals(sessions, clock: FakeClock) -> None:
    with pytest.raises(PostError, match="发送时间已过"):
        await add_post(sessions, new("过去", "2026-12-01 08:30"), account_type="service", now=clock())
    with pytest.raises(PostError, match="标题最多 32 个字"):
        await add_post(sessions, new("长" * 33, "2026-12-09 08:30"), account_type="service", now=clock())
    with pytest.raises(PostError, match="渠道"):
        await add_post(sessions, new("x", "2026-12-09 08:30", channel="sms"), account_type="service", now=clock())
    # What WeChat would refuse on the day (45004, 45002) is refused now, with the figure to cut to.
    with pytest.raises(PostError, match="摘要最多 128 个字"):
        await add_post(sessions, replace(new("x", "2026-12-09 08:30"), digest="摘" * 300), account_type="service",
                       now=clock())
    with pytest.raises(PostError, match="公众号正文"):
        await add_post(sessions, replace(new("x", "2026-12-09 08:30"), body="长文" * 10_000), account_type="service",
                       now=clock())


async def test_edit_checks_quota_and_keeps_key(sessions, clock: FakeClock) -> None:
    from scheduler.posts import edit_post

    a = await add_post(sessions, new("甲", "2026-12-05 08:30"), account_type="subscription", now=clock())
    b = await add_post(sessions, new("乙", "2026-12-06 08:30"), account_type="subscription", now=clock())
    with pytest.raises(QuotaExceeded, match="《甲》"):
        await edit_post(sessions, b.id, account_type="subscription", send_at=parse_local("2026-12-05 20:00"),
                        now=clock())
    edited = await edit_post(sessions, b.id, account_type="subscription", title="乙（改）",
                             send_at=parse_local("2026-12-07 08:30"), now=clock())
    assert edited.idem_key == b.idem_key and edited.title == "乙（改）" and edited.due_at == edited.send_at
    await cancel_post(sessions, a.id)
    with pytest.raises(PostError, match="不能修改"):
        await edit_post(sessions, a.id, account_type="subscription", title="x")
