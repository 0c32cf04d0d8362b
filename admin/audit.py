"""The audit log: logins, pushes, edits, replies and exports, by whom and when."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from admin.models import AuditEvent
from bot.db.base import utcnow

ACTION_NAMES = {
    "login": "登录", "login_failed": "登录失败", "login_throttled": "登录被限制", "logout": "退出",
    "push": "推送", "edit": "编辑", "export": "导出", "reply": "回复留言", "account": "账号管理",
    "publish": "发布/下线", "settings": "修改设置", "ack": "处理提醒",
}


async def record(s: AsyncSession, actor: str, action: str, target: str = "", detail: str = "",
                 address: str = "") -> None:
    """Adds in the caller's transaction: the action and its audit row commit together."""
    s.add(AuditEvent(at=utcnow(), actor=actor[:64], action=action, target=target[:128], detail=detail,
                     address=address[:64]))


async def log(sessions: async_sessionmaker[AsyncSession], actor: str, action: str, target: str = "",
              detail: str = "", address: str = "") -> None:
    async with sessions() as s, s.begin():
        await record(s, actor, action, target, detail, address)


async def recent(sessions: async_sessionmaker[AsyncSession], limit: int = 200) -> list[AuditEvent]:
    async with sessions() as s:
        q = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
        return list((await s.execute(q)).scalars())
