"""Staff accounts: argon2 password hashes, creation (``pufa staff add``), login with throttling.

Throttling counts failed logins per account name and per client address within
``admin.failure_window_minutes``; past ``admin.max_failures`` every attempt is refused, the right
password included, until old failures leave the window. Refusals say the same thing whether or not
the account exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from admin.audit import record
from admin.models import ROLES, LoginFailure, StaffSession, StaffUser
from bot.config import AdminSettings
from bot.db.base import utcnow

_hasher = PasswordHasher()


# Verified against when the name is unknown, so both cases take the same time. A constant, made once
# with the hasher's parameters (tests/admin check they still match): hashing it at start cost a
# 0.15 s burst on all cores that showed as a 0.4-0.5 s p99 in the first seconds of every start, and
# hashing it at the first login would make that one login slower.
DUMMY_HASH = "$argon2id$v=19$m=65536,t=3,p=4$FdAm5i0OPkTkUrfE3tr03Q$e9dhI7g2ZMRWpuQHzsOAccoFcFsMd+hxKUvEB0EzkeY"


def dummy_hash() -> str:
    return DUMMY_HASH

MIN_PASSWORD = 8


class AccountError(ValueError):
    """Refused; the message is for staff (Chinese)."""


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"密码至少 {MIN_PASSWORD} 位")
    return _hasher.hash(password)


def check_password(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


async def add_staff(sessions: async_sessionmaker[AsyncSession], name: str, role: str, password: str,
                    *, actor: str = "cli") -> StaffUser:
    name = name.strip()
    if not name or len(name) > 64:
        raise AccountError("用户名不能为空，最多 64 个字符")
    if role not in ROLES:
        raise AccountError(f"角色只能是 {' 或 '.join(ROLES)}")
    hashed = hash_password(password)
    async with sessions() as s, s.begin():
        if (await s.execute(select(StaffUser).where(StaffUser.name == name))).scalar_one_or_none():
            raise AccountError(f"用户 {name} 已存在")
        user = StaffUser(name=name, role=role, password_hash=hashed)
        s.add(user)
        await record(s, actor, "account", name, f"新建账号，角色 {role}")
    return user


async def set_password(sessions: async_sessionmaker[AsyncSession], user_id: int, password: str, *, actor: str) -> None:
    hashed = hash_password(password)
    async with sessions() as s, s.begin():
        user = await s.get(StaffUser, user_id)
        if user is None:
            raise AccountError("没有这个账号")
        user.password_hash = hashed
        # A new password ends every session of the account (a leaked one included).
        await s.execute(delete(StaffSession).where(StaffSession.user_id == user_id))
        await record(s, actor, "account", user.name, "重设密码")


async def set_active(sessions: async_sessionmaker[AsyncSession], user_id: int, active: bool, *, actor: str) -> None:
    async with sessions() as s, s.begin():
        user = await s.get(StaffUser, user_id)
        if user is None:
            raise AccountError("没有这个账号")
        user.active = active
        await record(s, actor, "account", user.name, "启用账号" if active else "停用账号")


async def list_staff(sessions: async_sessionmaker[AsyncSession]) -> list[StaffUser]:
    async with sessions() as s:
        return list((await s.execute(select(StaffUser).order_by(StaffUser.id))).scalars())


@dataclass(frozen=True)
class LoginResult:
    user: StaffUser | None
    throttled: bool = False


# One address may be a whole office behind NAT or the reverse proxy itself: it gets more tries than
# one account name, so one person's typos cannot lock everybody out.
ADDRESS_FACTOR = 4


async def throttled(s: AsyncSession, settings: AdminSettings, name: str, address: str, since: datetime) -> bool:
    def count(column: Any, value: str) -> Any:
        return select(func.count()).select_from(LoginFailure).where(LoginFailure.at >= since, column == value)

    by_name = int((await s.execute(count(LoginFailure.name, name))).scalar_one())
    by_address = int((await s.execute(count(LoginFailure.address, address))).scalar_one())
    return by_name >= settings.max_failures or by_address >= settings.max_failures * ADDRESS_FACTOR


async def login(sessions: async_sessionmaker[AsyncSession], settings: AdminSettings, name: str, password: str,
                address: str, now: datetime | None = None) -> LoginResult:
    now = now or utcnow()
    name = name.strip()[:64]
    since = now - timedelta(minutes=settings.failure_window_minutes)
    async with sessions() as s, s.begin():
        if await throttled(s, settings, name, address[:64], since):
            await record(s, name or "?", "login_throttled", name, "", address)
            return LoginResult(None, throttled=True)
        user = (await s.execute(select(StaffUser).where(StaffUser.name == name))).scalar_one_or_none()
        ok = check_password(user.password_hash if user else dummy_hash(), password)
        if user is None or not ok or not user.active:
            s.add(LoginFailure(name=name, address=address[:64], at=now))
            await record(s, name or "?", "login_failed", name, "", address)
            return LoginResult(None)
        user.last_login_at = now
        await record(s, user.name, "login", user.name, "", address)
        return LoginResult(user)
