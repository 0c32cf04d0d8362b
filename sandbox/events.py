"""Delivering the sandbox's MASSSENDJOBFINISH events to pufa's webhook, signed and encrypted like
WeChat's own pushes (through the inbound half, FakeWeChat)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from sandbox.inbound import FakeWeChat

# MASSSENDJOBFINISH comes from the account's system user, not from a follower.
SYSTEM_OPENID = "oSandboxMassSendSystem"


def webhook_sink(url: str, *, token: str, appid: str, aes_key: str,
                 session: aiohttp.ClientSession) -> Callable[[dict[str, Any]], Awaitable[Any]]:
    fake = FakeWeChat(url, token=token, appid=appid, aes_key=aes_key, mode="safe" if aes_key else "plain",
                      session=session, tries=3)

    async def deliver(fields: dict[str, Any]) -> Any:
        return await fake.deliver(fake.event(SYSTEM_OPENID, "MASSSENDJOBFINISH", **fields))

    return deliver
