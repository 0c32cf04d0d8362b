"""The settings in force while the service runs: the file and environment settings with the admins'
overlay (bot/overlay.py) on top.

Readers take ``live.current`` at the moment they need a value, so a change made on the 设置 page is
used by the next message or job without a restart. The overlay is re-read right after a change in
this process and every ``POLL_SECONDS`` (another ``pufa serve`` or ``scheduler.run`` process may have
made the change).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import overlay
from bot.config import Settings
from bot.db.base import utcnow
from bot.db.models import SettingOverride

log = logging.getLogger("pufa.settings")

POLL_SECONDS = 15.0


async def stored_values(sessions: async_sessionmaker[AsyncSession]) -> dict[str, Any]:
    async with sessions() as s:
        return {r.key: r.value for r in (await s.execute(select(SettingOverride))).scalars()}


async def store(s: AsyncSession, changes: dict[str, Any], actor: str) -> None:
    """Write changed values in the caller's transaction (with its audit rows)."""
    now = utcnow()
    for key, value in changes.items():
        row = await s.get(SettingOverride, key)
        if row is None:
            s.add(SettingOverride(key=key, value=value, updated_at=now, updated_by=actor[:64]))
        else:
            row.value, row.updated_at, row.updated_by = value, now, actor[:64]


class LiveSettings:
    def __init__(self, base: Settings) -> None:
        self.base = base
        self.values: dict[str, Any] = {}
        self.current = base

    def over(self, settings: Settings) -> Settings:
        """Another copy of the base settings (e.g. the scheduler's, with demo credentials) with the
        same overlay applied."""
        return overlay.apply(settings, self.values)

    async def reload(self, sessions: async_sessionmaker[AsyncSession]) -> Settings:
        self.values = await stored_values(sessions)
        self.current = overlay.apply(self.base, self.values)
        return self.current

    async def poll(self, sessions: async_sessionmaker[AsyncSession], every: float = POLL_SECONDS) -> None:
        while True:
            await asyncio.sleep(every)
            try:
                await self.reload(sessions)
            except Exception:  # a database hiccup must not end the polling for good
                log.warning("could not re-read the settings changed on the admin page", exc_info=True)


async def with_overlay(settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> Settings:
    """For one-shot commands (``pufa ask``, ``pufa report``): the settings the service would use."""
    return await LiveSettings(settings).reload(sessions)
