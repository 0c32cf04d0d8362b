"""From a verified, parsed message to the passive reply: dedup, dispatch, record, deliver.

The 5-second deadline: WeChat drops the connection after 5 s and retries. An answer not ready
within the budget is acknowledged with "success" (no retry) and delivered afterwards as a
customer-service message. Which of the two happens is decided once, without an ``await`` between
the check and the decision, so a reply is never both passive and late.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from bot.db.base import utcnow
from bot.dispatch import Context, Conversation, Dispatcher, Outcome, Services
from bot.journal import Claim, Journal, passive_body
from bot.wechat.messages import Inbound
from bot.wechat.replies import TextReply

log = logging.getLogger("pufa.responder")

FAILURE_TEXT = "抱歉，系统开了小差，请稍后再发一次。急事请直接打电话12348。"


class LateSender(Protocol):
    async def send_text(self, openid: str, content: str) -> None: ...


@dataclass
class _Ticket:
    passive: bool = False
    late: bool = False


async def answer(dispatcher: Dispatcher, services: Services, msg: Inbound, conv: Conversation) -> Outcome:
    """Dispatch one message; a failing handler becomes a polite reply, never an exception."""
    ctx = Context(message=msg, conversation=conv, services=services, now=utcnow())
    try:
        return await dispatcher.dispatch(ctx)
    except Exception:
        # No message text in the log: it is a resident's personal information.
        log.exception("handler failed for a %s message", msg.msg_type)
        return Outcome(TextReply(FAILURE_TEXT), kind="failed")


class Responder:
    def __init__(
        self,
        journal: Journal,
        dispatcher: Dispatcher,
        services: Services,
        *,
        budget: float,
        memory: timedelta,
        late_sender: LateSender | None,
    ) -> None:
        self.journal = journal
        self.dispatcher = dispatcher
        self.services = services
        self.budget = budget
        self.memory = memory
        self.late_sender = late_sender
        self._background: set[asyncio.Task[str | None]] = set()

    async def respond(self, msg: Inbound, started: float | None = None) -> str | None:
        """The plaintext reply XML, or None for "success" (acknowledge without a passive reply)."""
        started = time.monotonic() if started is None else started
        claim = await self.journal.claim(msg, self.memory)
        remaining = self.budget - (time.monotonic() - started)
        if not claim.won:
            if claim.state != "processing":
                return claim.reply_body
            _, body = await self.journal.wait_for_reply(claim, msg, max(0.0, remaining))
            return body
        ticket = _Ticket()
        task = asyncio.create_task(self._work(claim, msg, started, ticket))
        try:
            return await asyncio.wait_for(asyncio.shield(task), timeout=max(0.01, remaining))
        except TimeoutError:
            if ticket.passive:
                # The answer was ready just in time and is being recorded: give it to WeChat.
                return await task
            ticket.late = True
            self._background.add(task)
            task.add_done_callback(self._background.discard)
            return None

    async def _work(self, claim: Claim, msg: Inbound, started: float, ticket: _Ticket) -> str | None:
        conv = claim.conversation or Conversation()
        outcome = await answer(self.dispatcher, self.services, msg, conv)
        at = utcnow()
        body = passive_body(outcome.reply, msg, at) if outcome.reply is not None else None
        latency = int((time.monotonic() - started) * 1000)
        if not ticket.late:
            ticket.passive = True
            await self.journal.complete(claim, msg, outcome, conversation=conv, reply_body=body,
                                        delivered="passive" if body else "none", latency_ms=latency,
                                        state="failed" if outcome.kind == "failed" else "done", completed_at=at)
            await self._after(outcome)
            return body
        await self.journal.complete(claim, msg, outcome, conversation=conv, reply_body=None,
                                    delivered="pending", latency_ms=latency, state="late")
        await self._deliver_late(claim, msg, outcome)
        await self._after(outcome)
        return None

    async def _deliver_late(self, claim: Claim, msg: Inbound, outcome: Outcome) -> None:
        content = getattr(outcome.reply, "content", None)
        if not content:
            await self.journal.mark_delivery(claim.message_id, "none")
            return
        if self.late_sender is None:
            await self.journal.mark_delivery(claim.message_id, "failed")
            log.warning("late answer could not be delivered: no API client configured")
            return
        try:
            await self.late_sender.send_text(msg.from_user, str(content))
        except Exception as exc:  # recorded; staff see it among undelivered answers
            log.warning("late answer delivery failed: %s", type(exc).__name__)
            await self.journal.mark_delivery(claim.message_id, "failed")
            return
        await self.journal.mark_delivery(claim.message_id, "custom")

    async def _after(self, outcome: Outcome) -> None:
        hook = getattr(self.services, "on_mass_result", None)
        if outcome.mass_result is not None and hook is not None:
            try:
                await hook(outcome.mass_result)
            except Exception:
                log.exception("mass-send result hook failed")

    async def drain(self) -> None:
        """Let late answers finish before shutdown."""
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)

