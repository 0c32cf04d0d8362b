"""Tables of the reports: the activity ledger (普法台账), the export audit log, and the two indexes on
the message log that the figures rely on (query plans in docs/benchmarks.md).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Boolean, Date, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, UTCDateTime, utcnow
from bot.db.models import InboundMessage

_BigId = BigInteger().with_variant(Integer, "sqlite")
_messages = InboundMessage.__table__.c

# Covering index for the per-month counts (outcomes, events, topics, chit-chat): both SQLite and
# PostgreSQL answer them from the index alone, without touching the wide message rows.
Index("ix_messages_report", _messages.received_at, _messages.outcome, _messages.event, _messages.entry_id,
      _messages.tier)
# Followers at the start of a period: every subscribe/unsubscribe before it, a small slice of the log.
Index("ix_messages_event_received_at", _messages.event, _messages.received_at)


class LedgerActivity(Base):
    """One offline publicity activity recorded by staff."""

    __tablename__ = "ledger_activities"
    __table_args__ = (Index("ix_ledger_activities_day", "day"),)

    id: Mapped[int] = mapped_column(_BigId, primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(32))
    place: Mapped[str] = mapped_column(String(128), default="")
    organiser: Mapped[str] = mapped_column(String(128), default="")
    participants: Mapped[int] = mapped_column(default=0)
    materials: Mapped[int] = mapped_column(default=0)
    notes: Mapped[str] = mapped_column(Text, default="")
    photos: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_by: Mapped[str] = mapped_column(String(64), default="cli")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ReportExport(Base):
    """The audit log: every report produced (who, when, which period, what format, with texts or not)."""

    __tablename__ = "report_exports"
    __table_args__ = (Index("ix_report_exports_created_at", "created_at"),)

    id: Mapped[int] = mapped_column(_BigId, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(32))
    period_start: Mapped[datetime] = mapped_column(UTCDateTime())
    period_end: Mapped[datetime] = mapped_column(UTCDateTime())
    format: Mapped[str] = mapped_column(String(8))
    output: Mapped[str] = mapped_column(String(512), default="")
    include_texts: Mapped[bool] = mapped_column(Boolean, default=False)
    sha256: Mapped[str | None] = mapped_column(String(64))


class WechatUserDay(Base):
    """WeChat's own follower figures for one day (datacube ``getusersummary`` + ``getusercumulate``),
    stored by the scheduler's daily job (scheduler/datacube.py); the reports prefer them to the
    subscribe/unsubscribe events pufa logged itself."""

    __tablename__ = "wechat_user_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    new_user: Mapped[int] = mapped_column(default=0)
    cancel_user: Mapped[int] = mapped_column(default=0)
    cumulate_user: Mapped[int | None] = mapped_column(Integer)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
