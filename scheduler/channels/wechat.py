"""WeChat mass send (群发): draft/add → message/mass/sendall with clientmsgid = the post's key."""

from __future__ import annotations

import asyncio
import html
import logging

from bot.wechat.client import WechatApiError, WechatClient, WechatTransportError
from scheduler.channels import ChannelResult, MediaHook
from scheduler.covers import CoverStore
from scheduler.models import Post
from scheduler.policy import Rule, rule_for
from scheduler.trace import trace

log = logging.getLogger("pufa.scheduler.wechat")

TITLE_MAX = 32
DIGEST_MAX = 128
CONTENT_MAX = 20000


def content_html(body: str) -> str:
    """The article's HTML: plain-text bodies become paragraphs."""
    if "<" in body:
        return body
    return "".join(f"<p>{html.escape(line)}</p>" for line in body.splitlines() if line.strip())


def too_long(digest: str, body: str) -> str | None:
    """Why WeChat would refuse this article (45002 / 45004), for staff; None when it fits."""
    if len(digest) > DIGEST_MAX:
        return f"摘要最多 {DIGEST_MAX} 个字（现在 {len(digest)} 个）"
    size = len(content_html(body))
    if size >= CONTENT_MAX:
        return f"公众号正文连排版不能超过 {CONTENT_MAX} 个字符（现在约 {size} 个），请删短或分成几篇"
    return None


def article(post: Post, thumb_media_id: str | None = None) -> dict[str, object]:
    """The draft article for a post (``too_long`` refused the ones WeChat would not take when saved)."""
    body = content_html(post.body)
    return {
        "title": post.title[:TITLE_MAX],
        "digest": (post.digest or "")[:DIGEST_MAX],
        "content": body[:CONTENT_MAX],
        "thumb_media_id": thumb_media_id or post.thumb_media_id or "",
        "need_open_comment": 0,
    }


def audience_tag(audience: str) -> int | None:
    return int(audience.split(":", 1)[1]) if audience.startswith("tag:") else None


async def cover_thumb(client: WechatClient, covers: CoverStore | None, post: Post) -> str:
    """The post's cover as permanent material: the stored media_id, or a fresh upload of its cover
    (or of the default cover: WeChat requires one). A crash between upload and storing it leaves one
    spare image in the account's material library, nothing worse."""
    if post.thumb_media_id:
        return post.thumb_media_id
    store = covers or CoverStore(".")
    if post.cover_file:
        data, content_type = await asyncio.to_thread(store.read, post.cover_file)
        name = post.cover_file
    else:
        data, content_type, name = await asyncio.to_thread(store.read_default)
    return await client.add_material(name, data, content_type)


class WechatChannel:
    name = "wechat"
    idempotent = True

    def __init__(self, client: WechatClient, covers: CoverStore | None = None) -> None:
        self.client = client
        self.covers = covers

    async def send(self, post: Post, remember_media: MediaHook) -> ChannelResult:
        try:
            media_id = post.media_id
            if not media_id:
                thumb = await cover_thumb(self.client, self.covers, post)
                if thumb and thumb != post.thumb_media_id:
                    await remember_media(None, thumb_media_id=thumb)
                # A draft left over by a crash before the media_id was stored is harmless:
                # drafts reach nobody; only sendall does, and that is keyed.
                media_id = await self.client.add_draft([article(post, thumb)])
                await remember_media(media_id)
            await trace("http_sendall", post.id)
            data = await self.client.mass_sendall(
                media_id, clientmsgid=post.idem_key, tag_id=audience_tag(post.audience)
            )
        except WechatTransportError as exc:
            return ChannelResult(-1, str(exc))
        except WechatApiError as exc:
            msg_id = exc.payload.get("msg_id")
            return ChannelResult(exc.errcode, exc.errmsg, int(msg_id) if msg_id else None)
        await trace("accepted", post.id)
        return ChannelResult(0, "ok", _int(data.get("msg_id")), _int(data.get("msg_data_id")))

    def rule(self, result: ChannelResult) -> Rule:
        return rule_for(result.errcode)


def _int(value: object) -> int | None:
    try:
        return int(value) if value is not None else None  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None
