"""The publicity calendar as data: scheduler/data/calendar.toml, optionally overlaid by staff's file.

Lunar dates (重阳节, 春节 for the winter wage campaign) come from the ``lunardate`` library; moving
weeks (网络安全宣传周) come from per-year overrides, and show as "待设置" until staff set them.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from lunardate import LunarDate

KINDS = {"day", "month", "week", "lunar", "season"}
DEFAULTS = {"required", "on", "optional"}


OUT_OF_RANGE = "农历日期超出日历库支持的年份（1900–2099），请在 [overrides] 中手工填写"


class CalendarError(ValueError):
    pass


@dataclass(frozen=True)
class Campaign:
    key: str
    name: str
    kind: str
    laws: tuple[str, ...]
    tags: tuple[str, ...]
    default: str
    enabled: bool
    note: str
    raw: dict[str, Any] = field(repr=False, compare=False, hash=False)


@dataclass(frozen=True)
class Occurrence:
    campaign: Campaign
    start: date | None  # None: a moving week nobody has set for this year
    end: date | None
    note: str = ""

    @property
    def send_date(self) -> date | None:
        """The day a push is planned for by default (08:30): the first day."""
        return self.start


def lunar_to_solar(year: int, month: int, day: int) -> date:
    """Lunar ``month``/``day`` of lunar ``year`` as a Gregorian date (non-leap month)."""
    return LunarDate(year, month, day).to_solar_date()  # type: ignore[no-any-return]


def spring_festival(year: int) -> date:
    return lunar_to_solar(year, 1, 1)


def _md(year: int, text: str) -> date:
    m, d = text.split("-")
    return date(year, int(m), int(d))


def _iso(text: str, what: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CalendarError(f"{what} 的日期格式应为 YYYY-MM-DD，实际为 {text!r}") from None


def _campaign(raw: dict[str, Any]) -> Campaign:
    key = str(raw.get("key", ""))
    if not key:
        raise CalendarError("日历中有一项缺少 key")
    kind = str(raw.get("kind", ""))
    if kind not in KINDS:
        raise CalendarError(f"{key}: kind 应为 {'/'.join(sorted(KINDS))} 之一")
    default = str(raw.get("default", "on"))
    if default not in DEFAULTS:
        raise CalendarError(f"{key}: default 应为 required/on/optional")
    need = {"day": ("month", "day"), "month": ("month",), "lunar": ("lunar_month", "lunar_day"),
            "season": ("start", "end"), "week": ()}[kind]
    missing = [n for n in need if n not in raw]
    if missing:
        raise CalendarError(f"{key}: 缺少 {', '.join(missing)}")
    enabled = bool(raw.get("enabled", default != "optional"))
    return Campaign(key, str(raw.get("name", key)), kind, tuple(raw.get("laws", ())), tuple(raw.get("tags", ())),
                    default, enabled, str(raw.get("note", "")), raw)


@dataclass
class Calendar:
    campaigns: list[Campaign]
    overrides: dict[int, dict[str, dict[str, Any]]]

    def get(self, key: str) -> Campaign | None:
        return next((c for c in self.campaigns if c.key == key), None)

    def named(self, text: str) -> list[Campaign]:
        """The campaigns ``text`` names: by key or full name (国家宪法日), else every one whose name
        contains it (宪法日)."""
        exact = [c for c in self.campaigns if text in (c.key, c.name)]
        return exact or [c for c in self.campaigns if text in c.name]

    def occurrences(self, year: int, include_disabled: bool = False) -> list[Occurrence]:
        out: list[Occurrence] = []
        for c in self.campaigns:
            ov = self.overrides.get(year, {}).get(c.key, {})
            enabled = bool(ov.get("enabled", c.enabled))
            if not enabled and not include_disabled:
                continue
            out.extend(self._dates(c, year, ov))
        return sorted(out, key=lambda o: (o.start or date(year, 12, 31), o.campaign.key))

    def _dates(self, c: Campaign, year: int, ov: dict[str, Any]) -> list[Occurrence]:
        r = c.raw
        note = str(ov.get("note", ""))
        if "start" in ov or "date" in ov:
            start = _iso(str(ov.get("start", ov.get("date"))), c.key)
            end = _iso(str(ov.get("end", ov.get("start", ov.get("date")))), c.key)
            return [Occurrence(c, start, end, note)]
        if c.kind == "day":
            d = date(year, int(r["month"]), int(r["day"]))
            return [Occurrence(c, d, d, note)]
        if c.kind == "month":
            m = int(r["month"])
            last = (date(year + (m == 12), m % 12 + 1, 1).toordinal() - 1)
            return [Occurrence(c, date(year, m, 1), date.fromordinal(last), note)]
        if c.kind == "lunar":
            try:
                d = lunar_to_solar(year, int(r["lunar_month"]), int(r["lunar_day"]))
            except ValueError:
                return [Occurrence(c, None, None, OUT_OF_RANGE)]
            return [Occurrence(c, d, d, note)]
        if c.kind == "week":
            if "default_start" in r:
                return [Occurrence(c, _md(year, str(r["default_start"])), _md(year, str(r["default_end"])), note)]
            return [Occurrence(c, None, None, note or "日期待设置：请在日历文件的 [overrides] 中填写当年日期")]
        # season: e.g. 11-01 → 春节, crossing the new year; the one still running in January counts too.
        out = []
        for y in (year - 1, year):
            start = _md(y, str(r["start"]))
            try:
                end = spring_festival(y + 1) if r["end"] == "spring_festival" else _md(y + 1, str(r["end"]))
            except ValueError:
                out.append(Occurrence(c, None, None, OUT_OF_RANGE))
                continue
            if start.year == year or end.year == year:
                out.append(Occurrence(c, start, end, note))
        return out


def _read(path: Path | None) -> dict[str, Any]:
    try:
        if path is None:
            text = resources.files("scheduler").joinpath("data/calendar.toml").read_text(encoding="utf-8")
        else:
            text = path.read_text(encoding="utf-8")
        return tomllib.loads(text)
    except FileNotFoundError:
        raise CalendarError(f"找不到日历文件 {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise CalendarError(f"日历文件格式错误：{exc}") from None


def load_calendar(extra: str | Path | None = None) -> Calendar:
    """The bundled calendar, with staff's file (if any) replacing entries by key and adding overrides."""
    base = _read(None)
    raws: dict[str, dict[str, Any]] = {str(c["key"]): dict(c) for c in base.get("campaign", [])}
    overrides_raw: dict[str, Any] = dict(base.get("overrides", {}))
    if extra:
        more = _read(Path(extra))
        for c in more.get("campaign", []):
            key = str(c.get("key", ""))
            raws[key] = {**raws.get(key, {}), **c}
        for y, items in more.get("overrides", {}).items():
            overrides_raw.setdefault(y, {}).update(items)
    overrides: dict[int, dict[str, dict[str, Any]]] = {}
    for y, items in overrides_raw.items():
        try:
            overrides[int(y)] = {str(k): dict(v) for k, v in items.items()}
        except (TypeError, ValueError, AttributeError):
            raise CalendarError(f"[overrides] 中的年份 {y!r} 无效") from None
    return Calendar([_campaign(r) for r in raws.values()], overrides)
