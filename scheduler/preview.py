"""Preview (预览): the post as followers will see it, sent to staff openids only (message/mass/preview).

Previews do not use the mass-send quota and are not in the push log (they reach no follower).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.wechat.client import WechatApiError, WechatClient, WechatTransportError
from scheduler.channels.wechat import article, cover_thumb
from scheduler.covers import CoverStore
from scheduler.models import Post


@dataclass(frozen=True)
class PreviewResult:
    openid: str
    ok: bool
    error: str = ""


def staff_openids(setting: str) -> list[str]:
    return [o.strip() for o in setting.split(",") if o.strip()]


async def send_preview(client: WechatClient, post: Post, openids: list[str], covers: CoverStore | None = None,
                       ) -> list[PreviewResult]:
    """Raises ValueError (Chinese) for what staff must fix; the cover's material id, if it had to be
    uploaded, is left on ``post.thumb_media_id`` for the caller to store."""
    if post.channel != "wechat":
        raise ValueError("只有微信群发可以预览")
    if not openids:
        raise ValueError("还没有设置接收预览的工作人员，请管理员在“设置”页填写")
    post.thumb_media_id = await cover_thumb(client, covers, post)
    media_id = await client.add_draft([article(post)])
    out = []
    for openid in openids:
        try:
            await client.mass_preview(media_id, openid)
            out.append(PreviewResult(openid, True))
        except (WechatApiError, WechatTransportError) as exc:
            out.append(PreviewResult(openid, False, str(exc)))
    return out
