"""A small dispatcher in the aiogram style: routers in one include list, first match wins.

Handlers are plain ``async def handler(ctx, **kw) -> Outcome | None``. A filter returns ``False`` to
skip, ``True`` to match, or a dict whose items are passed on to the handler as keyword arguments
(compute once, hand on). Handlers never touch HTTP, XML or the database: they read the context and
return an :class:`Outcome`; the edge renders it, records it and applies its effects.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from bot.wechat.messages import Inbound
from bot.wechat.replies import Reply

log = logging.getLogger("pufa.dispatch")

# (law, article, sub): sub is 2 for 第二百八十七条之二, 0 for an ordinary article.
ArticleRef = tuple[str, int, int]


@dataclass
class Conversation:
    """A resident's short-term memory; handlers change it, the edge saves it."""

    pages: list[str] = field(default_factory=list)
    page_pos: int = 0
    candidates: list[str] = field(default_factory=list)
    last_citation: ArticleRef | None = None
    changed: bool = False

    def remember(
        self,
        *,
        pages: list[str] | None = None,
        candidates: list[str] | None = None,
        citation: ArticleRef | None = None,
    ) -> None:
        if pages is not None:
            self.pages, self.page_pos = pages, 0
        if candidates is not None:
            self.candidates = candidates
        if citation is not None:
            self.last_citation = citation
        self.changed = True


@dataclass(frozen=True)
class CitationOut:
    law: str
    article: int
    sub: int = 0  # 2 for 第二百八十七条之二

    @property
    def ref(self) -> ArticleRef:
        return (self.law, self.article, self.sub)


@dataclass(frozen=True)
class CandidateOut:
    entry_id: str
    question: str
    score: float


@dataclass
class Outcome:
    """What a handler answered and what the message log should say about it."""

    reply: Reply | None
    kind: str  # answered | ambiguous | no_match | command | event | ignored
    tier: str | None = None
    entry_id: str | None = None
    score: float | None = None
    citations: tuple[CitationOut, ...] = ()
    candidates: tuple[CandidateOut, ...] = ()
    keywords: tuple[str, ...] = ()
    # Text to store as a message for staff (留言).
    leave_message: str | None = None
    # Raw MASSSENDJOBFINISH fields for the push log.
    mass_result: dict[str, Any] | None = None


class Services(Protocol):
    """What handlers may use; bot.app provides the real one, tests may provide their own."""

    @property
    def settings(self) -> Any: ...

    @property
    def knowledge(self) -> Any: ...

    async def match(self, text: str) -> Any: ...


@dataclass
class Context:
    message: Inbound
    conversation: Conversation
    services: Services
    now: datetime


Filter = Callable[[Context], "bool | dict[str, Any] | Awaitable[bool | dict[str, Any]]"]
Handler = Callable[..., Awaitable[Outcome | None]]


@dataclass
class _Route:
    filters: tuple[Filter, ...]
    handler: Handler


class Router:
    def __init__(self, name: str) -> None:
        self.name = name
        self.routes: list[_Route] = []

    def on(self, *filters: Filter) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.routes.append(_Route(filters, handler))
            return handler

        return register


class Dispatcher:
    """Tries the routers in the order given; the order written here *is* the precedence."""

    def __init__(self, *routers: Router) -> None:
        self.routers = routers

    async def dispatch(self, ctx: Context) -> Outcome:
        for router in self.routers:
            for route in router.routes:
                kwargs: dict[str, Any] = {}
                for flt in route.filters:
                    result = flt(ctx)
                    # Most filters are plain functions: skip the awaitable check (an ABC instance
                    # check) and the coroutine a helper would cost, once per filter per message.
                    if result is not True and result is not False and type(result) is not dict \
                            and inspect.isawaitable(result):
                        result = await result
                    if result is False:
                        break
                    if isinstance(result, dict):
                        kwargs.update(result)
                else:
                    outcome = await route.handler(ctx, **kwargs)
                    if outcome is not None:
                        return outcome
        return Outcome(reply=None, kind="ignored")
