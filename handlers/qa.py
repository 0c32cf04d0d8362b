"""Legal questions: typed text and recognised voice go to the knowledge base."""

from __future__ import annotations

from typing import Any

from bot.dispatch import Context, Outcome, Router
from bot.wechat.replies import TextReply
from handlers import texts
from handlers.answers import match_outcome

router = Router("qa")

# Longer texts are stories; the first part carries the question and keeps matching fast.
MAX_QUERY_CHARS = 500


def question(ctx: Context) -> bool | dict[str, Any]:
    if ctx.message.msg_type not in {"text", "voice"}:
        return False
    return {"text": ctx.message.text.strip()}


@router.on(question)
async def answer(ctx: Context, text: str) -> Outcome:
    if not text:
        return Outcome(TextReply(texts.EMPTY_TEXT), kind="command")
    match = await ctx.services.match(text[:MAX_QUERY_CHARS])
    return match_outcome(ctx, match)
