"""Messages the bot cannot read (pictures, video, links) and voice it could not recognise."""

from __future__ import annotations

from bot.dispatch import Context, Outcome, Router
from bot.wechat.replies import TextReply
from handlers import texts

router = Router("media")


@router.on(lambda ctx: ctx.message.msg_type == "voice" and not ctx.message.text)
async def unrecognised_voice(ctx: Context) -> Outcome:
    return Outcome(TextReply(texts.VOICE_UNRECOGNISED), kind="command")


@router.on(lambda ctx: ctx.message.msg_type == "location")
async def location(ctx: Context) -> Outcome:
    return Outcome(TextReply(texts.LOCATION_HINT), kind="command")


@router.on(lambda ctx: ctx.message.msg_type in {"image", "video", "shortvideo", "link", "file"})
async def media(ctx: Context) -> Outcome:
    return Outcome(TextReply(texts.MEDIA_HINT), kind="command")
