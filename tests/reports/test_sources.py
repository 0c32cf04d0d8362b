"""The report's sources beyond the push log: WeChat's datacube follower figures (preferred when they
cover a month, else the logged events) and the campaign points from the scheduler's calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import ReportsSettings
from reports import period
from reports.figures import Report, compute
from reports.models import WechatUserDay
from reports.schema import to_dict
from reports.sources import campaign_days


async def _compute(sessions: async_sessionmaker[AsyncSession], p: period.Period, now: datetime,
                   calendar_file: str | None = None) -> Report:
    async with sessions() as s:
        return await compute(s, p, ReportsSettings(), now, calendar_file=calendar_file)


async def _cube(sessions: async_sessionmaker[AsyncSession], first: date, last: date, start_total: int = 1000,
                skip: date | None = None) -> None:
    """Day i: new 3 + i % 4, lost i % 3; cumulate chained from ``start_total`` before ``first``."""
    total = start_total
    async with sessions() as s, s.begin():
        for i in range((last - first).days + 1):
            day = first + timedelta(days=i)
            new, lost = 3 + i % 4, i % 3
            total += new - lost
            if day != skip:
                s.add(WechatUserDay(day=day, new_user=new, cancel_user=lost, cumulate_user=total))


DEC_5 = datetime(2026, 12, 5, 1, tzinfo=UTC)


async def test_datacube_month_replaces_events(seeded: async_sessionmaker[AsyncSession]) -> None:
    await _cube(seeded, date(2026, 11, 1), date(2026, 11, 30))
    r = await _compute(seeded, period.month("2026-11"), DEC_5)
    f = r.total.followers
    new = sum(3 + i % 4 for i in range(30))
    lost = sum(i % 3 for i in range(30))
    assert (f.source, f.new, f.lost, f.start, f.end) == ("datacube", new, lost, 1000, 1000 + new - lost)
    assert to_dict(r, ReportsSettings())["total"]["followers"] == {
        "start": 1000, "new": new, "lost": lost, "net": new - lost, "end": 1000 + new - lost, "source": "datacube"}


async def test_a_missing_day_falls_back_to_events(seeded: async_sessionmaker[AsyncSession]) -> None:
    await _cube(seeded, date(2026, 11, 1), date(2026, 11, 30), skip=date(2026, 11, 17))
    f = (await _compute(seeded, period.month("2026-11"), DEC_5)).total.followers
    # The events of conftest.fixture_rows (as in test_figures).
    assert (f.source, f.start, f.new, f.lost, f.end) == ("events", 2, 2, 1, 3)


async def test_current_month_uses_the_days_up_to_yesterday(seeded: async_sessionmaker[AsyncSession]) -> None:
    await _cube(seeded, date(2026, 11, 1), date(2026, 11, 15))
    f = (await _compute(seeded, period.month("2026-11"), datetime(2026, 11, 16, 1, tzinfo=UTC))).total.followers
    assert f.source == "datacube" and f.new == sum(3 + i % 4 for i in range(15))
    # Asked a day later, 11-16 is missing: the events again, never a silently short month.
    f = (await _compute(seeded, period.month("2026-11"), datetime(2026, 11, 17, 1, tzinfo=UTC))).total.followers
    assert f.source == "events"


async def test_year_mixes_sources_month_by_month(seeded: async_sessionmaker[AsyncSession]) -> None:
    await _cube(seeded, date(2026, 11, 1), date(2026, 11, 30))
    y = await _compute(seeded, period.year("2026"), datetime(2027, 1, 5, tzinfo=UTC))
    nov_new, nov_lost = sum(3 + i % 4 for i in range(30)), sum(i % 3 for i in range(30))
    nov_end = 1000 + nov_new - nov_lost
    got = [(m.key, m.followers.source, m.followers.start, m.followers.end) for m in y.months if m.key >= "2026-10"]
    # December (events: one subscribe) continues from November's datacube end.
    assert got == [("2026-10", "events", 0, 2), ("2026-11", "datacube", 1000, nov_end),
                   ("2026-12", "events", nov_end, nov_end + 1)]
    t = y.total.followers
    assert (t.source, t.new, t.lost) == ("mixed", 3 + nov_new + 1, 1 + nov_lost)  # Oct 3 + Nov + Dec 1
    # The year ends where December ends, and starts that many changes earlier — not at 0.
    assert (t.end, t.start) == (nov_end + 1, nov_end + 1 - (t.new - t.lost))


def test_campaign_points_come_from_the_calendar() -> None:
    days = campaign_days(date(2026, 1, 1), date(2026, 12, 31))
    assert [(d.key, d.short, d.name, d.first, d.last) for d in days] == [
        ("fazhi_month:2026", "3月法治宣传月", "法治宣传月", date(2026, 3, 1), date(2026, 3, 31)),
        ("consumer_day:2026", "3·15", "国际消费者权益日", date(2026, 3, 15), date(2026, 3, 15)),
        ("national_security_day:2026", "4·15", "全民国家安全教育日", date(2026, 4, 15), date(2026, 4, 15)),
        ("anti_drug_day:2026", "6·26", "国际禁毒日", date(2026, 6, 26), date(2026, 6, 26)),
        ("constitution_day:2026", "12·4", "国家宪法日", date(2026, 12, 4), date(2026, 12, 4)),
    ]
    assert [d.key for d in campaign_days(date(2026, 12, 1), date(2027, 3, 10))] == [
        "constitution_day:2026", "fazhi_month:2027"]


async def test_staff_calendar_changes_the_report(seeded: async_sessionmaker[AsyncSession], tmp_path: Path) -> None:
    cal = tmp_path / "calendar.toml"
    cal.write_text(
        '[[campaign]]\nkey = "womens_day"\ndefault = "required"\nshort = "三八"\n\n'
        '[overrides.2026.anti_drug_day]\nenabled = false\n', encoding="utf-8")
    days = campaign_days(date(2026, 1, 1), date(2026, 12, 31), str(cal))
    assert [d.short for d in days] == ["3月法治宣传月", "三八", "3·15", "4·15", "12·4"]
    y = await _compute(seeded, period.year("2026"), DEC_5, calendar_file=str(cal))
    assert {c.short: c.covered for c in y.total.campaigns} == {
        "3月法治宣传月": False, "三八": False, "3·15": False, "4·15": False, "12·4": True}
