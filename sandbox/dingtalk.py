"""A stand-in for a DingTalk custom group robot (自定义机器人, 加签 security setting).

It checks what DingTalk checks — the access token, a timestamp within one hour, the HMAC-SHA256
signature — and enforces the rate limit: past 20 messages in a minute the robot is blocked for
10 minutes (errcode 130101). Accepted messages are recorded in the same list as WeChat sends, so
``GET /sandbox/api/sent`` counts every delivery.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from sandbox.api import SentRecord

WINDOW = 60.0
BLOCK = 600.0
BODY_MAX = 20000


@dataclass
class DingtalkRobot:
    access_token: str
    secret: str
    sent: list[SentRecord]
    clock: Callable[[], float]
    per_minute: int = 20
    accepted_at: deque[float] = field(default_factory=deque)
    blocked_until: float = 0.0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    # Highest number of accepted messages seen inside any 60 s window (tests assert on it).
    peak_per_minute: int = 0

    def expected_sign(self, timestamp: str) -> str:
        digest = hmac.new(self.secret.encode(), f"{timestamp}\n{self.secret}".encode(), hashlib.sha256).digest()
        return base64.b64encode(digest).decode()

    def receive(self, query: dict[str, str], body: bytes, payload: Any) -> dict[str, Any]:
        now = self.clock()
        if not secrets.compare_digest(query.get("access_token", ""), self.access_token):
            return self._reject(300001, "token is not exist")
        if self.secret:
            ts = query.get("timestamp", "")
            if not ts.isdigit() or abs(now * 1000 - int(ts)) > 3600 * 1000:
                return self._reject(310000, "sign not match, timestamp expired")
            # aiohttp already url-decoded the query value.
            if not secrets.compare_digest(query.get("sign", ""), self.expected_sign(ts)):
                return self._reject(310000, "sign not match")
        if now < self.blocked_until:
            return self._reject(130101, "send too fast, exceed 20 times per minute")
        while self.accepted_at and now - self.accepted_at[0] >= WINDOW:
            self.accepted_at.popleft()
        if len(self.accepted_at) >= self.per_minute:
            self.blocked_until = now + BLOCK
            return self._reject(130101, "send too fast, exceed 20 times per minute")
        if len(body) > BODY_MAX:
            return self._reject(460101, "message too long")
        if not isinstance(payload, dict) or payload.get("msgtype") not in {"text", "markdown", "link",
                                                                            "actionCard", "feedCard"}:
            return self._reject(40035, "缺少参数 json")
        kind = str(payload["msgtype"])
        part = payload.get(kind) or {}
        title = str(part.get("title", "")) if isinstance(part, dict) else ""
        content = str(part.get("text") or part.get("content") or "") if isinstance(part, dict) else ""
        self.accepted_at.append(now)
        self.peak_per_minute = max(self.peak_per_minute, len(self.accepted_at))
        self.sent.append(SentRecord("dingtalk", kind, "group", content, now, audience="group", title=title))
        return {"errcode": 0, "errmsg": "ok"}

    def _reject(self, code: int, msg: str) -> dict[str, Any]:
        self.rejected.append({"errcode": code, "errmsg": msg, "time": self.clock()})
        return {"errcode": code, "errmsg": msg}


ROBOT_KEY = web.AppKey("sandbox_dingtalk", DingtalkRobot)


async def robot_send(request: web.Request) -> web.Response:
    body = await request.read()
    try:
        payload = await request.json()
    except ValueError:
        payload = None
    return web.json_response(request.app[ROBOT_KEY].receive(dict(request.query), body, payload))


def create_dingtalk_app(robot: DingtalkRobot) -> web.Application:
    """Mount under any prefix; the robot URL is ``<prefix>/robot/send?access_token=…``."""
    app = web.Application()
    app[ROBOT_KEY] = robot
    app.router.add_post("/robot/send", robot_send)
    return app


DEMO_PREFIX = "/sandbox/dingtalk"
DEMO_TOKEN = "sandbox-robot"


def mount_demo(app: web.Application, sent: list[SentRecord], secret: str,
               clock: Callable[[], float]) -> DingtalkRobot:
    """Demo mode: a robot at ``/sandbox/dingtalk/robot/send?access_token=sandbox-robot``."""
    robot = DingtalkRobot(DEMO_TOKEN, secret, sent, clock)
    app.add_subapp(DEMO_PREFIX, create_dingtalk_app(robot))
    app[ROBOT_KEY] = robot
    return robot
