"""Offline answering: the webhook's path minus HTTP, XML and the message log.

``pufa ask`` and the admin hit test both call :func:`ask`, so what they show is what a resident
would get: the same dispatcher, handlers and knowledge base.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

from bot.dispatch import Conversation, Dispatcher, Outcome, Services
from bot.responder import answer
from bot.wechat.messages import Inbound
from knowledge.laws import cite_fields

ASK_OPENID = "pufa-ask"
_ids = itertools.count(1)


def text_message(text: str, openid: str = ASK_OPENID) -> Inbound:
    return Inbound(to_user="pufa", from_user=openid, create_time=int(time.time()), msg_type="text",
                   msg_id=next(_ids), content=text)


async def ask(dispatcher: Dispatcher, services: Services, text: str,
              conversation: Conversation | None = None) -> Outcome:
    return await answer(dispatcher, services, text_message(text), conversation or Conversation())


def outcome_json(outcome: Outcome) -> dict[str, Any]:
    """The public ``pufa ask --json`` contract (docs/ask.md)."""
    status = outcome.kind if outcome.kind in {"answered", "ambiguous", "no_match"} else "command"
    content = getattr(outcome.reply, "content", "") if outcome.reply is not None else ""
    return {
        "status": status,
        "reply": content,
        "entry_id": outcome.entry_id,
        "score": round(outcome.score, 4) if outcome.score is not None else None,
        "citations": [cite_fields(c.law, c.article, c.sub) for c in outcome.citations],
        "candidates": [
            {"entry_id": c.entry_id, "question": c.question, "score": round(c.score, 4)}
            for c in outcome.candidates
        ],
    }
