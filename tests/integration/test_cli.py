"""The `pufa` command as staff and scripts use it: ask, db upgrade, serve in demo mode, simulate."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

PUFA = str(Path(sys.executable).parent / "pufa")


def run(
    args: list[str], env: dict[str, str], stdin: str | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PUFA, *args], env=env, input=stdin, capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def cli_env(tmp_path: Path, knowledge_cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PUFA_")}
    env.update(PUFA_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}",
               PUFA_KNOWLEDGE_CACHE_DIR=str(knowledge_cache), PUFA_DEMO_STATE_FILE=str(tmp_path / "demo.toml"),
               PUFA_SCHEDULER_ENABLED="false")
    return env


def test_ask_json_contract(cli_env: dict[str, str]) -> None:
    out = run(["ask", "网上买的东西不想要了能退吗", "--json"], cli_env)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert set(data) == {"status", "reply", "entry_id", "score", "citations", "candidates"}
    assert data["status"] == "answered" and data["entry_id"]
    assert data["citations"] and all(
        isinstance(c["law"], str) and isinstance(c["article"], int) and "《" not in c["law"]
        and not c["law"].startswith("中华人民共和国") for c in data["citations"]
    )
    assert 0 < data["score"] <= 1
    assert all(set(c) == {"law", "article"} for c in data["citations"])  # "sub" only for inserted articles


def test_ask_names_an_inserted_article_with_sub(cli_env: dict[str, str]) -> None:
    out = run(["ask", "老板有钱就是不给工钱 能告他坐牢吗", "--json"], cli_env)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["citations"][0] == {"law": "刑法", "article": 276, "sub": 1}
    assert {"law": "保障农民工工资支付条例", "article": 41} in data["citations"]


def test_ask_jsonl_answers_line_by_line(cli_env: dict[str, str]) -> None:
    questions = ["老板欠我工钱不给咋办", "今天天气咋样", "", "继续"]
    out = run(["ask", "--jsonl"], cli_env, stdin="\n".join(questions) + "\n")
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(rows) == 4
    assert rows[0]["status"] in {"answered", "ambiguous"}
    assert rows[1]["status"] == "no_match" and rows[1]["citations"] == []
    assert rows[2]["status"] == "command" and rows[3]["status"] == "command"


def test_law_tier_replies_name_every_article_they_cite(cli_env: dict[str, str]) -> None:
    from handlers.format import citation_text

    # Lay questions about matters no curated entry covers (company law, a cable dug up on a building site).
    questions = ["公司股东会决议程序违法，股东可以请求法院撤销吗", "我在工地开挖掘机把别人家的电缆挖断了要赔多少"]
    out = run(["ask", "--jsonl"], cli_env, stdin="\n".join(questions) + "\n")
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    law_tier = [r for r in rows if r["status"] == "answered" and r["entry_id"] is None]
    assert law_tier, rows  # the articles, not "I don't know"
    for r in law_tier:
        assert r["citations"] and "仅供参考" in r["reply"] and "12348" in r["reply"]
        for c in r["citations"]:
            assert citation_text(c["law"], c["article"], c.get("sub", 0)) in r["reply"]


def test_db_upgrade_is_idempotent(cli_env: dict[str, str]) -> None:
    for _ in range(2):
        out = run(["db", "upgrade"], cli_env)
        assert out.returncode == 0, out.stderr
        assert "最新" in out.stdout


def test_serve_refuses_an_unmigrated_database_with_a_clear_message(cli_env: dict[str, str]) -> None:
    out = run(["serve"], {**cli_env, "PUFA_PORT": str(free_port())}, timeout=60)
    assert out.returncode == 2
    assert "pufa db upgrade" in out.stderr


def test_wrong_config_is_reported_not_a_traceback(cli_env: dict[str, str]) -> None:
    out = run(["ask", "你好"], {**cli_env, "PUFA_WECHAT_AES_KEY": "tooshort"})
    assert out.returncode == 2
    assert "EncodingAESKey" in out.stderr and "Traceback" not in out.stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_demo_mode_end_to_end_with_simulate(cli_env: dict[str, str]) -> None:
    """`make run` with no WeChat account: demo banner, and the sandbox answers a simulated resident."""
    port = free_port()
    env = {**cli_env, "PUFA_PORT": str(port)}
    assert run(["db", "upgrade"], env).returncode == 0
    assert run(["ask", "你好"], env).returncode == 0  # leaves the knowledge snapshot, as `make run`'s import does
    server = subprocess.Popen([PUFA, "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        banner = ""
        deadline = time.monotonic() + 90
        while "Running on" not in banner and time.monotonic() < deadline:
            line = server.stdout.readline()  # type: ignore[union-attr]
            if not line and server.poll() is not None:
                break
            banner += line
        assert "演示模式" in banner and "pufa simulate" in banner, banner
        # The match helper started with the process loaded that snapshot and serves from the first
        # message (a helper forked after the start would still be warming up: no match has come yet).
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as resp:
            assert json.loads(resp.read())["matching"] == "helper"
        plain = run(["simulate", "老板欠我工钱不给咋办"], env)
        assert plain.returncode == 0, plain.stderr
        assert "法律依据" in plain.stdout or "相关法律规定" in plain.stdout
        safe = run(["simulate", "--safe", "网上买的东西不想要了能退吗"], env)
        assert safe.returncode == 0 and "《" in safe.stdout
        welcome = run(["simulate", "--event", "subscribe"], env)
        assert "欢迎" in welcome.stdout
        voice = run(["simulate", "--voice", ""], env)
        assert "请发文字" in voice.stdout
    finally:
        server.terminate()
        server.wait(timeout=30)
