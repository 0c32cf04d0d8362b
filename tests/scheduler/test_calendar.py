"""The calendar as data: lunar dates for several years, overrides, staff's file, quota warnings."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.cli.campaigns import quota_warnings
from scheduler.calendar import CalendarError, Occurrence, load_calendar, spring_festival

# 重阳节 (农历九月初九), from the published Chinese calendar.
DOUBLE_NINTH = {2024: date(2024, 10, 11), 2025: date(2025, 10, 29), 2026: date(2026, 10, 18),
                2027: date(2027, 10, 8), 2028: date(2028, 10, 26), 2030: date(2030, 10, 5)}
SPRING = {2026: date(2026, 2, 17), 2027: date(2027, 2, 6), 2028: date(2028, 1, 26)}


@pytest.mark.parametrize("year", sorted(DOUBLE_NINTH))
def test_double_ninth(year: int) -> None:
    [occ] = [o for o in load_calendar().occurrences(year) if o.campaign.key == "double_ninth"]
    assert occ.start == occ.end == DOUBLE_NINTH[year]


@pytest.mark.parametrize("year", sorted(SPRING))
def test_spring_festival(year: int) -> None:
    assert spring_festival(year) == SPRING[year]


def test_required_dates_and_defaults() -> None:
    occs = {o.campaign.key: o for o in load_calendar().occurrences(2027)}
    assert occs["consumer_day"].start == date(2027, 3, 15)
    assert occs["national_security_day"].start == date(2027, 4, 15)
    assert occs["anti_drug_day"].start == date(2027, 6, 26)
    assert occs["constitution_day"].start == date(2027, 12, 4)
    assert (occs["fazhi_month"].start, occs["fazhi_month"].end) == (date(2027, 3, 1), date(2027, 3, 31))
    assert "ip_day" not in occs  # optional: off unless enabled
    assert occs["cybersecurity_week"].start is None  # moving week, not set for 2027


def test_staff_file_overrides(tmp_path: Path) -> None:
    f = tmp_path / "cal.toml"
    f.write_text('''
[[campaign]]
key = "ip_day"
enabled = true

[[campaign]]
key = "town_law_day"
name = "本镇村规民约宣传日"
kind = "day"
month = 7
day = 1
laws = ["村民委员会组织法"]

[overrides.2027.cybersecurity_week]
start = "2027-09-13"
end = "2027-09-19"

[overrides.2027.constitution_week]
start = "2027-11-29"
end = "2027-12-05"
''', encoding="utf-8")
    occs = {o.campaign.key: o for o in load_calendar(f).occurrences(2027)}
    assert occs["ip_day"].start == date(2027, 4, 26)
    assert occs["town_law_day"].start == date(2027, 7, 1)
    assert (occs["cybersecurity_week"].start, occs["cybersecurity_week"].end) == (date(2027, 9, 13),
                                                                                  date(2027, 9, 19))
    assert occs["constitution_week"].start == date(2027, 11, 29)
    # Other years keep the default week.
    assert {o.campaign.key: o for o in load_calendar(f).occurrences(2028)}["constitution_week"].start == \
        date(2028, 12, 1)


def test_bad_file(tmp_path: Path) -> None:
    f = tmp_path / "cal.toml"
    f.write_text('[[campaign]]\nkey = "x"\nkind = "fortnight"\n', encoding="utf-8")
    with pytest.raises(CalendarError, match="kind"):
        load_calendar(f)


def test_quota_warnings() -> None:
    occs = [o for o in load_calendar().occurrences(2027) if o.campaign.enabled]
    sub = quota_warnings(occs, "subscription", 2027)
    assert any("12 月 1 日有 2 个宣传节点" in w for w in sub)
    assert any("国家网络安全宣传周" in w for w in sub)
    extra = [*occs, *(o for o in load_calendar().occurrences(2027, include_disabled=True)
                      if o.campaign.key in {"fire_day"})]
    # December with 消防日 off: 12·1 ×2, 12·2, 12·4 = 4 (fits); November: 11·1 + 11·9 = 2.
    assert not [w for w in quota_warnings(extra, "service", 2027) if "月有" in w]
    more = [*extra, *(o for o in load_calendar().occurrences(2027, include_disabled=True)
                      if o.campaign.key in {"police_day", "disaster_day", "environment_day", "work_safety_month",
                                            "ip_day"})]
    # June: 6·1 安全生产月, 6·5, 6·25, 6·26 = 4, the service account's limit: no warning yet.
    assert not [w for w in quota_warnings(more, "service", 2027) if w.startswith("6 月")]
    fifth = Occurrence(more[0].campaign, date(2027, 6, 10), date(2027, 6, 10))
    assert any(w.startswith("6 月有 5 个宣传节点") for w in quota_warnings([*more, fifth], "service", 2027))
