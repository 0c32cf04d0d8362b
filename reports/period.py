"""Report periods: a month, a year or a date range in Beijing time, as UTC bounds for the database.

Asia/Shanghai has had no daylight-saving time since 1991, so a calendar month in Beijing time is the
UTC interval ``[first day 00:00 +08:00, next first day 00:00 +08:00)``; the SQL month buckets use the
fixed +8 h offset for the same reason (reports/figures.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
UTC_OFFSET_HOURS = 8


class PeriodError(ValueError):
    """A period given on the command line is malformed; the message is for staff."""


def local_midnight(day: date) -> datetime:
    """00:00 Beijing time on ``day``, as an aware UTC datetime."""
    return datetime.combine(day, time(0, 0), tzinfo=SHANGHAI).astimezone(UTC)


def next_month(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    """Local dates ``first``..``last`` inclusive; ``kind`` is month, year or range."""

    kind: str
    first: date
    last: date

    @property
    def start(self) -> datetime:
        return local_midnight(self.first)

    @property
    def end(self) -> datetime:
        return local_midnight(self.last + timedelta(days=1))

    @property
    def key(self) -> str:
        """A stable identifier: ``2026-11``, ``2026`` or ``2026-03-01..2026-05-31``."""
        if self.kind == "month":
            return f"{self.first:%Y-%m}"
        if self.kind == "year":
            return f"{self.first:%Y}"
        return f"{self.first.isoformat()}..{self.last.isoformat()}"

    @property
    def label(self) -> str:
        """How the report names the period: ``2026年11月``, ``2026年``, ``2026年3月1日至5月31日``."""
        if self.kind == "month":
            return f"{self.first.year}年{self.first.month}月"
        if self.kind == "year":
            return f"{self.first.year}年"
        end = f"{self.last.month}月{self.last.day}日"
        if self.last.year != self.first.year:
            end = f"{self.last.year}年" + end
        return f"{self.first.year}年{self.first.month}月{self.first.day}日至{end}"

    def months(self) -> list[Period]:
        """The calendar months the period touches, each clipped to the period."""
        out: list[Period] = []
        cursor = date(self.first.year, self.first.month, 1)
        while cursor <= self.last:
            nxt = next_month(cursor)
            first = max(cursor, self.first)
            last = min(nxt - timedelta(days=1), self.last)
            out.append(Period("month" if (first, last) == (cursor, nxt - timedelta(days=1)) else "range",
                              first, last))
            cursor = nxt
        return out

    def month_keys(self) -> list[str]:
        return [f"{m.first:%Y-%m}" for m in self.months()]


def month(text: str) -> Period:
    try:
        d = datetime.strptime(text.strip(), "%Y-%m").date()
    except ValueError:
        raise PeriodError(f"月份格式应为 YYYY-MM（例如 2026-11），实际为 {text!r}") from None
    return Period("month", d, next_month(d) - timedelta(days=1))


def year(text: str | int) -> Period:
    try:
        y = int(str(text).strip())
        if not 2000 <= y <= 2100:
            raise ValueError
    except ValueError:
        raise PeriodError(f"年份格式应为 YYYY（例如 2026），实际为 {text!r}") from None
    return Period("year", date(y, 1, 1), date(y, 12, 31))


def date_range(first: str, last: str) -> Period:
    try:
        a = date.fromisoformat(first.strip())
        b = date.fromisoformat(last.strip())
    except ValueError:
        raise PeriodError(f"日期格式应为 YYYY-MM-DD，实际为 {first!r} 和 {last!r}") from None
    if b < a:
        raise PeriodError(f"结束日期 {last} 早于开始日期 {first}")
    if (b - a).days > 3 * 366:
        raise PeriodError("一次最多统计三年")
    return Period("range", a, b)


def previous_month(today: date) -> Period:
    """The month before ``today``'s (the monthly job's period)."""
    first_this = date(today.year, today.month, 1)
    return month(f"{first_this - timedelta(days=1):%Y-%m}")
