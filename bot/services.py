"""The services handlers may use, wired once per application."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from bot.config import Settings
from bot.knowledge_service import KnowledgeHolder
from bot.live_settings import LiveSettings
from knowledge.view import KnowledgeView

MassResultHook = Callable[[dict[str, Any]], Awaitable[None]]


@dataclass
class AppServices:
    live: LiveSettings
    holder: KnowledgeHolder
    mass_result_hooks: list[MassResultHook] = field(default_factory=list)

    @property
    def settings(self) -> Settings:
        """Read at each use: contacts changed on the admin page apply to the next message."""
        return self.live.current

    @property
    def knowledge(self) -> KnowledgeView:
        return self.holder.current

    async def match(self, text: str) -> Any:
        return await self.holder.match(text)

    async def on_mass_result(self, fields: dict[str, Any]) -> None:
        for hook in self.mass_result_hooks:
            await hook(fields)
