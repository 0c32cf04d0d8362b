"""End to end through the real application: the scheduler started by create_app's cleanup_ctx sends
a queued post to the sandbox, which pushes MASSSENDJOBFINISH (signed, encrypted) to the webhook, and
the handler's hook fills in the post's counts."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import aiohttp

from bot.db.base import utcnow
from sandbox.events import webhook_sink
from scheduler.posts import NewPost, add_post, attempts_of, get_post
from tests.conftest import TEST_AES_KEY, TEST_APPID, TEST_TOKEN, start_server

HANG_GUARD = 30.0


async def test_post_sent_by_app_and_result_event_recorded(settings, engine, sessions, platform,
                                                          knowledge_view) -> None:
    settings = replace(settings, scheduler=replace(settings.scheduler, enabled=True, tick_seconds=0.2))
    server = await start_server(settings, knowledge_view)
    async with aiohttp.ClientSession() as http:
        platform.finish_delay = 0.1
        platform.event_sink = webhook_sink(server.webhook, token=TEST_TOKEN, appid=TEST_APPID,
                                           aes_key=TEST_AES_KEY, session=http)
        try:
            post = await add_post(sessions, NewPost(title="12·4 国家宪法日", body="宪法是国家的根本法。",
                                                    channel="wechat", send_at=utcnow() + timedelta(seconds=0.5)),
                                  account_type="subscription")
            loop = asyncio.get_running_loop()
            deadline = loop.time() + HANG_GUARD
            got = await get_post(sessions, post.id)
            while loop.time() < deadline:
                got = await get_post(sessions, post.id)
                if got is not None and got.result_status:
                    break
                await asyncio.sleep(0.1)
        finally:
            await server.runner.cleanup()
    assert got is not None and got.state == "sent", (got.state if got else None, got.last_error if got else None)
    assert got.result_status, ("no MASSSENDJOBFINISH recorded", platform.events_sent, platform.calls)
    [rec] = [r for r in platform.sent if r.kind == "mass"]
    assert rec.clientmsgid == post.idem_key and rec.msg_id == got.msg_id
    assert got.result_status == "send success" and got.sent_count == platform.followers
    [attempt] = await attempts_of(sessions, post.id)
    assert attempt.outcome == "sent" and attempt.sent_count == platform.followers
