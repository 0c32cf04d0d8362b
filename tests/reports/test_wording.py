"""The report's rounding rule at its edges, and periods in Beijing time."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.config import ConfigError, ReportsSettings, load_settings
from reports import period
from reports.figures import Figures
from reports.wording import approx, items


@pytest.mark.parametrize(("n", "text"), [
    (0, "0"), (3, "3"), (12, "12"), (19, "19"), (20, "20"), (21, "20余"), (29, "20余"), (83, "80余"),
    (100, "100"), (101, "100余"), (400, "400"), (437, "430余"), (1234, "1230余"),
])
def test_rounding_default(n: int, text: str) -> None:
    assert approx(n) == text


def test_rounding_is_configurable() -> None:
    yu = ReportsSettings(round_yu_on_exact=True)
    assert [approx(n, yu) for n in (19, 20, 400)] == ["19", "20余", "400余"]
    hundreds = ReportsSettings(round_threshold=100, round_unit=100)
    assert [approx(n, hundreds) for n in (83, 100, 1234)] == ["83", "100", "1200余"]


def test_reports_settings_from_environment() -> None:
    s = load_settings(None, env={"PUFA_REPORTS_ROUND_UNIT": "100", "PUFA_REPORTS_ACTIVITY_TYPES": "甲,乙"})
    assert s.reports.round_unit == 100 and s.reports.activity_type_list == ("甲", "乙")
    with pytest.raises(ConfigError):
        load_settings(None, env={"PUFA_REPORTS_ROUND_UNIT": "0"})


def test_month_bounds_are_beijing_midnights() -> None:
    p = period.month("2026-11")
    assert p.start == datetime(2026, 10, 31, 16, tzinfo=UTC)
    assert p.end == datetime(2026, 11, 30, 16, tzinfo=UTC)
    assert period.month("2026-12").end == datetime(2026, 12, 31, 16, tzinfo=UTC)
    assert p.label == "2026年11月" and p.key == "2026-11"


def test_year_and_range() -> None:
    y = period.year("2026")
    assert len(y.months()) == 12 and y.label == "2026年"
    r = period.date_range("2026-03-10", "2026-05-05")
    assert [(m.first, m.last) for m in r.months()] == [
        (date(2026, 3, 10), date(2026, 3, 31)), (date(2026, 4, 1), date(2026, 4, 30)),
        (date(2026, 5, 1), date(2026, 5, 5))]
    assert r.label == "2026年3月10日至5月5日"
    assert period.previous_month(date(2027, 1, 1)).key == "2026-12"


@pytest.mark.parametrize("bad", ["2026-13", "2026/11", "11-2026", ""])
def test_bad_month(bad: str) -> None:
    with pytest.raises(period.PeriodError):
        period.month(bad)


def test_bad_range() -> None:
    with pytest.raises(period.PeriodError):
        period.date_range("2026-05-01", "2026-04-01")


def test_follower_sentence_rounds_every_count_alike() -> None:
    f = Figures("2026", "2026年", date(2026, 1, 1), date(2026, 12, 31))
    f.pushes.by_channel["wechat"] = 85
    f.followers.start, f.followers.new, f.followers.lost = 3051, 1234, 47
    [(_, text)] = [item for item in items(f, ReportsSettings()) if "关注" in item[1]]
    assert "新增关注1230余人，净增1180余人，期末关注4230余人" in text
    f.followers.new, f.followers.lost = 10, 133
    [(_, text)] = [item for item in items(f, ReportsSettings()) if "关注" in item[1]]
    assert "净减少120余人" in text
