"""Figures on the fixture database equal the values counted by hand (see conftest.fixture_rows)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import ReportsSettings
from bot.db.models import KbEntry
from reports import period
from reports.figures import NO_KEYWORDS, Report, compute, keyword_group, top
from tests.reports.conftest import msg, utc


async def _compute(sessions: async_sessionmaker[AsyncSession], p: period.Period,
                   settings: ReportsSettings | None = None) -> Report:
    async with sessions() as s:
        return await compute(s, p, settings or ReportsSettings())


async def test_november_questions_respect_beijing_month_edges(seeded: async_sessionmaker[AsyncSession]) -> None:
    r = await _compute(seeded, period.month("2026-11"))
    q = r.total.questions
    # answered: 11-01 00:00 Beijing (10-31 16:00 UTC), 11-03, 11-04, 11-05; not 10-31 23:59:59 nor 12-01 00:00.
    assert (q.received, q.answered, q.ambiguous, q.no_match, q.failed) == (10, 4, 1, 4, 1)
    assert q.unanswered == 5
    assert q.answer_rate == 0.4
    assert q.commands == 1
    assert q.chat == 1
    assert len(r.months) == 1 and r.months[0].questions == q


async def test_topics_and_unanswered_keyword_groups(seeded: async_sessionmaker[AsyncSession]) -> None:
    r = await _compute(seeded, period.month("2026-11"))
    assert top(r.total.topics, 10) == [("labor", 2), ("fraud", 1), ("law", 1)]
    assert r.topic_names["labor"] == "劳动用工" and r.topic_names["law"] == "法条直答"
    assert top(r.total.unanswered_groups, 10) == [("彩礼、退还", 2), ("宅基地", 1), (NO_KEYWORDS, 1)]


async def test_an_entry_counts_under_the_topic_staff_gave_it(seeded: async_sessionmaker[AsyncSession]) -> None:
    # A draft made from unanswered questions keeps its draft-… id after staff file it under a topic.
    async with seeded() as s, s.begin():
        s.add(KbEntry(id="draft-3f2a", topic_key="land", topic="农村土地", question="q", answer="a"))
        s.add(msg(utc(2026, 11, 6), "answered", entry_id="draft-3f2a"))
    r = await _compute(seeded, period.month("2026-11"))
    assert r.total.topics["land"] == 1 and "draft" not in r.total.topics


async def test_followers_start_new_lost_end(seeded: async_sessionmaker[AsyncSession]) -> None:
    f = (await _compute(seeded, period.month("2026-11"))).total.followers
    assert (f.start, f.new, f.lost, f.net, f.end) == (2, 2, 1, 1, 3)
    y = await _compute(seeded, period.year("2026"))
    assert [(m.key, m.followers.start, m.followers.end) for m in y.months if m.key >= "2026-10"] == [
        ("2026-10", 0, 2), ("2026-11", 2, 3), ("2026-12", 3, 4)]
    assert (y.total.followers.start, y.total.followers.new, y.total.followers.lost) == (0, 6, 2)


async def test_staff_messages_and_median_reply(seeded: async_sessionmaker[AsyncSession]) -> None:
    st = (await _compute(seeded, period.month("2026-11"))).total.staff
    assert (st.received, st.replied, st.median_reply_hours) == (3, 2, 4.0)


async def test_pushes_counted_once_in_month_of_first_success(seeded: async_sessionmaker[AsyncSession]) -> None:
    p = (await _compute(seeded, period.month("2026-11"))).total.pushes
    # post 1 (retry + sent), post 3 (00:30 Beijing on 11-01), post 5 (interrupted + already_sent);
    # not post 2 (first sent 23:30 Beijing on 10-31) nor the failed post 4.
    assert p.by_channel == {"wechat": 1, "dingtalk": 2}
    assert p.total == 3
    assert p.wechat_sent_count == 120
    assert (p.attempts, p.retries, p.failed_attempts) == (7, 1, 1)
    october = (await _compute(seeded, period.month("2026-10"))).total.pushes
    assert october.by_channel == {"wechat": 1} and october.wechat_sent_count == 80


async def test_year_pushes_and_campaign_coverage(seeded: async_sessionmaker[AsyncSession]) -> None:
    y = await _compute(seeded, period.year("2026"))
    assert y.total.pushes.by_channel == {"wechat": 3, "dingtalk": 2}
    assert sum(m.pushes.total for m in y.months) == 5
    covered = {c.short: c.covered for c in y.total.campaigns}
    assert covered == {"3月法治宣传月": False, "3·15": False, "4·15": False, "6·26": False, "12·4": True}
    dec = next(m for m in y.months if m.key == "2026-12")
    assert [c.short for c in dec.campaigns] == ["12·4"]


async def test_campaign_window_is_configurable(seeded: async_sessionmaker[AsyncSession]) -> None:
    # Post 6 went out on 12-06, two days after 12·4, and also names the campaign: still covered at 0 days.
    r = await _compute(seeded, period.month("2026-12"), ReportsSettings(campaign_window_days=0))
    assert [c.items for c in r.total.campaigns] == [1]


async def test_ledger_counts_by_type(seeded: async_sessionmaker[AsyncSession]) -> None:
    acts = (await _compute(seeded, period.month("2026-11"))).total.activities
    assert {k: (a.count, a.participants, a.materials) for k, a in acts.items()} == {
        "送法入校": (2, 800, 430), "法律明白人培训": (1, 40, 0)}


async def test_range_splits_into_clipped_months(seeded: async_sessionmaker[AsyncSession]) -> None:
    r = await _compute(seeded, period.date_range("2026-11-30", "2026-12-01"))
    assert [m.key for m in r.months] == ["2026-11", "2026-12"]
    # 11-30 Beijing: the last-second no_match; 12-01: the answered one.
    assert [m.questions.received for m in r.months] == [1, 1]
    assert r.total.questions.received == 2


async def test_empty_period(sessions: async_sessionmaker[AsyncSession]) -> None:
    r = await _compute(sessions, period.month("2026-11"))
    assert r.total.questions.received == 0 and r.total.questions.answer_rate is None
    assert r.total.staff.median_reply_hours is None and r.total.pushes.total == 0


def test_keyword_group_normalises() -> None:
    assert keyword_group('["退还", "彩礼", "退还"]') == "彩礼、退还"
    assert keyword_group(None) == NO_KEYWORDS
    assert keyword_group("[]") == NO_KEYWORDS
