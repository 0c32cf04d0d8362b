"""Hostile and broken requests: only 4xx (or "success"), never a 500, nothing written, no outbound
connection — in plaintext and in safe mode. The corpus follows docs/reliability.md."""

from __future__ import annotations

import asyncio
import base64
import time

import aiohttp
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db.models import InboundMessage, StaffMessage
from bot.wechat import signature
from bot.wechat.crypto import MessageCrypto
from tests.conftest import TEST_AES_KEY, TEST_APPID, TEST_TOKEN, Server

OPENID = "oHostile0000000000000000001"


class Listener:
    """A local TCP listener an XXE payload would try to reach; it counts connections."""

    def __init__(self) -> None:
        self.connections = 0
        self.server: asyncio.Server | None = None
        self.port = 0

    async def __aenter__(self) -> Listener:
        async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.connections += 1
            writer.close()

        self.server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()


def text_xml(content: str = "你好", **override: str) -> str:
    fields = {"ToUserName": "gh_x", "FromUserName": OPENID, "CreateTime": str(int(time.time())),
              "MsgType": "text", "Content": content, "MsgId": "1234567890123456"}
    fields.update(override)
    return "<xml>" + "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in fields.items()) + "</xml>"


def corpus(port: int) -> dict[str, bytes]:
    nested = "<a>" * 100_000 + "</a>" * 100_000
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa">'
        + "".join(f'<!ENTITY {chr(98 + i)} "' + f"&{chr(97 + i)};" * 10 + '">' for i in range(8))
        + "]><xml><Content>&i;</Content></xml>"
    )
    return {
        "xxe_file": f'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        f"{text_xml('&x;')}".encode(),
        "xxe_http": f'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x SYSTEM "http://127.0.0.1:{port}/">]>'
        f"{text_xml('&x;')}".encode(),
        "xxe_parameter": f'<!DOCTYPE xml [<!ENTITY % p SYSTEM "http://127.0.0.1:{port}/p.dtd"> %p;]>'
        f"{text_xml()}".encode(),
        "external_dtd": f'<!DOCTYPE xml SYSTEM "http://127.0.0.1:{port}/x.dtd">{text_xml()}'.encode(),
        "billion_laughs": laughs.encode(),
        "quadratic_blowup": ('<!DOCTYPE xml [<!ENTITY a "' + "x" * 50_000 + '">]><xml><Content>'
                             + "&a;" * 1000 + "</Content></xml>").encode()[:60_000],
        "recursive_entity": b'<!DOCTYPE xml [<!ENTITY a "&b;"><!ENTITY b "&a;">]><xml><Content>&a;</Content></xml>',
        "lowercase_doctype": b'<!doctype xml [<!entity a "b">]><xml/>',
        "deep_nesting": ("<xml>" + nested + "</xml>").encode()[:60_000],
        "many_attributes": ("<xml " + " ".join(f'a{i}="1"' for i in range(50_000)) + "/>").encode()[:60_000],
        "huge_token": ("<xml><Content>" + "A" * (1 << 20) + "</Content></xml>").encode(),
        "over_cap": text_xml("字" * 30_000).encode(),
        "utf16": text_xml().encode("utf-16"),
        "gbk_declared": ('<?xml version="1.0" encoding="GBK"?>' + text_xml("你好")).encode("gbk"),
        "invalid_utf8": text_xml().encode() + b"\xff\xfe\xfa",
        "nul_byte": text_xml("a\x00b").encode(),
        "truncated": text_xml().encode()[:40],
        "empty": b"",
        "whitespace": b"   \n ",
        "json": b'{"ToUserName": "gh_x", "MsgType": "text"}',
        "html": b"<html><body>hi</body></html>",
        "wrong_root": text_xml().replace("<xml>", "<root>").replace("</xml>", "</root>").encode(),
        "dup_msgtype": text_xml().replace("</xml>", "<MsgType>news</MsgType></xml>").encode(),
        "missing_msgtype": text_xml().replace("<MsgType><![CDATA[text]]></MsgType>", "").encode(),
        "dup_from": text_xml().replace("</xml>", f"<FromUserName>{OPENID}</FromUserName></xml>").encode(),
        "missing_from": text_xml().replace(f"<FromUserName><![CDATA[{OPENID}]]></FromUserName>", "").encode(),
        "missing_msgid": text_xml().replace("<MsgId><![CDATA[1234567890123456]]></MsgId>", "").encode(),
        "msgid_overflow": text_xml(MsgId="99999999999999999999999").encode(),
        "createtime_20_digits": text_xml(CreateTime="12345678901234567890").encode(),
        "openid_injection": text_xml(FromUserName="o'; DROP TABLE messages;--").encode(),
        "processing_instruction_only": b'<?xml version="1.0"?>',
        "two_roots": (text_xml() + text_xml()).encode(),
        "binary_garbage": bytes(range(256)) * 4,
    }


def signed_query(nonce: str = "42", ts: str | None = None) -> dict[str, str]:
    ts = ts or str(int(time.time()))
    return {"signature": signature.sign(TEST_TOKEN, ts, nonce), "timestamp": ts, "nonce": nonce}


def safe_query(body: bytes, nonce: str = "42") -> tuple[dict[str, str], bytes]:
    """Wrap a hostile plaintext inside a correctly signed and encrypted safe-mode envelope."""
    ts = str(int(time.time()))
    cipher = MessageCrypto(TEST_AES_KEY, TEST_APPID).encrypt(body.decode("utf-8", "replace"))
    query = {**signed_query(nonce, ts), "encrypt_type": "aes",
             "msg_signature": signature.sign(TEST_TOKEN, ts, nonce, cipher)}
    envelope = f"<xml><ToUserName><![CDATA[gh_x]]></ToUserName><Encrypt><![CDATA[{cipher}]]></Encrypt></xml>"
    return query, envelope.encode()


async def rows(engine: AsyncEngine) -> tuple[int, int]:
    async with engine.connect() as conn:
        messages = (await conn.execute(select(func.count()).select_from(InboundMessage))).scalar_one()
        staff = (await conn.execute(select(func.count()).select_from(StaffMessage))).scalar_one()
    return messages, staff


async def post(url: str, query: dict[str, str], body: bytes) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session:
        async with session.post(url, params=query, data=body, timeout=aiohttp.ClientTimeout(total=10)) as r:
            return r.status, await r.text()


def assert_refused(name: str, status: int, body: str) -> None:
    assert 400 <= status < 500, f"{name}: HTTP {status}"
    assert "Traceback" not in body and "你好" not in body, name


async def test_hostile_corpus_plaintext_and_safe_mode(server: Server, engine: AsyncEngine) -> None:
    async with Listener() as listener:
        payloads = corpus(listener.port)
        assert len(payloads) >= 30
        for name, body in payloads.items():
            status, text = await post(server.webhook, signed_query(), body)
            assert_refused(name, status, text)
        for name, body in payloads.items():
            if len(body) > 40_000:
                continue  # an encrypted over-cap body is refused by size, covered above
            query, envelope = safe_query(body)
            status, text = await post(server.webhook, query, envelope)
            assert_refused("safe:" + name, status, text)
        await asyncio.sleep(0.2)
        assert listener.connections == 0
    assert await rows(engine) == (0, 0)


@pytest.mark.parametrize(
    "tamper",
    ["forged_signature", "stale_timestamp", "future_timestamp", "no_signature", "huge_nonce"],
)
async def test_forged_or_stale_requests_get_403_and_write_nothing(
    server: Server, engine: AsyncEngine, tamper: str
) -> None:
    query = signed_query()
    if tamper == "forged_signature":
        query["signature"] = "0" * 40
    elif tamper == "stale_timestamp":
        query = signed_query(ts=str(int(time.time()) - 3600))
    elif tamper == "future_timestamp":
        query = signed_query(ts=str(int(time.time()) + 3600))
    elif tamper == "no_signature":
        query.pop("signature")
    elif tamper == "huge_nonce":
        query = signed_query(nonce="n" * 200)  # longer than any nonce WeChat sends
    status, text = await post(server.webhook, query, text_xml().encode())
    assert status == 403 and text == "forbidden"
    assert await rows(engine) == (0, 0)


async def test_safe_mode_checks_msg_signature_and_appid(server: Server, engine: AsyncEngine) -> None:
    query, envelope = safe_query(text_xml().encode())
    bad = dict(query, msg_signature=query["signature"])  # the classic bug: signature for msg_signature
    assert (await post(server.webhook, bad, envelope))[0] == 403
    ts = str(int(time.time()))
    foreign = MessageCrypto(TEST_AES_KEY, "wxforeignappid00").encrypt(text_xml())
    q2 = {**signed_query("7", ts), "encrypt_type": "aes",
          "msg_signature": signature.sign(TEST_TOKEN, ts, "7", foreign)}
    env2 = f"<xml><Encrypt><![CDATA[{foreign}]]></Encrypt></xml>".encode()
    assert (await post(server.webhook, q2, env2))[0] == 400
    not_b64 = "!!!" + base64.b64encode(b"x" * 40).decode()
    q3 = {**signed_query("8", ts), "encrypt_type": "aes",
          "msg_signature": signature.sign(TEST_TOKEN, ts, "8", not_b64)}
    assert (await post(server.webhook, q3, f"<xml><Encrypt>{not_b64}</Encrypt></xml>".encode()))[0] == 400
    assert await rows(engine) == (0, 0)


async def test_slow_body_hits_the_read_deadline(server: Server, engine: AsyncEngine) -> None:
    host, port = server.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    q = signed_query()
    path = "/wechat?" + "&".join(f"{k}={v}" for k, v in q.items())
    writer.write(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n<xml>".encode())
    await writer.drain()
    status_line = await asyncio.wait_for(reader.readline(), timeout=15)
    writer.close()
    assert b" 408 " in status_line
    assert await rows(engine) == (0, 0)
