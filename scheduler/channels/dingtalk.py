"""DingTalk custom group robot: signed webhook (加签), text/markdown, paced under 20 messages a minute.

DingTalk has no idempotency key, so an attempt whose outcome is unknown (timeout, crash mid-call) is
never repeated automatically; only answers proving nothing was delivered are retried.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.parse
from typing import Any

import aiohttp

from scheduler.channels import ChannelResult, MediaHook
from scheduler.models import Post
from scheduler.policy import Action, Rule

# DingTalk's "sending too fast" (the robot is then blocked for 10 minutes).
TOO_FAST = 130101
BODY_MAX = 20000


def sign(secret: str, timestamp_ms: int) -> str:
    """``urlencode(base64(HMAC-SHA256(secret, f"{timestamp}\\n{secret}")))`` as DingTalk documents."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest).decode())


def signed_url(webhook_url: str, secret: str, timestamp_ms: int | None = None) -> str:
    if not secret:
        return webhook_url
    ts = int(time.time() * 1000) if timestamp_ms is None else timestamp_ms
    sep = "&" if "?" in webhook_url else "?"
    return f"{webhook_url}{sep}timestamp={ts}&sign={sign(secret, ts)}"


def markdown(title: str, body: str) -> dict[str, Any]:
    """A markdown message; a staff notice too long for DingTalk is cut (posts are refused when saved,
    ``too_long``), so that an alert always arrives."""
    text = _markdown_text(title, body)
    if len(text.encode()) > BODY_MAX - 200:
        text = text.encode()[: BODY_MAX - 200].decode(errors="ignore")
    return _markdown_payload(title, text)


def _markdown_text(title: str, body: str) -> str:
    return f"#### {title}\n\n{body}"


def _markdown_payload(title: str, text: str) -> dict[str, Any]:
    return {"msgtype": "markdown", "markdown": {"title": title, "text": text}}


def encode(payload: dict[str, Any]) -> bytes:
    # UTF-8, not \uXXXX escapes: DingTalk counts the request's bytes, and escaped Chinese is twice as long.
    return json.dumps(payload, ensure_ascii=False).encode()


def too_long(title: str, body: str) -> str | None:
    """Why DingTalk would refuse this post ("message too long") or ``markdown`` would cut it, for staff;
    None when it goes out whole."""
    text = _markdown_text(title, body)
    size = len(encode(_markdown_payload(title, text)))
    if size <= BODY_MAX and len(text.encode()) <= BODY_MAX - 200:
        return None
    return f"钉钉消息最多约 {BODY_MAX // 3} 个汉字，这篇超出了（{size} 字节，上限 {BODY_MAX}），请删短或分成几篇"


def message(post: Post) -> dict[str, Any]:
    return markdown(post.title, post.body)


class DingtalkChannel:
    name = "dingtalk"
    idempotent = False

    def __init__(self, session: aiohttp.ClientSession, webhook_url: str, secret: str, timeout: float = 10.0,
                 clock_ms: Any = None) -> None:
        self.session = session
        self.webhook_url = webhook_url
        self._secret = secret
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._clock_ms = clock_ms or (lambda: int(time.time() * 1000))

    async def send(self, post: Post, remember_media: MediaHook) -> ChannelResult:
        return await self.post_message(message(post))

    async def send_notice(self, title: str, text: str) -> ChannelResult:
        """A staff notice (alert, monthly headline) as markdown; same signing and answers as posts."""
        return await self.post_message(markdown(title, text))

    async def post_message(self, payload: dict[str, Any]) -> ChannelResult:
        url = signed_url(self.webhook_url, self._secret, self._clock_ms())
        try:
            async with self.session.post(url, data=encode(payload), timeout=self.timeout,
                                         headers={"Content-Type": "application/json"}) as resp:
                if resp.status >= 500:
                    return ChannelResult(-1, f"HTTP {resp.status}")
                data = await resp.json(content_type=None)
        except aiohttp.ClientConnectorError as exc:
            return ChannelResult(-1, type(exc).__name__, may_have_arrived=False)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            return ChannelResult(-1, type(exc).__name__)
        code = int(data.get("errcode", 0) or 0) if isinstance(data, dict) else -1
        return ChannelResult(code, str(data.get("errmsg", "")) if isinstance(data, dict) else "bad answer")

    def rule(self, result: ChannelResult) -> Rule:
        if result.errcode == 0:
            return Rule(Action.SENT, False)
        if result.errcode == TOO_FAST:
            return Rule(Action.RETRY, True, wait=600.0, note="钉钉机器人发送过快，被限流 10 分钟")
        if result.errcode == -1 and not result.may_have_arrived:
            return Rule(Action.RETRY, False, note="无法连接钉钉，消息未发出")
        if result.errcode == -1:
            return Rule(Action.NEEDS_ATTENTION, True, note="钉钉未答复，是否送达未知，请到群里核对")
        return Rule(Action.FAILED, True, note=f"钉钉拒绝：{result.errmsg}")
