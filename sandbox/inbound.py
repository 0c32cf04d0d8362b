"""The inbound half of the sandbox: WeChat's servers pushing residents' messages to the webhook.

Messages are built, signed and (in safe or compatible mode) encrypted exactly as WeChat does, with
wechatpy's independent implementation of the cipher, so our webhook is checked against a second
implementation rather than against itself. Like WeChat, a delivery that gets no usable answer
within 5 s is retried, three tries in all, with the same MsgId.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import secrets
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from wechatpy.crypto import PrpCrypto, WeChatCrypto

from bot.wechat import signature, xmlcodec

WECHAT_TIMEOUT = 5.0
WECHAT_TRIES = 3
ACCOUNT_ID = "gh_pufa_sandbox"
_msg_ids = itertools.count(int(time.time() * 1000) * 1000)


def next_msg_id() -> int:
    return next(_msg_ids)


@dataclass
class Delivery:
    """What WeChat saw: the HTTP status and body of the last try, and the decoded reply."""

    status: int
    body: str
    attempts: int
    reply: dict[str, Any] | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def acknowledged(self) -> bool:
        return self.status == 200 and self.body in {"", "success"}

    @property
    def text(self) -> str:
        """What the resident sees on the phone ("" when nothing was shown)."""
        if not self.reply:
            return ""
        if self.reply.get("MsgType") == "text":
            return str(self.reply.get("Content", ""))
        if self.reply.get("MsgType") == "news":
            items = self.reply.get("Articles", {}).get("item", [])
            items = items if isinstance(items, list) else [items]
            return "\n".join(str(i.get("Title", "")) for i in items)
        return ""


class FakeWeChat:
    """Pushes messages to a webhook URL as WeChat would."""

    def __init__(
        self,
        webhook_url: str,
        *,
        token: str,
        appid: str,
        aes_key: str = "",
        mode: str = "plain",  # plain | compat | safe
        session: aiohttp.ClientSession | None = None,
        timeout: float = WECHAT_TIMEOUT,
        tries: int = WECHAT_TRIES,
        clock: Callable[[], float] = time.time,
        on_inbound: Callable[[str, float], None] | None = None,
    ) -> None:
        if mode not in {"plain", "compat", "safe"}:
            raise ValueError("mode must be plain, compat or safe")
        if mode != "plain" and not aes_key:
            raise ValueError("safe and compatible modes need the EncodingAESKey")
        self.url = webhook_url
        self.token = token
        self.appid = appid
        self.aes_key = aes_key
        self.mode = mode
        self.timeout = timeout
        self.tries = tries
        self.clock = clock
        self.on_inbound = on_inbound
        self._session = session
        self._own_session = session is None

    async def __aenter__(self) -> FakeWeChat:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    # -- building messages -------------------------------------------------------------------
    def _base(self, openid: str, msg_type: str) -> dict[str, Any]:
        return {"ToUserName": ACCOUNT_ID, "FromUserName": openid, "CreateTime": int(self.clock()),
                "MsgType": msg_type}

    def text(self, openid: str, content: str, msg_id: int | None = None) -> dict[str, Any]:
        return {**self._base(openid, "text"), "Content": content, "MsgId": msg_id or next_msg_id()}

    def voice(self, openid: str, recognition: str, msg_id: int | None = None) -> dict[str, Any]:
        return {**self._base(openid, "voice"), "MediaId": secrets.token_hex(16), "Format": "amr",
                "Recognition": recognition, "MsgId": msg_id or next_msg_id()}

    def event(self, openid: str, event: str, key: str = "", **extra: Any) -> dict[str, Any]:
        fields = {**self._base(openid, "event"), "Event": event}
        if key or event.upper() in {"CLICK", "VIEW", "SCAN"}:
            fields["EventKey"] = key
        fields.update(extra)
        return fields

    def media(self, openid: str, msg_type: str) -> dict[str, Any]:
        by_type: dict[str, dict[str, Any]] = {"image": {"PicUrl": "http://example.invalid/p.jpg", "MediaId": "m1"},
                                 "location": {"Location_X": 29.7, "Location_Y": 105.7, "Scale": 15,
                                              "Label": "古龙镇"},
                                 "link": {"Title": "链接", "Description": "", "Url": "http://example.invalid"},
                                 }
        extra = by_type.get(msg_type, {"MediaId": "m1"})
        return {**self._base(openid, msg_type), **extra, "MsgId": next_msg_id()}

    # -- signing and sending -----------------------------------------------------------------
    def sign_request(self, fields: Mapping[str, Any]) -> tuple[dict[str, str], bytes]:
        """Query parameters and body of one push, exactly as WeChat builds them."""
        plain = xmlcodec.render(fields)
        ts, nonce = str(int(self.clock())), str(secrets.randbelow(10**10))
        query = {"signature": signature.sign(self.token, ts, nonce), "timestamp": ts, "nonce": nonce}
        if self.mode == "plain":
            return query, plain.encode("utf-8")
        key = base64.b64decode(self.aes_key + "=")
        encrypt = PrpCrypto(key).encrypt(plain, self.appid)
        encrypt = encrypt.decode() if isinstance(encrypt, bytes) else encrypt
        query.update(encrypt_type="aes", msg_signature=signature.sign(self.token, ts, nonce, encrypt))
        outer: dict[str, Any] = {"ToUserName": ACCOUNT_ID, "Encrypt": encrypt}
        if self.mode == "compat":
            outer = {**fields, "Encrypt": encrypt}
        return query, xmlcodec.render(outer).encode("utf-8")

    async def deliver(self, fields: Mapping[str, Any]) -> Delivery:
        """Push once, retrying like WeChat (same message, fresh signature) when no answer comes."""
        assert self._session is not None, "use 'async with FakeWeChat(...)'"
        if self.on_inbound is not None and fields.get("MsgType") != "event":
            self.on_inbound(str(fields["FromUserName"]), self.clock())
        errors: list[str] = []
        status, body = 0, ""
        for attempt in range(1, self.tries + 1):
            query, data = self.sign_request(fields)
            try:
                async with self._session.post(
                    self.url, params=query, data=data, headers={"Content-Type": "text/xml"},
                    timeout=aiohttp.ClientTimeout(total=self.timeout),
                ) as resp:
                    status, body = resp.status, await resp.text()
            except (TimeoutError, aiohttp.ClientError) as exc:
                errors.append(type(exc).__name__)
                continue
            if status == 200:
                return Delivery(status, body, attempt, self._decode(body, query), errors)
            errors.append(f"HTTP {status}")
        return Delivery(status, body, self.tries, None, errors)

    def _decode(self, body: str, query: Mapping[str, str]) -> dict[str, Any] | None:
        # Replies are read with the standard library's parser, not ours: a reply our renderer
        # broke (``]]>`` in CDATA, say) must show up here as a broken reply.
        if body in {"", "success"}:
            return None
        outer = element_to_dict(ET.fromstring(body))
        if "Encrypt" not in outer:
            return outer
        crypto = WeChatCrypto(self.token, self.aes_key, self.appid)
        plain = crypto.decrypt_message(body, str(outer["MsgSignature"]), str(outer["TimeStamp"]),
                                       str(outer["Nonce"]))
        plain = plain.decode() if isinstance(plain, bytes) else plain
        return element_to_dict(ET.fromstring(plain))

    # -- conveniences --------------------------------------------------------------------------
    async def say(self, openid: str, content: str) -> Delivery:
        return await self.deliver(self.text(openid, content))

    async def speak(self, openid: str, recognition: str) -> Delivery:
        return await self.deliver(self.voice(openid, recognition))

    async def trigger(self, openid: str, event: str, key: str = "") -> Delivery:
        return await self.deliver(self.event(openid, event, key))

    async def verify_url(self, echostr: str) -> tuple[int, str]:
        """The GET that WeChat sends when an administrator saves the server URL."""
        assert self._session is not None
        ts, nonce = str(int(self.clock())), str(secrets.randbelow(10**10))
        query = {"signature": signature.sign(self.token, ts, nonce), "timestamp": ts, "nonce": nonce,
                 "echostr": echostr}
        async with self._session.get(self.url, params=query) as resp:
            return resp.status, await resp.text()


def element_to_dict(elem: ET.Element) -> dict[str, Any]:
    """Children of an element as a dict; repeated tags become lists, leaves become their text."""
    out: dict[str, Any] = {}
    for child in elem:
        value: Any = element_to_dict(child) if len(child) else (child.text or "")
        if child.tag in out:
            prev = out[child.tag]
            out[child.tag] = [*prev, value] if isinstance(prev, list) else [prev, value]
        else:
            out[child.tag] = value
    return out


async def gather_deliveries(*coros: Any) -> list[Delivery]:
    return list(await asyncio.gather(*coros))
