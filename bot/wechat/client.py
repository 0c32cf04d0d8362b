"""A thin async client for the few official-account API calls pufa makes.

Tokens come from ``/cgi-bin/stable_token``, which does not rotate on repeated calls: several pufa
processes can each fetch it without invalidating one another (``/cgi-bin/token`` would), so no
cross-process refresh lock is needed. URLs carrying ``access_token`` are never logged.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import aiohttp

log = logging.getLogger("pufa.wechat.client")

TOKEN_ERRORS = {40001, 40014, 42001}
# Refresh a little early so a token never expires mid-call.
TOKEN_MARGIN = 300


class WechatApiError(RuntimeError):
    def __init__(self, errcode: int, errmsg: str, payload: dict[str, Any] | None = None) -> None:
        super().__init__(f"WeChat API error {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg
        self.payload = payload or {}


class WechatTransportError(RuntimeError):
    """Timeout, connection failure or a non-JSON/5xx answer: retryable with the same idempotency key."""


@dataclass
class _Token:
    value: str
    expires_at: float


class WechatClient:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        appid: str,
        secret: str,
        api_base: str,
        timeout: float = 10.0,
    ) -> None:
        self.session = session
        self.appid = appid
        self._secret = secret
        self.api_base = api_base.rstrip("/")
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._token: _Token | None = None
        self._lock = asyncio.Lock()

    async def access_token(self, force: bool = False) -> str:
        async with self._lock:
            now = time.monotonic()
            if not force and self._token and self._token.expires_at > now:
                return self._token.value
            data = await self._post_json(
                "/cgi-bin/stable_token",
                {"grant_type": "client_credential", "appid": self.appid, "secret": self._secret,
                 "force_refresh": force},
                token=None,
            )
            value = str(data["access_token"])
            ttl = int(data.get("expires_in", 7200))
            self._token = _Token(value, now + max(60, ttl - TOKEN_MARGIN))
            return value

    async def call(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        """POST JSON with the access token; on an invalid/expired token refresh once and retry once."""
        return await self._with_token(lambda token: self._post_json(path, payload, token=token))

    async def _with_token(self, send: Callable[[str], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
        token = await self.access_token()
        try:
            return await send(token)
        except WechatApiError as exc:
            if exc.errcode not in TOKEN_ERRORS:
                raise
            return await send(await self.access_token(force=True))

    async def _post_json(self, path: str, payload: dict[str, Any], token: str | None) -> dict[str, Any]:
        # Chinese as UTF-8, not \uXXXX escapes: WeChat refuses those in some APIs (menu/create: 40033).
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        return await self._post(path, body, token, {"Content-Type": "application/json; charset=utf-8"})

    async def _post(self, path: str, body: Any, token: str | None, headers: dict[str, str] | None = None,
                    ) -> dict[str, Any]:
        """One POST; transport trouble becomes WechatTransportError, an errcode WechatApiError."""
        params = {"access_token": token} if token else None
        try:
            async with self.session.post(
                self.api_base + path, data=body, params=params, timeout=self.timeout, headers=headers,
            ) as resp:
                if resp.status >= 500:
                    raise WechatTransportError(f"{path}: HTTP {resp.status}")
                data = await resp.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise WechatTransportError(f"{path}: {type(exc).__name__}") from None
        if not isinstance(data, dict):
            raise WechatTransportError(f"{path}: unexpected answer")
        code = int(data.get("errcode", 0) or 0)
        if code:
            raise WechatApiError(code, str(data.get("errmsg", "")), data)
        return data

    async def create_menu(self, menu: dict[str, Any]) -> None:
        """Replace the account's custom menu (自定义菜单); WeChat clients may cache the old one for a while."""
        await self.call("/cgi-bin/menu/create", menu)

    async def send_text(self, openid: str, content: str) -> None:
        """Customer-service message (客服消息): 5 within 48 h of the resident's last message."""
        await self.call(
            "/cgi-bin/message/custom/send",
            {"touser": openid, "msgtype": "text", "text": {"content": content}},
        )

    # -- mass send (群发): used by the scheduler -------------------------------------------------
    async def upload_image(self, filename: str, data: bytes, content_type: str = "image/jpeg") -> str:
        """``media/uploadimg``: an image for use inside article HTML; returns its URL."""
        def send(token: str) -> Awaitable[dict[str, Any]]:
            form = aiohttp.FormData()  # a FormData can be sent once: a fresh one for each try
            form.add_field("media", data, filename=filename, content_type=content_type)
            return self._post("/cgi-bin/media/uploadimg", form, token)

        out = await self._with_token(send)
        return str(out["url"])

    async def add_material(self, filename: str, data: bytes, content_type: str, kind: str = "image") -> str:
        """``material/add_material``: permanent material (an article cover must be one); its media_id."""
        def send(token: str) -> Awaitable[dict[str, Any]]:
            form = aiohttp.FormData()
            form.add_field("media", data, filename=filename, content_type=content_type)
            return self._post(f"/cgi-bin/material/add_material?type={kind}", form, token)

        out = await self._with_token(send)
        return str(out["media_id"])

    async def add_draft(self, articles: list[dict[str, Any]]) -> str:
        """``draft/add``; returns the draft's media_id (used as mpnews media_id in a mass send)."""
        data = await self.call("/cgi-bin/draft/add", {"articles": articles})
        return str(data["media_id"])

    @staticmethod
    def _mass_body(media_id: str) -> dict[str, Any]:
        return {"mpnews": {"media_id": media_id}, "msgtype": "mpnews", "send_ignore_reprint": 0}

    async def mass_sendall(self, media_id: str, *, clientmsgid: str, tag_id: int | None = None) -> dict[str, Any]:
        """``message/mass/sendall`` to all followers or one tag. 45065 raises WechatApiError whose
        payload carries the earlier ``msg_id``."""
        target: dict[str, Any] = {"is_to_all": True} if tag_id is None else {"is_to_all": False, "tag_id": tag_id}
        return await self.call(
            "/cgi-bin/message/mass/sendall",
            {"filter": target, **self._mass_body(media_id), "clientmsgid": clientmsgid},
        )

    async def mass_preview(self, media_id: str, openid: str) -> dict[str, Any]:
        return await self.call("/cgi-bin/message/mass/preview", {"touser": openid, **self._mass_body(media_id)})

    async def mass_get(self, msg_id: int) -> dict[str, Any]:
        """``message/mass/get``: the send's status (SEND_SUCCESS, SENDING, SEND_FAIL, DELETE)."""
        return await self.call("/cgi-bin/message/mass/get", {"msg_id": msg_id})

    async def user_count(self) -> int:
        """Number of followers (``user/get`` total)."""
        token = await self.access_token()
        try:
            async with self.session.get(self.api_base + "/cgi-bin/user/get", params={"access_token": token},
                                        timeout=self.timeout) as resp:
                data = await resp.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise WechatTransportError(f"user/get: {type(exc).__name__}") from None
        if code := int(data.get("errcode", 0) or 0):
            raise WechatApiError(code, str(data.get("errmsg", "")), data)
        return int(data.get("total", 0))

    # -- analytics (datacube): used by the scheduler's daily job -----------------------------------
    async def datacube(self, name: str, begin: date, end: date) -> list[dict[str, Any]]:
        """``POST /datacube/<name>`` for ``begin..end`` (inclusive; WeChat allows at most 7 days for
        the user endpoints, and a day's data only from about 08:00 the next day). Returns ``list``."""
        data = await self.call(f"/datacube/{name}",
                               {"begin_date": begin.isoformat(), "end_date": end.isoformat()})
        rows = data.get("list", [])
        return [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []

    async def user_summary(self, begin: date, end: date) -> list[dict[str, Any]]:
        """``getusersummary``: per day and ``user_source``, ``new_user`` and ``cancel_user``."""
        return await self.datacube("getusersummary", begin, end)

    async def user_cumulate(self, begin: date, end: date) -> list[dict[str, Any]]:
        """``getusercumulate``: per day, ``cumulate_user`` (followers at the end of that day)."""
        return await self.datacube("getusercumulate", begin, end)
