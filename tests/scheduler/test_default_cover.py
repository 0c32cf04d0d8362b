"""Posts without a cover image (campaign drafts, CLI posts) still reach WeChat: WeChat refuses a news
article without a permanent-material cover, so pufa uploads the default cover for them."""

from __future__ import annotations

import io
import logging
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image

from bot.config import SchedulerSettings
from bot.wechat.client import WechatApiError
from scheduler.channels.wechat import WechatChannel
from scheduler.covers import BUNDLED_DEFAULT, CoverStore
from scheduler.models import SENT
from scheduler.posts import get_post
from scheduler.sender import Sender

from .conftest import FakeClock, Sandbox, queue


async def test_wechat_refuses_an_article_without_a_cover(sandbox: Sandbox) -> None:
    with pytest.raises(WechatApiError) as err:
        await sandbox.client.add_draft([{"title": "没有封面", "content": "<p>x</p>"}])
    assert err.value.errcode == 40007


async def _send_without_cover(sessions, sandbox: Sandbox, clock: FakeClock, covers: CoverStore) -> bytes:
    sender = Sender(sessions, SchedulerSettings(), {"wechat": WechatChannel(sandbox.client, covers)}, clock=clock)
    post = await queue(sessions, clock)
    assert post.cover_file is None
    clock.now = post.send_at + timedelta(seconds=1)
    await sender.run_due()
    got = await get_post(sessions, post.id)
    assert got is not None and got.state == SENT, (got.last_error_code, got.last_error)
    [draft] = sandbox.platform.drafts.values()
    thumb = draft["articles"][0]["thumb_media_id"]
    assert got.thumb_media_id == thumb
    return sandbox.platform.materials[thumb].data


async def test_post_without_cover_is_sent_with_the_bundled_cover(sessions, sandbox: Sandbox, clock, tmp_path) -> None:
    data = await _send_without_cover(sessions, sandbox, clock, CoverStore(tmp_path))
    assert data == BUNDLED_DEFAULT.read_bytes()


async def test_configured_default_cover_is_used(sessions, sandbox: Sandbox, clock, tmp_path: Path) -> None:
    own = tmp_path / "town.jpg"
    buf = io.BytesIO()
    Image.new("RGB", (900, 383), (0, 80, 160)).save(buf, "JPEG")
    own.write_bytes(buf.getvalue())
    data = await _send_without_cover(sessions, sandbox, clock, CoverStore(tmp_path, own))
    assert data == own.read_bytes()


async def test_unusable_configured_cover_falls_back_and_is_logged(sessions, sandbox: Sandbox, clock,
                                                                  tmp_path: Path, caplog) -> None:
    broken = tmp_path / "cover.png"
    broken.write_bytes(b"not an image")
    with caplog.at_level(logging.ERROR, logger="pufa.scheduler.covers"):
        data = await _send_without_cover(sessions, sandbox, clock, CoverStore(tmp_path, broken))
    assert data == BUNDLED_DEFAULT.read_bytes()
    assert "default cover" in caplog.text
