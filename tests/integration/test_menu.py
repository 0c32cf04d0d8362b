"""The custom menu: built from the knowledge base, set through the API, and every button answers."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from bot.menu import LEAVE_MESSAGE_KEY
from sandbox.api import SandboxPlatform, _menu_error
from sandbox.inbound import FakeWeChat
from tests.conftest import TEST_APPID, TEST_SECRET, TEST_TOKEN

PUFA = str(Path(sys.executable).parent / "pufa")
RESIDENT = "oMenu000000000000000000000001"


def test_sandbox_enforces_wechat_menu_limits() -> None:
    assert _menu_error({"button": []}) == (40016, "invalid button size")
    assert _menu_error({"button": [{"name": "按钮"}] * 4})[0] == 40016  # type: ignore[index]
    too_long = {"name": "六个汉字太长了", "type": "click", "key": "k"}  # 21 bytes > 16
    assert _menu_error({"button": [{"name": "五个汉字多", "type": "click", "key": "k"}, too_long]})[0] == 40018  # type: ignore[index]
    six = [{"type": "click", "name": f"子{i}", "key": f"K{i}"} for i in range(6)]
    assert _menu_error({"button": [{"name": "菜单", "sub_button": six}]})[0] == 40023  # type: ignore[index]


async def test_menu_push_sets_a_menu_whose_every_button_answers(
    sandbox_api: str, platform: SandboxPlatform, wechat: FakeWeChat
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PUFA_")}
    env.update(PUFA_WECHAT_TOKEN=TEST_TOKEN, PUFA_WECHAT_APPID=TEST_APPID, PUFA_WECHAT_APPSECRET=TEST_SECRET,
               PUFA_WECHAT_API_BASE=sandbox_api)
    # The CLI is a separate process; wait for it without blocking the loop the sandbox answers on.
    proc = await asyncio.create_subprocess_exec(PUFA, "menu", "push", env=env, stdout=subprocess.PIPE,
                                                stderr=subprocess.PIPE)
    _, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, err.decode()
    menu = platform.menu
    assert menu is not None and _menu_error(menu) is None
    keys = [sb["key"] for b in menu["button"] for sb in b["sub_button"]]
    assert len(keys) >= 12 and LEAVE_MESSAGE_KEY in keys
    for key in keys:
        reply = await wechat.trigger(RESIDENT, "CLICK", key)
        assert ("1." in reply.text) if key.startswith("TOPIC_") else ("留言" in reply.text), key
