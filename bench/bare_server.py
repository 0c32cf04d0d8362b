"""Baseline (a): a bare aiohttp handler returning a fixed XML reply — the ceiling for the webhook."""

from __future__ import annotations

import sys

from aiohttp import web

REPLY = (
    "<xml><ToUserName><![CDATA[oUser]]></ToUserName><FromUserName><![CDATA[gh_x]]></FromUserName>"
    "<CreateTime>1</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[你好]]></Content></xml>"
)


async def handle(request: web.Request) -> web.Response:
    await request.read()
    return web.Response(text=REPLY, content_type="application/xml")


def main() -> None:
    app = web.Application()
    app.router.add_post("/wechat", handle)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)


if __name__ == "__main__":
    main()
