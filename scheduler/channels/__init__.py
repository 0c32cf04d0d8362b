"""Delivery channels. Each turns one claimed post into one network call and says what happened;
the sender decides what that means (``Channel.rule``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from scheduler.models import Post
from scheduler.policy import Rule


@dataclass(frozen=True)
class ChannelResult:
    errcode: int  # 0 = accepted; -1 = transport failure (timeout, connection, 5xx)
    errmsg: str = ""
    msg_id: int | None = None
    msg_data_id: int | None = None
    # False when the request provably never reached the platform (connection refused).
    may_have_arrived: bool = True


class Channel(Protocol):
    name: str
    # True when the platform de-duplicates a resend (WeChat clientmsgid); False for DingTalk,
    # where an attempt cut short by a crash cannot be repeated blindly.
    idempotent: bool

    async def send(self, post: Post, remember_media: MediaHook) -> ChannelResult: ...

    def rule(self, result: ChannelResult) -> Rule: ...


class MediaHook(Protocol):
    """Stores what the platform gave for a post (its draft's media_id, its cover's material id)."""

    async def __call__(self, media_id: str | None, *, thumb_media_id: str | None = None) -> None: ...
