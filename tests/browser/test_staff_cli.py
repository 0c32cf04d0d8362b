"""``pufa staff add`` creates an account the login page accepts (the CLI and the pages share one table)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from playwright.async_api import Page

from tests.browser.conftest import Site, shot

PUFA = str(Path(sys.executable).parent / "pufa")


def staff_cli(database_url: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PUFA_DATABASE_URL": database_url}
    return subprocess.run([PUFA, "staff", *args], input=stdin, env=env, capture_output=True, text=True, timeout=120)


async def test_cli_account_logs_in_as_editor(page: Page, site: Site, database_url: str) -> None:
    short = staff_cli(database_url, "add", "王五", "--role", "editor", "--password-stdin", stdin="short\n")
    assert short.returncode == 1 and "至少 8 位" in short.stderr
    done = staff_cli(database_url, "add", "王五", "--role", "editor", "--password-stdin", stdin="wangwu-pass-1\n")
    assert done.returncode == 0, done.stderr
    again = staff_cli(database_url, "add", "王五", "--password-stdin", stdin="wangwu-pass-1\n")
    assert again.returncode == 1 and "已存在" in again.stderr
    assert "王五\teditor" in staff_cli(database_url, "list").stdout
    await page.goto(site.url + "/admin/login")
    await shot(page, "login")
    await page.fill("input[name=name]", "王五")
    await page.fill("input[name=password]", "wangwu-pass-1")
    await page.click("button[type=submit]")
    await page.wait_for_url(site.url + "/admin/")
    assert "王五（编辑）" in await page.inner_text("header")
