"""The one include list: the order here is the precedence of the handlers."""

from __future__ import annotations

from bot.dispatch import Dispatcher
from handlers import commands, events, media, qa


def build_dispatcher() -> Dispatcher:
    return Dispatcher(
        events.router,  # subscribe, clicks, mass-send reports
        media.router,  # pictures, locations, unrecognised voice
        commands.router,  # 继续, digits, 原文, 留言, 菜单, greetings
        qa.router,  # everything else that is text: the knowledge base
    )
