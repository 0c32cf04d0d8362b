"""The admin overlay's precedence (TOML < overlay < environment), whitelist and validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import overlay
from bot.config import Secret, load_settings

ROOT = Path(__file__).resolve().parents[2]


def test_overlay_sits_between_the_file_and_the_environment() -> None:
    env = {"PUFA_SCHEDULER_LEAD_DAYS": "3"}
    base = load_settings(ROOT / "config.example.toml", env=env)
    assert base.reports.round_unit == 10 and base.scheduler.lead_days == 3
    values = {"reports.round_unit": 100, "scheduler.lead_days": 20,
              "contacts.sifasuo": {"name": "石桥镇司法所", "phone": "023-1"}}
    out = overlay.apply(base, values, env=env)
    assert out.reports.round_unit == 100  # the overlay beats the file
    assert out.scheduler.lead_days == 3  # the environment beats the overlay
    assert out.contact("sifasuo").name == "石桥镇司法所"  # type: ignore[union-attr]
    assert overlay.locked(env) == {"scheduler.lead_days": "PUFA_SCHEDULER_LEAD_DAYS"}
    assert base.reports.round_unit == 10  # the file's settings object is untouched


def test_only_whitelisted_non_secret_keys_apply() -> None:
    base = load_settings(None, env={})
    out = overlay.apply(base, {"wechat.appsecret": "stolen", "wechat.api_base": "http://evil.invalid",
                               "admin.max_failures": 1000, "database.url": "sqlite+aiosqlite:///x.db",
                               "contacts.no_such_key": {"name": "x", "phone": "1"}}, env={})
    assert out == base
    assert not any(f.section in {"wechat", "admin", "database", "privacy", "dingtalk"} for f in overlay.FIELDS)
    assert not any(isinstance(overlay.current_value(base, f.key), Secret) for f in overlay.FIELDS)


@pytest.mark.parametrize(("key", "raw", "message"), [
    ("scheduler.lead_days", "十", "应填整数"),
    ("scheduler.lead_days", "61", "应在 0 到 60 之间"),
    ("scheduler.default_send_time", "8:30", "应写成 时:分"),
    ("scheduler.preview_openids", "oAbc123, bad id!", "不像微信 openid"),
    ("reports.notify", "email", "选项无效"),
    ("reports.activity_types", " , ，", "至少要有一个"),
    ("town.office", "  ", "不能为空"),
])
def test_bad_input_gets_a_chinese_reason(key: str, raw: str, message: str) -> None:
    with pytest.raises(overlay.OverlayError, match=message):
        overlay.parse_field(overlay.BY_KEY[key], raw)


def test_input_is_normalised() -> None:
    assert overlay.parse_field(overlay.BY_KEY["scheduler.preview_openids"], "oAbc123，oDef456  oAbc999") == \
        "oAbc123,oDef456,oAbc999"
    assert overlay.parse_field(overlay.BY_KEY["reports.activity_types"], "讲座，讲座,赶场") == "讲座,赶场"
    assert overlay.parse_field(overlay.BY_KEY["reports.round_yu_on_exact"], "1") is True
    assert overlay.parse_contact("hotline", " 热线 ", " 023-123 转 8 ") == {"name": "热线", "phone": "023-123 转 8"}
    with pytest.raises(overlay.OverlayError, match="电话只能包含"):
        overlay.parse_contact("hotline", "热线", "javascript:1")


def test_combined_settings_are_checked_like_a_config_file() -> None:
    base = load_settings(None, env={})
    with pytest.raises(overlay.OverlayError, match="round_unit"):
        overlay.check(overlay.apply(base, {"reports.round_unit": 0}, env={}))
