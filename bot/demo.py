"""Demo mode: with no WeChat account configured, pufa talks to its own sandbox platform.

The generated token, appid, secret and EncodingAESKey are kept in an untracked state file so that
``pufa simulate`` (another process) can sign messages the server accepts.
"""

from __future__ import annotations

import secrets
import string
import tomllib
from dataclasses import replace
from pathlib import Path

import tomli_w

from bot.config import Secret, Settings

SANDBOX_PREFIX = "/sandbox/wechat"


def _aes_key() -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(43))


def demo_credentials(path: Path) -> dict[str, str]:
    if path.exists():
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        if {"token", "appid", "appsecret", "aes_key"} <= set(data):
            return {k: str(v) for k, v in data.items()}
    data = {
        "token": secrets.token_urlsafe(24),
        "appid": "wxdemo" + secrets.token_hex(5),
        "appsecret": secrets.token_hex(16),
        "aes_key": _aes_key(),
        "openid_salt": secrets.token_hex(16),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    path.chmod(0o600)
    return data


def apply_demo(settings: Settings) -> Settings:
    """Settings with the sandbox account filled in (only when demo mode is on)."""
    if not settings.demo_mode:
        return settings
    creds = demo_credentials(Path(settings.demo.state_file))
    host = settings.server.host if settings.server.host not in {"0.0.0.0", "::"} else "127.0.0.1"
    wechat = replace(
        settings.wechat,
        token=Secret(creds["token"]),
        appid=creds["appid"],
        appsecret=Secret(creds["appsecret"]),
        aes_key=Secret(creds["aes_key"]),
        api_base=f"http://{host}:{settings.server.port}{SANDBOX_PREFIX}",
    )
    privacy = settings.privacy
    if not privacy.openid_salt and creds.get("openid_salt"):
        privacy = replace(privacy, openid_salt=Secret(creds["openid_salt"]))
    # Pin the mode: with the sandbox credentials filled in, "auto" would no longer mean demo.
    return replace(settings, wechat=wechat, privacy=privacy, demo=replace(settings.demo, mode="on"))


def banner(settings: Settings) -> str:
    base = f"http://{settings.server.host}:{settings.server.port}"
    return (
        "\n==================== 普法助手 演示模式 (demo mode) ====================\n"
        "没有配置微信公众号，已启用本地沙箱（sandbox），无需微信账号即可试用。\n"
        f"  试着问一句：  pufa simulate \"老板欠我工钱不给咋办\"\n"
        f"  关注事件：    pufa simulate --event subscribe\n"
        f"  沙箱已发送：  {base}/sandbox/api/sent\n"
        f"  Webhook：     {base}/wechat   (token 等保存在 {settings.demo.state_file})\n"
        "配置 PUFA_WECHAT_TOKEN / PUFA_WECHAT_APPID 等后即连接真实公众号。\n"
        "=====================================================================\n"
    )
