"""Events: subscribe, unsubscribe, menu clicks and the mass-send report."""

from __future__ import annotations

from collections.abc import Callable

from bot.dispatch import Context, Outcome, Router
from bot.wechat.replies import TextReply
from handlers import texts
from handlers.answers import topic_list_outcome, topic_menu

router = Router("events")

TOPIC_PREFIX = "TOPIC_"


def event(*names: str) -> Callable[[Context], bool]:
    wanted = {n.upper() for n in names}
    return lambda ctx: ctx.message.is_event and ctx.message.event in wanted


@router.on(event("subscribe"))
async def subscribed(ctx: Context) -> Outcome:
    s = ctx.services.settings
    welcome = texts.WELCOME.format(account=s.town.account_name, town=s.town.name)
    return Outcome(TextReply(welcome + "\n" + topic_menu(ctx)), kind="event")


@router.on(event("unsubscribe"))
async def unsubscribed(ctx: Context) -> Outcome:
    return Outcome(None, kind="event")


@router.on(event("CLICK"))
async def clicked(ctx: Context) -> Outcome:
    key = ctx.message.event_key
    if key.startswith(TOPIC_PREFIX):
        listed = topic_list_outcome(ctx, key[len(TOPIC_PREFIX) :])
        if listed is not None:
            return listed
    if key == "LEAVE_MESSAGE":
        office = ctx.services.settings.town.office
        return Outcome(TextReply(texts.HUMAN_PROMPT.format(office=office)), kind="command")
    return Outcome(TextReply(topic_menu(ctx)), kind="command")


@router.on(event("MASSSENDJOBFINISH"))
async def mass_send_finished(ctx: Context) -> Outcome:
    return Outcome(None, kind="event", mass_result=dict(ctx.message.fields))


@router.on(lambda ctx: ctx.message.is_event)
async def other_event(ctx: Context) -> Outcome:
    # VIEW, SCAN, LOCATION, TEMPLATESENDJOBFINISH, PUBLISHJOBFINISH ...: recorded, no reply.
    return Outcome(None, kind="event")
