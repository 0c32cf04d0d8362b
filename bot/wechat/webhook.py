"""The ``/wechat`` endpoint: verify first, then read, decrypt and parse, then respond.

Order matters for hostile input: the signature and timestamp are checked before the body is read,
the body is capped and read under a deadline, DTDs/entities are refused before any parsing, and in
safe mode ``msg_signature`` is checked over ``Encrypt`` before decryption. Every failure becomes one
uniform 4xx with a fixed body — never a 500, never a resident's text in a log line.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.wechat import signature, xmlcodec
from bot.wechat.crypto import CryptoError, MessageCrypto
from bot.wechat.messages import Inbound, MessageError

log = logging.getLogger("pufa.webhook")

SUCCESS = "success"

Respond = Callable[[Inbound, float], Awaitable[str | None]]


class Rejected(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


_BODIES = {400: "bad request", 403: "forbidden", 405: "method not allowed", 408: "request timeout",
           413: "payload too large"}


def _reject(status: int, reason: str) -> Rejected:
    return Rejected(status, reason)


class Webhook:
    def __init__(
        self,
        *,
        token: str,
        crypto: MessageCrypto | None,
        respond: Respond,
        body_limit: int,
        read_timeout: float,
        timestamp_window: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.token = token
        self.crypto = crypto
        self.respond = respond
        self.body_limit = body_limit
        self.read_timeout = read_timeout
        self.window = timestamp_window
        self.clock = clock

    def _verify_query(self, request: web.Request) -> tuple[str, str]:
        q = request.query
        ts, nonce = q.get("timestamp", ""), q.get("nonce", "")
        if len(nonce) > 64 or not signature.check((self.token, ts, nonce), q.get("signature", "")):
            raise _reject(403, "bad signature")
        if not signature.timestamp_fresh(ts, self.clock(), self.window):
            raise _reject(403, "stale timestamp")
        return ts, nonce

    async def get(self, request: web.Request) -> web.StreamResponse:
        try:
            self._verify_query(request)
        except Rejected as exc:
            return self._error(exc)
        # WeChat expects echostr back verbatim.
        return web.Response(text=request.query.get("echostr", ""), content_type="text/plain")

    async def post(self, request: web.Request) -> web.StreamResponse:
        started = time.monotonic()
        try:
            _, nonce = self._verify_query(request)
            body = await self._read_body(request)
            msg, encrypted = self._decode(request, body)
        except Rejected as exc:
            return self._error(exc)
        reply = await self.respond(msg, started)
        if reply is None:
            return web.Response(text=SUCCESS, content_type="text/plain")
        if encrypted and self.crypto is not None:
            reply = self._encrypt_reply(reply, nonce)
        return web.Response(text=reply, content_type="application/xml", charset="utf-8")

    async def _read_body(self, request: web.Request) -> bytes:
        if request.content_length is not None and request.content_length > self.body_limit:
            raise _reject(413, "body too large")
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(self.read_timeout):
                while True:
                    chunk = await request.content.read(16384)
                    if not chunk:
                        break
                    size += len(chunk)
                    if size > self.body_limit:
                        raise _reject(413, "body too large")
                    chunks.append(chunk)
        except TimeoutError:
            raise _reject(408, "body read deadline") from None
        return b"".join(chunks)

    def _decode(self, request: web.Request, body: bytes) -> tuple[Inbound, bool]:
        q = request.query
        encrypted = q.get("encrypt_type", "raw").lower() == "aes"
        try:
            fields = xmlcodec.parse(body)
            if encrypted:
                if self.crypto is None:
                    raise _reject(400, "safe mode is not configured")
                cipher = fields.get("Encrypt")
                if not isinstance(cipher, str) or not cipher or len(cipher) > self.body_limit * 2:
                    raise _reject(400, "Encrypt missing")
                ts, nonce = q.get("timestamp", ""), q.get("nonce", "")
                if not signature.check((self.token, ts, nonce, cipher), q.get("msg_signature", "")):
                    raise _reject(403, "bad msg_signature")
                fields = xmlcodec.parse(self.crypto.decrypt(cipher).encode("utf-8"))
            return Inbound.from_fields(fields), encrypted
        except Rejected:
            raise
        except (xmlcodec.XmlError, CryptoError, MessageError) as exc:
            raise _reject(400, type(exc).__name__) from None
        except Exception as exc:  # any other decoder surprise is still the sender's fault
            log.warning("unexpected decode failure: %s", type(exc).__name__)
            raise _reject(400, "undecodable") from None

    def _encrypt_reply(self, reply: str, nonce: str) -> str:
        assert self.crypto is not None
        cipher = self.crypto.encrypt(reply)
        ts = str(int(self.clock()))
        reply_nonce = nonce or secrets.token_hex(8)
        sig = signature.sign(self.token, ts, reply_nonce, cipher)
        return xmlcodec.render({"Encrypt": cipher, "MsgSignature": sig, "TimeStamp": int(ts), "Nonce": reply_nonce})

    @staticmethod
    def _error(exc: Rejected) -> web.Response:
        log.info("webhook rejected a request: %s (%s)", exc.status, exc.reason)
        return web.Response(status=exc.status, text=_BODIES.get(exc.status, "bad request"))
