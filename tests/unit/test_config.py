"""Settings: TOML plus PUFA_* overrides, secrets that never show, clear errors for wrong config."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.config import ConfigError, Secret, load_settings
from bot.demo import apply_demo
from bot.logs import RedactingFilter

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_are_the_documented_ones() -> None:
    s = load_settings(None, env={})
    assert s.database.url == "sqlite+aiosqlite:///data/pufa.db"
    assert (s.server.host, s.server.port) == ("127.0.0.1", 8080)
    assert s.wechat.api_base == "https://api.weixin.qq.com"
    assert s.demo_mode  # no WeChat account configured
    assert s.server.body_limit == 64 * 1024 and s.wechat.timestamp_window == 300


def test_example_config_loads_and_environment_wins(tmp_path: Path) -> None:
    env = {
        "PUFA_HOST": "0.0.0.0", "PUFA_PORT": "9001", "PUFA_DATABASE_URL": "postgresql+asyncpg://u@h/db",
        "PUFA_WECHAT_TOKEN": "tok", "PUFA_WECHAT_APPID": "wxabc", "PUFA_WECHAT_APPSECRET": "sec",
        "PUFA_WECHAT_AES_KEY": "a" * 43, "PUFA_WECHAT_API_BASE": "http://127.0.0.1:1",
        "PUFA_PRIVACY_RETENTION_DAYS": "30",
    }
    s = load_settings(ROOT / "config.example.toml", env=env)
    assert (s.server.host, s.server.port) == ("0.0.0.0", 9001)
    assert s.database.url == "postgresql+asyncpg://u@h/db"
    assert s.wechat.token.reveal() == "tok" and s.wechat.appid == "wxabc"
    assert s.wechat.safe_mode and s.wechat.api_base == "http://127.0.0.1:1"
    assert s.privacy.retention_days == 30
    assert not s.demo_mode
    assert s.contact("sifasuo") is not None and s.contact("sifasuo").name == "古龙镇司法所"  # type: ignore[union-attr]


def test_secrets_never_show_in_repr_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    s = load_settings(None, env={"PUFA_WECHAT_APPSECRET": "topsecretvalue", "PUFA_WECHAT_TOKEN": "tok123456"})
    assert "topsecretvalue" not in repr(s) and "tok123456" not in repr(s)
    assert str(Secret("x")) == "Secret('***')"
    line = "GET /cgi-bin/token?appid=wx&secret=%s&access_token=%s openid oAbcdefghijklmnopqrstuvwxyz12"
    record = logging.LogRecord("t", logging.INFO, "", 0, line, ("topsecretvalue", "TOKEN123"), None)
    RedactingFilter().filter(record)
    line = record.getMessage()
    assert "topsecretvalue" not in line and "TOKEN123" not in line and "oAbcdefghijklmnopqrstuvwxyz12" not in line


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PUFA_PORT": "eighty"}, "server.port"),
        ({"PUFA_WECHAT_AES_KEY": "short"}, "EncodingAESKey"),
        ({"PUFA_WECHAT_ACCOUNT_TYPE": "enterprise"}, "account_type"),
        ({"PUFA_DATABASE_URL": "mysql://x"}, "database.url"),
        ({"PUFA_SERVER_REPLY_BUDGET": "6"}, "reply_budget"),
        ({"PUFA_WECHAT_APPID": "wxabc"}, "wechat.token"),
    ],
)
def test_wrong_config_is_a_clear_error(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(None, env=env)


def test_bad_file_errors_name_the_problem(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="找不到配置文件"):
        load_settings(tmp_path / "missing.toml", env={})
    broken = tmp_path / "broken.toml"
    broken.write_text("[server\nport = 1", encoding="utf-8")
    with pytest.raises(ConfigError, match="格式错误"):
        load_settings(broken, env={})
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("[server]\nprot = 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="prot"):
        load_settings(unknown, env={})


def test_demo_mode_generates_and_keeps_sandbox_credentials(tmp_path: Path) -> None:
    state = tmp_path / "demo.toml"
    base = load_settings(None, env={"PUFA_DEMO_STATE_FILE": str(state), "PUFA_PORT": "8123"})
    first = apply_demo(base)
    second = apply_demo(base)
    assert first.wechat.configured and first.wechat.safe_mode
    assert first.wechat.token == second.wechat.token and first.wechat.appid == second.wechat.appid
    assert first.wechat.api_base == "http://127.0.0.1:8123/sandbox/wechat"
    assert state.stat().st_mode & 0o077 == 0
    real = load_settings(None, env={"PUFA_WECHAT_TOKEN": "t", "PUFA_WECHAT_APPID": "wx1"})
    assert apply_demo(real) is real


def test_example_config_documents_every_setting() -> None:
    """config.example.toml names every section and key the settings object knows."""
    import dataclasses
    import tomllib

    from bot.config import SECTION_TYPES

    example = tomllib.loads((ROOT / "config.example.toml").read_text(encoding="utf-8"))
    missing = [
        f"{section}.{f.name}"
        for section, cls in SECTION_TYPES.items()
        for f in dataclasses.fields(cls)
        if f.name not in example.get(section, {})
    ]
    assert missing == []
