"""The documented CLI contracts: ``pufa posts add … --at`` (Beijing time, also on a UTC host),
``pufa posts list --json``, show/cancel/log, quota refusal, ``pufa campaigns --year``."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from bot.cli import main


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for k in list(os.environ):
        if k.startswith("PUFA_"):
            monkeypatch.delenv(k)
    monkeypatch.setenv("PUFA_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("PUFA_DEMO_STATE_FILE", str(tmp_path / "demo.toml"))
    # A UTC host: nothing may depend on the host's timezone.
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    assert main(["db", "upgrade"]) == 0
    yield tmp_path
    monkeypatch.undo()
    time.tzset()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_add_list_show_cancel(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    code, out, _ = run(capsys, "posts", "add", "--title", "国家宪法日", "--body", "宪法是国家的根本法。",
                       "--channel", "wechat", "--at", "2099-12-04 08:30")
    assert code == 0 and "#1" in out and "2099-12-04 08:30" in out
    code, out, _ = run(capsys, "posts", "list", "--json")
    [post] = json.loads(out)
    assert post["id"] == 1 and post["state"] == "scheduled" and post["channel"] == "wechat"
    # 08:30 Beijing is 00:30 UTC, whatever the host's timezone.
    assert post["send_at"] == "2099-12-04T08:30:00+08:00"
    assert post["idem_key"].startswith("pufa-") and len(post["idem_key"].encode()) <= 64

    code, out, err = run(capsys, "posts", "add", "--title", "同日第二条", "--body", "x", "--channel", "wechat",
                         "--at", "2099-12-04 20:00")
    assert code == 1 and "订阅号每天只能群发 1 次" in err and "#1《国家宪法日》" in err

    code, out, _ = run(capsys, "posts", "add", "--title", "钉钉通知", "--body", "**开会**", "--channel", "dingtalk",
                       "--at", "2099-12-04 20:00")
    assert code == 0
    code, out, _ = run(capsys, "posts", "show", "1")
    assert code == 0 and "clientmsgid" in out and post["idem_key"] in out
    assert run(capsys, "posts", "cancel", "1")[0] == 0
    code, _, err = run(capsys, "posts", "cancel", "1")
    assert code == 1 and "不能取消" in err
    code, out, _ = run(capsys, "posts", "list", "--json")
    assert [p["state"] for p in json.loads(out)] == ["cancelled", "scheduled"]


def test_bad_time_and_past_time(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    code, _, err = run(capsys, "posts", "add", "--title", "t", "--body", "b", "--channel", "wechat",
                       "--at", "12/04 8:30")
    assert code == 1 and "YYYY-MM-DD HH:MM" in err
    code, _, err = run(capsys, "posts", "add", "--title", "t", "--body", "b", "--channel", "wechat",
                       "--at", "2001-01-01 08:30")
    assert code == 1 and "已过" in err


def test_log_month_and_campaigns(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    code, out, _ = run(capsys, "posts", "log", "--month", "2099-12", "--json")
    assert code == 0 and json.loads(out) == {"month": "2099-12", "delivered_posts": 0, "attempts": []}
    run(capsys, "posts", "add", "--title", "宪法日", "--body", "b", "--channel", "wechat", "--at", "2099-12-04 08:30",
        "--campaign", "constitution_day")
    code, out, _ = run(capsys, "campaigns", "--year", "2099", "--json")
    data = json.loads(out)
    by_key = {c["key"]: c for c in data["campaigns"]}
    assert by_key["constitution_day"]["queued"] == [1]
    assert by_key["double_ninth"]["start"] == "2099-10-22"
    assert by_key["wage_arrears_winter"]["start"] is None  # ends at 春节 2100: beyond the lunar table
    code, out, _ = run(capsys, "campaigns", "--year", "2099")
    assert code == 0 and "国家宪法日" in out and "已安排：#1《宪法日》" in out
