"""Typed inbound messages and events, validated from parsed XML fields."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

_OPENID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_MSG_ID = 2**64 - 1

MESSAGE_TYPES = {"text", "image", "voice", "video", "shortvideo", "location", "link", "file", "event"}


class MessageError(ValueError):
    """Fields are missing, duplicated or out of range."""


def _text(fields: Mapping[str, Any], key: str, required: bool = False, limit: int = 20_000) -> str:
    value = fields.get(key, "")
    if not isinstance(value, str):
        raise MessageError(f"{key} must be text")
    if required and not value:
        raise MessageError(f"{key} missing")
    if len(value) > limit:
        raise MessageError(f"{key} too long")
    return value


@dataclass(frozen=True)
class Inbound:
    """One message or event as WeChat delivered it to the webhook."""

    to_user: str
    from_user: str
    create_time: int
    msg_type: str
    msg_id: int | None = None
    content: str = ""
    recognition: str | None = None
    event: str = ""
    event_key: str = ""
    fields: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @property
    def is_event(self) -> bool:
        return self.msg_type == "event"

    @property
    def dedup_key(self) -> str:
        """MsgId for messages; for events FromUserName + CreateTime + Event + EventKey.

        CreateTime has one-second resolution, so two different clicks in one second differ by key;
        events that carry an id of their own (MASSSENDJOBFINISH's MsgID) add it, or two mass sends
        finishing in one second would look like one.
        """
        if self.msg_id is not None and not self.is_event:
            return f"m:{self.msg_id}"
        own_id = f":{self.msg_id}" if self.msg_id is not None else ""
        return f"e:{self.from_user}:{self.create_time}:{self.event}:{self.event_key}{own_id}"[:250]

    @property
    def text(self) -> str:
        """What the resident said: typed text, or what WeChat recognised from voice."""
        if self.msg_type == "voice":
            return (self.recognition or "").strip()
        return self.content

    @classmethod
    def from_fields(cls, fields: Mapping[str, Any]) -> Inbound:
        msg_type = _text(fields, "MsgType", required=True, limit=32).strip().lower()
        if msg_type not in MESSAGE_TYPES:
            # Unknown kinds are still answered ("success"), so keep them but never trust them.
            msg_type = "unknown"
        from_user = _text(fields, "FromUserName", required=True, limit=64)
        if not _OPENID.match(from_user):
            raise MessageError("FromUserName is not an openid")
        to_user = _text(fields, "ToUserName", required=True, limit=64)
        created = _text(fields, "CreateTime", required=True, limit=12)
        if not created.isdigit():
            raise MessageError("CreateTime is not a number")
        msg_id: int | None = None
        raw_id = _text(fields, "MsgId", limit=20) or _text(fields, "MsgID", limit=20)
        if raw_id:
            if not raw_id.isdigit() or int(raw_id) > MAX_MSG_ID:
                raise MessageError("MsgId out of range")
            msg_id = int(raw_id)
        elif msg_type not in {"event", "unknown"}:
            raise MessageError("MsgId missing")
        event = _text(fields, "Event", limit=64).strip() if msg_type == "event" else ""
        if msg_type == "event" and not event:
            raise MessageError("Event missing")
        recognition = None
        if msg_type == "voice":
            recognition = _text(fields, "Recognition", limit=2_000)
        return cls(
            to_user=to_user,
            from_user=from_user,
            create_time=int(created),
            msg_type=msg_type,
            msg_id=msg_id,
            content=_text(fields, "Content", limit=20_000) if msg_type == "text" else "",
            recognition=recognition,
            event=event.upper() if event else "",
            event_key=_text(fields, "EventKey", limit=512) if msg_type == "event" else "",
            fields=dict(fields),
        )
