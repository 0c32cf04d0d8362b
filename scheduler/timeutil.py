"""Beijing time at the edges, UTC inside: staff type and read Asia/Shanghai, the database stores UTC.

Nothing here looks at the host's timezone (CI and servers are often UTC).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


class TimeFormatError(ValueError):
    pass


def parse_local(text: str) -> datetime:
    """``YYYY-MM-DD HH:MM`` in Beijing time → an aware UTC datetime."""
    try:
        naive = datetime.strptime(text.strip(), "%Y-%m-%d %H:%M")
    except ValueError:
        raise TimeFormatError(f"时间格式应为 \"YYYY-MM-DD HH:MM\"（北京时间），实际为 {text!r}") from None
    return naive.replace(tzinfo=SHANGHAI).astimezone(UTC)


def parse_hhmm(text: str) -> time:
    try:
        return datetime.strptime(text.strip(), "%H:%M").time()
    except ValueError:
        raise TimeFormatError(f"时刻格式应为 HH:MM，实际为 {text!r}") from None


def at_local(day: date, clock_time: time) -> datetime:
    """A Beijing wall-clock time on ``day`` as UTC."""
    return datetime.combine(day, clock_time, tzinfo=SHANGHAI).astimezone(UTC)


def local(dt: datetime) -> datetime:
    return dt.astimezone(SHANGHAI)


def fmt_local(dt: datetime | None) -> str:
    return local(dt).strftime("%Y-%m-%d %H:%M") if dt else "-"


def local_day_bounds(day: date) -> tuple[datetime, datetime]:
    start = at_local(day, time(0, 0))
    return start, start + timedelta(days=1)


def local_month_bounds(year: int, month: int) -> tuple[datetime, datetime]:
    start = at_local(date(year, month, 1), time(0, 0))
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return start, at_local(nxt, time(0, 0))


def parse_month(text: str) -> tuple[int, int]:
    try:
        d = datetime.strptime(text.strip(), "%Y-%m")
    except ValueError:
        raise TimeFormatError(f"月份格式应为 YYYY-MM，实际为 {text!r}") from None
    return d.year, d.month
