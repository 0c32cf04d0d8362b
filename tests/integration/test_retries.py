"""WeChat retries: one record, one answer, identical replies — sequential, concurrent with a slow
handler, across two server processes' worth of app instances on one database, and late delivery."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import RESPONDER
from bot.config import Settings
from bot.db.models import InboundMessage, StaffMessage
from bot.dispatch import Context, Dispatcher, Outcome, Router
from bot.routing import build_dispatcher
from bot.wechat.replies import TextReply
from sandbox.api import SandboxPlatform
from sandbox.inbound import FakeWeChat, next_msg_id
from tests.conftest import TEST_APPID, TEST_TOKEN, Server, start_server

RESIDENT = "oRetry000000000000000000001"


class SlowHandler:
    """A handler that takes its time, standing in for a slow knowledge base or database."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.calls = 0
        self.router = Router("slow")
        self.router.on(lambda ctx: ctx.message.text.startswith("慢"))(self.handle)

    async def handle(self, ctx: Context) -> Outcome:
        self.calls += 1
        await asyncio.sleep(self.delay)
        return Outcome(TextReply(f"慢慢答：{ctx.message.text}"), kind="answered",
                       leave_message=ctx.message.text)


def install(server: Server, slow: SlowHandler) -> None:
    server.app[RESPONDER].dispatcher = Dispatcher(slow.router, *build_dispatcher().routers)


async def count(engine: AsyncEngine, model: type) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(model))).scalar_one())


async def test_sequential_retries_get_the_stored_reply(wechat: FakeWeChat, engine: AsyncEngine) -> None:
    fields = wechat.text(RESIDENT, "老板欠我工钱不给")
    replies = [await wechat.deliver(fields) for _ in range(3)]
    assert len({r.text for r in replies}) == 1 and replies[0].text
    assert await count(engine, InboundMessage) == 1


async def test_a_later_retry_gets_the_same_bytes_from_the_reply_stored_once(
        wechat: FakeWeChat, engine: AsyncEngine) -> None:
    fields = wechat.text(RESIDENT, "网上买的东西不想要了能退吗")
    first = await wechat.deliver(fields)
    await asyncio.sleep(1.1)  # a retry in a later second must not get a new CreateTime
    again = await wechat.deliver(fields)
    assert "《" in first.text and "<CreateTime>" in first.body
    assert again.body == first.body
    async with engine.connect() as conn:
        reply, reply_body = (await conn.execute(select(InboundMessage.reply, InboundMessage.reply_body))).one()
    # The text once; the XML is rebuilt from it rather than kept beside it.
    assert reply == first.text and reply_body is None


async def test_concurrent_retries_while_the_first_attempt_runs(
    server: Server, wechat: FakeWeChat, engine: AsyncEngine
) -> None:
    slow = SlowHandler(delay=1.0)
    install(server, slow)
    fields = wechat.text(RESIDENT, "慢一点的问题")
    replies = await asyncio.gather(*(wechat.deliver(fields) for _ in range(3)))
    assert slow.calls == 1
    assert {r.text for r in replies} == {"慢慢答：慢一点的问题"}
    assert await count(engine, InboundMessage) == 1
    assert await count(engine, StaffMessage) == 1  # the side effect happened once


async def test_two_app_instances_on_one_database(
    settings: Settings, engine: AsyncEngine, knowledge_view: object
) -> None:
    first = await start_server(settings, knowledge_view)
    second = await start_server(settings, knowledge_view)
    slow_a, slow_b = SlowHandler(0.8), SlowHandler(0.8)
    install(first, slow_a)
    install(second, slow_b)
    try:
        async with FakeWeChat(first.webhook, token=TEST_TOKEN, appid=TEST_APPID) as a, \
                FakeWeChat(second.webhook, token=TEST_TOKEN, appid=TEST_APPID) as b:
            fields = a.text(RESIDENT, "慢问题两台机器", msg_id=next_msg_id())
            replies = await asyncio.gather(a.deliver(fields), b.deliver(fields), a.deliver(fields))
    finally:
        await first.runner.cleanup()
        await second.runner.cleanup()
    assert slow_a.calls + slow_b.calls == 1
    assert {r.text for r in replies} == {"慢慢答：慢问题两台机器"}
    assert await count(engine, InboundMessage) == 1
    assert await count(engine, StaffMessage) == 1


async def test_answer_past_the_budget_is_acknowledged_and_sent_as_customer_message(
    settings: Settings, engine: AsyncEngine, knowledge_view: object, platform: SandboxPlatform
) -> None:
    quick = replace(settings, server=replace(settings.server, reply_budget=0.3))
    srv = await start_server(quick, knowledge_view)
    slow = SlowHandler(delay=1.0)
    install(srv, slow)
    try:
        async with FakeWeChat(srv.webhook, token=TEST_TOKEN, appid=TEST_APPID,
                              on_inbound=platform.record_inbound) as fake:
            fields = fake.text(RESIDENT, "慢到超时")
            first = await fake.deliver(fields)
            assert first.acknowledged and first.attempts == 1
            for _ in range(50):
                if platform.sent:
                    break
                await asyncio.sleep(0.1)
            retry = await fake.deliver(fields)
    finally:
        await srv.runner.cleanup()
    assert [(s.kind, s.to, s.content) for s in platform.sent] == [("custom", RESIDENT, "慢慢答：慢到超时")]
    assert retry.acknowledged  # a retry after a late answer causes no second answer
    assert slow.calls == 1
    async with engine.connect() as conn:
        state, delivered = (await conn.execute(select(InboundMessage.state, InboundMessage.delivered))).one()
    assert (state, delivered) == ("late", "custom")


async def test_late_answer_outside_the_window_is_recorded_as_failed(
    settings: Settings, engine: AsyncEngine, knowledge_view: object, platform: SandboxPlatform
) -> None:
    quick = replace(settings, server=replace(settings.server, reply_budget=0.2))
    srv = await start_server(quick, knowledge_view)
    slow = SlowHandler(delay=0.6)
    install(srv, slow)
    try:
        # No on_inbound: the sandbox platform has no open 48-hour window for this resident.
        async with FakeWeChat(srv.webhook, token=TEST_TOKEN, appid=TEST_APPID) as fake:
            assert (await fake.say(RESIDENT, "慢且窗口关闭")).acknowledged
            for _ in range(50):
                async with engine.connect() as conn:
                    delivered = (await conn.execute(select(InboundMessage.delivered))).scalar_one()
                if delivered in {"failed", "custom"}:
                    break
                await asyncio.sleep(0.1)
    finally:
        await srv.runner.cleanup()
    assert delivered == "failed" and platform.sent == []
