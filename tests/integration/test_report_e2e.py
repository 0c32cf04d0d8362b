"""The report from real traffic: residents talk through the webhook, a post goes out through the
scheduler and the sandbox, and `pufa report` counts exactly what happened — in every format."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import docx
import openpyxl
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from bot.db.base import utcnow
from bot.db.session import create_sessionmaker
from sandbox.api import SandboxPlatform
from sandbox.events import webhook_sink
from sandbox.inbound import FakeWeChat
from scheduler.posts import NewPost, add_post, get_post
from tests.conftest import TEST_AES_KEY, TEST_APPID, TEST_TOKEN, start_server

PUFA = str(Path(sys.executable).parent / "pufa")


async def test_report_counts_real_webhook_and_push_traffic(
    settings: Settings, engine: AsyncEngine, platform: SandboxPlatform, knowledge_view: object, tmp_path: Path
) -> None:
    # No datacube backfill: the sandbox's synthetic analytics know nothing of this test's residents,
    # so the follower figures must come from the subscribe/unsubscribe events recorded here.
    settings = replace(settings, scheduler=replace(settings.scheduler, enabled=True, tick_seconds=0.2,
                                                   datacube_backfill_days=0),
                       reports=replace(settings.reports, output_dir=str(tmp_path / "reports")))
    server = await start_server(settings, knowledge_view)
    sessions = create_sessionmaker(engine)
    try:
        async with aiohttp.ClientSession() as http, FakeWeChat(
            server.webhook, token=TEST_TOKEN, appid=TEST_APPID, aes_key=TEST_AES_KEY, mode="safe",
            on_inbound=platform.record_inbound,
        ) as wechat:
            platform.finish_delay = 0.1
            platform.event_sink = webhook_sink(server.webhook, token=TEST_TOKEN, appid=TEST_APPID,
                                               aes_key=TEST_AES_KEY, session=http)
            post = await add_post(sessions, NewPost(title="12·4 国家宪法日", body="宪法是国家的根本法。",
                                                    channel="wechat", send_at=utcnow() + timedelta(seconds=0.3)),
                                  account_type="subscription")
            await wechat.trigger("oReportA00000000000000000001", "subscribe")
            question = wechat.text("oReportA00000000000000000001", "老板欠我工钱不给咋办")
            for _ in range(3):  # WeChat's retries of one message count once
                await wechat.deliver(question)
            await wechat.say("oReportB00000000000000000002", "网上买的东西不想要了能退吗")
            await wechat.say("oReportB00000000000000000002", "明天赶场天气咋样")
            await wechat.say("oReportB00000000000000000002", "留言 想找人问问宅基地的事")
            await wechat.trigger("oReportC00000000000000000003", "subscribe")
            await wechat.trigger("oReportC00000000000000000003", "unsubscribe")
            for _ in range(150):
                got = await get_post(sessions, post.id)
                if got is not None and got.result_status:
                    break
                await asyncio.sleep(0.1)
    finally:
        await server.runner.cleanup()
    assert got is not None and got.state == "sent" and got.result_status == "send success"

    month = utcnow().astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PUFA_")}
    env.update(PUFA_DATABASE_URL=settings.database.url, PUFA_REPORTS_OUTPUT_DIR=str(tmp_path / "reports"),
               PUFA_SCHEDULER_ENABLED="false")
    outputs: dict[str, Path] = {}
    for fmt in ("json", "csv", "xlsx", "docx", "png"):
        outputs[fmt] = tmp_path / f"report.{fmt}"
        proc = await asyncio.create_subprocess_exec(
            PUFA, "report", "--month", month, "--format", fmt, "--output", str(outputs[fmt]), env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        _, err = await asyncio.wait_for(proc.communicate(), 180)
        assert proc.returncode == 0, err.decode()

    total = json.loads(outputs["json"].read_text(encoding="utf-8"))["total"]
    q = total["questions"]
    # Two legal questions; the weather is chit-chat, and the retries and 留言 are not questions either.
    assert q["received"] == 2 and q["chat"] == 1
    assert q["no_match"] == 0 and q["answered"] + q["ambiguous"] == 2
    assert total["staff_messages"]["received"] == 1
    followers = total["followers"]
    assert (followers["new"], followers["lost"], followers["source"]) == (2, 1, "events")
    assert total["pushes"]["by_channel"]["wechat"] == 1 and total["pushes"]["total"] == 1
    assert total["pushes"]["wechat_sent_count"] == platform.followers
    assert month in outputs["csv"].read_text(encoding="utf-8")

    book = openpyxl.load_workbook(outputs["xlsx"])
    assert month in book.sheetnames
    document = "\n".join(p.text for p in docx.Document(str(outputs["docx"])).paragraphs)
    assert "发送有关法律知识1条" in document
    assert outputs["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
