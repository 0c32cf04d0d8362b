"""Tables of the platform: the message log, residents' conversation state, messages left for staff,
the knowledge base and the law corpus. Other subsystems add their own modules on the same Base.

Residents are identified by a salted hash of their openid everywhere except ``staff_messages``,
which needs the raw openid to send staff's reply back as a customer-service message.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, UTCDateTime, utcnow


class InboundMessage(Base):
    """One row per message or event WeChat delivered, created before any answer work starts."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("account", "dedup_key", name="uq_messages_account_dedup_key"),
        Index("ix_messages_received_at", "received_at"),
        Index("ix_messages_outcome_received_at", "outcome", "received_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    account: Mapped[str] = mapped_column(String(64))
    dedup_key: Mapped[str] = mapped_column(String(255))
    openid_hash: Mapped[str] = mapped_column(String(64), index=True)
    msg_type: Mapped[str] = mapped_column(String(16))
    event: Mapped[str | None] = mapped_column(String(64))
    # Purged after the retention period; the counts stay.
    text: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # processing -> done | late (answer sent through the API) | failed
    state: Mapped[str] = mapped_column(String(16), default="processing")
    # answered | ambiguous | no_match | command | event | ignored
    outcome: Mapped[str | None] = mapped_column(String(16))
    tier: Mapped[str | None] = mapped_column(String(8))
    entry_id: Mapped[str | None] = mapped_column(String(80))
    score: Mapped[float | None]
    citations: Mapped[list[Any] | None] = mapped_column(JSON)
    keywords: Mapped[list[str] | None] = mapped_column(JSON)
    reply: Mapped[str | None] = mapped_column(Text)
    # The exact XML body returned, so that a retry gets the same bytes.
    reply_body: Mapped[str | None] = mapped_column(Text)
    delivered: Mapped[str | None] = mapped_column(String(16))  # passive | custom | none | failed
    latency_ms: Mapped[int | None]
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ResidentState(Base):
    """What ``继续``, a digit and ``原文`` refer to: the last answer of one resident, for a while."""

    __tablename__ = "resident_state"

    account: Mapped[str] = mapped_column(String(64), primary_key=True)
    openid_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    pages: Mapped[list[str]] = mapped_column(JSON, default=list)
    page_pos: Mapped[int] = mapped_column(default=0)
    candidates: Mapped[list[str]] = mapped_column(JSON, default=list)
    last_citation: Mapped[list[Any] | None] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class StaffMessage(Base):
    """A message a resident left for staff (留言 / 人工)."""

    __tablename__ = "staff_messages"
    __table_args__ = (Index("ix_staff_messages_created_at", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    openid: Mapped[str] = mapped_column(String(64))
    openid_hash: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The 48-hour customer-service window opens again with each message of the resident.
    last_inbound_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reply_text: Mapped[str | None] = mapped_column(Text)
    replied_by: Mapped[str | None] = mapped_column(String(64))


class KbEntry(Base):
    """A curated question and answer; files in knowledge/data/entries are imported here."""

    __tablename__ = "kb_entries"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    topic_key: Mapped[str] = mapped_column(String(40), index=True)
    topic: Mapped[str] = mapped_column(String(80))
    question: Mapped[str] = mapped_column(Text)
    similar: Mapped[list[str]] = mapped_column(JSON, default=list)
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    answer: Mapped[str] = mapped_column(Text)
    citations: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    contacts: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    reviewed: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class LawArticle(Base):
    __tablename__ = "law_articles"

    law: Mapped[str] = mapped_column(String(80), primary_key=True)
    number: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    version: Mapped[date | None] = mapped_column(Date)
    chapter: Mapped[str | None] = mapped_column(String(120))


class SettingOverride(Base):
    """One operational setting changed by an admin in the browser (bot/overlay.py holds the whitelist).

    Applied over the TOML file; a ``PUFA_*`` variable for the same setting still wins."""

    __tablename__ = "setting_overrides"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64), default="")
