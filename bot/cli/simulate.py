"""``pufa simulate``: be WeChat for one message against a running server and print the reply."""

from __future__ import annotations

import argparse
import asyncio
import sys

import aiohttp

from bot.cli.common import settings_from
from sandbox.inbound import FakeWeChat


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("simulate", help="模拟微信给运行中的服务发一条消息（沙箱）")
    p.add_argument("text", nargs="?", default="", help="消息文字（--voice 时为语音识别结果）")
    p.add_argument("--voice", action="store_true", help="作为语音消息发送（Recognition 字段）")
    p.add_argument("--event", help="发送事件，例如 subscribe、unsubscribe")
    p.add_argument("--click", metavar="KEY", help="发送菜单点击事件 CLICK 和它的 EventKey")
    p.add_argument("--safe", action="store_true", help="安全模式（AES 加密）")
    p.add_argument("--compat", action="store_true", help="兼容模式（明文和密文都有）")
    p.add_argument("--openid", default="oSandboxResident000000000001", help="居民的 openid")
    p.add_argument("--url", help="webhook 地址（默认 http://HOST:PORT/wechat）")
    p.set_defaults(func=run)


async def _run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    w = settings.wechat
    url = args.url or f"http://{settings.server.host}:{settings.server.port}/wechat"
    mode = "safe" if args.safe else "compat" if args.compat else "plain"
    async with aiohttp.ClientSession(trust_env=False) as session:
        if settings.demo_mode and not args.event and not args.click:
            # Tell the sandbox platform a resident wrote, as WeChat itself would know.
            try:
                await session.post(w.api_base + "/sandbox/api/inbound", json={"openid": args.openid})
            except aiohttp.ClientError:
                pass
        wechat = FakeWeChat(url, token=w.token.reveal(), appid=w.appid, aes_key=w.aes_key.reveal(),
                            mode=mode, session=session)
        if args.click:
            fields = wechat.event(args.openid, "CLICK", args.click)
        elif args.event:
            fields = wechat.event(args.openid, args.event)
        elif args.voice:
            fields = wechat.voice(args.openid, args.text)
        else:
            fields = wechat.text(args.openid, args.text)
        try:
            delivery = await wechat.deliver(fields)
        except aiohttp.ClientError as exc:
            print(f"连接 {url} 失败：{exc}。服务启动了吗？（make run 或 pufa serve）", file=sys.stderr)
            return 1
    if delivery.status != 200:
        print(f"服务返回 HTTP {delivery.status}：{delivery.body}（尝试 {delivery.attempts} 次）", file=sys.stderr)
        return 1
    if delivery.acknowledged:
        print("（服务回复 success：没有被动回复，答案如有会以客服消息送达）")
        return 0
    print(delivery.text)
    return 0


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_run(args))
