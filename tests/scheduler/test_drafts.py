"""Reminders: a campaign date within lead_days with nothing queued gets a draft from the tagged
knowledge-base entries and a staff alert; nothing is generated twice or beside a queued post."""

from __future__ import annotations

from datetime import UTC, datetime, time

from bot.db.models import KbEntry
from scheduler.calendar import load_calendar
from scheduler.drafts import remind_and_draft
from scheduler.posts import NewPost, add_post, list_posts, open_alerts
from scheduler.timeutil import parse_local

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)  # 2026-11-27 10:00 Beijing


async def test_drafts_for_unqueued_campaign_dates(sessions) -> None:
    async with sessions() as s, s.begin():
        for i, tags in enumerate((["12·4", "宪法宣传周"], ["12·4"], ["反诈"], ["妇女节"])):
            s.add(KbEntry(id=f"e{i}", topic_key="t", topic="宪法", question=f"问题{i}？", answer=f"回答{i}。\n第二段",
                          tags=tags, status="published"))
    # Staff already queued the traffic-safety day.
    await add_post(sessions, NewPost(title="交通安全日", body="b", channel="wechat",
                                     send_at=parse_local("2026-12-02 08:30"), campaign="traffic_safety_day"),
                   account_type="service", now=NOW)
    made = await remind_and_draft(sessions, load_calendar(), lead_days=7, send_time=time(8, 30), now=NOW)
    assert sorted(g.campaign for g in made) == ["anti_fraud_law_day", "constitution_day", "constitution_week"]
    by = {g.campaign: g for g in made}
    assert by["constitution_day"].entries == 2 and by["anti_fraud_law_day"].entries == 1
    posts = {p.campaign: p for p in await list_posts(sessions)}
    draft = posts["constitution_day"]
    assert draft.state == "draft" and draft.send_at == parse_local("2026-12-04 08:30")
    assert "问题0？" in draft.body and "问题3" not in draft.body and len(draft.title) <= 32
    alerts = await open_alerts(sessions)
    assert any("国家宪法日" in a.message and f"#{draft.id}" in a.message for a in alerts)
    # Idempotent: a second run (next tick, another leader) adds nothing.
    assert await remind_and_draft(sessions, load_calendar(), lead_days=7, send_time=time(8, 30), now=NOW) == []
    assert len(await list_posts(sessions)) == 4
