"""The sandbox API half keeps WeChat's rules pufa depends on."""

from __future__ import annotations

import pytest

from bot.wechat.client import WechatApiError

from .conftest import FakeClock, Sandbox, add_news_draft


async def test_clientmsgid_remembered_24_hours(sandbox: Sandbox, clock: FakeClock) -> None:
    media = await add_news_draft(sandbox)
    first = await sandbox.client.mass_sendall(media, clientmsgid="k1")
    with pytest.raises(WechatApiError) as err:
        await sandbox.client.mass_sendall(media, clientmsgid="k1")
    assert err.value.errcode == 45065 and err.value.payload["msg_id"] == first["msg_id"]
    clock.advance(24 * 3600 + 1)
    again = await sandbox.client.mass_sendall(media, clientmsgid="k1")
    assert again["msg_id"] != first["msg_id"]
    assert [r.clientmsgid for r in sandbox.mass()] == ["k1", "k1"]


async def test_sendall_validates(sandbox: Sandbox) -> None:
    with pytest.raises(WechatApiError) as err:
        await sandbox.client.mass_sendall("nonexistent", clientmsgid="k")
    assert err.value.errcode == 40007
    with pytest.raises(WechatApiError) as err:
        await sandbox.client.add_draft([{"title": "长" * 33, "content": "x"}])
    assert err.value.errcode == 45003
    media = await add_news_draft(sandbox)
    sent = await sandbox.client.mass_sendall(media, clientmsgid="t", tag_id=7)
    assert sandbox.mass()[0].audience == "tag:7"
    assert (await sandbox.client.mass_get(sent["msg_id"]))["msg_status"] in {"SENDING", "SEND_SUCCESS"}


async def test_uploadimg_user_count_and_datacube(sandbox: Sandbox) -> None:
    url = await sandbox.client.upload_image("a.jpg", b"\xff\xd8\xff" + b"0" * 100)
    assert url.startswith("http")
    assert await sandbox.client.user_count() == sandbox.platform.followers
    out = await sandbox.client.call("/datacube/getusersummary", {"begin_date": "2026-11-25",
                                                                  "end_date": "2026-12-01"})
    assert out["list"][0]["ref_date"] == "2026-11-25" and len(out["list"]) == 7
    with pytest.raises(WechatApiError) as err:
        await sandbox.client.call("/datacube/getusercumulate", {"begin_date": "2026-11-20", "end_date": "2026-12-01"})
    assert err.value.errcode == 61501
    with pytest.raises(WechatApiError) as err:  # today's figures are not ready yet
        await sandbox.client.call("/datacube/getusersummary", {"begin_date": "2026-12-04", "end_date": "2026-12-04"})
    assert err.value.errcode == 61500
