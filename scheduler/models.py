"""Tables of the scheduler: the post queue (the truth), the push log (every attempt), the leader lock
row (SQLite) and staff alerts.

A post's ``idem_key`` is fixed when the post is created and is the ``clientmsgid`` of every attempt:
WeChat rejects a repeat within 24 h with 45065 and returns the earlier msg_id, which is what makes a
retry after a crash safe.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, UTCDateTime, utcnow

# draft → scheduled → sending → sent | failed | needs_attention | cancelled
DRAFT = "draft"
SCHEDULED = "scheduled"
SENDING = "sending"
SENT = "sent"
FAILED = "failed"
NEEDS_ATTENTION = "needs_attention"
CANCELLED = "cancelled"
STATES = (DRAFT, SCHEDULED, SENDING, SENT, FAILED, NEEDS_ATTENTION, CANCELLED)
STATE_NAMES = {DRAFT: "草稿", SCHEDULED: "待发送", SENDING: "发送中", SENT: "已发送", FAILED: "失败",
               NEEDS_ATTENTION: "需人工处理", CANCELLED: "已取消"}
# States that count against the mass-send quota (a send is planned, running or done).
QUOTA_STATES = (SCHEDULED, SENDING, SENT)

CHANNELS = ("wechat", "dingtalk")

_BigId = BigInteger().with_variant(Integer, "sqlite")


class Post(Base):
    __tablename__ = "posts"
    __table_args__ = (
        # The sender's only query: due posts by state and time.
        Index("ix_posts_state_due_at", "state", "due_at"),
        Index("ix_posts_send_at", "send_at"),
    )

    id: Mapped[int] = mapped_column(_BigId, primary_key=True)
    idem_key: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(64))
    digest: Mapped[str] = mapped_column(String(256), default="")
    # Article HTML for WeChat, text/markdown for DingTalk.
    body: Mapped[str] = mapped_column(Text)
    cover_url: Mapped[str | None] = mapped_column(String(512))
    # The cover image's file name under the upload directory (scheduler/covers.py), and the permanent
    # material WeChat gave for it; a new cover clears the material so that the next send uploads it.
    cover_file: Mapped[str | None] = mapped_column(String(128))
    thumb_media_id: Mapped[str | None] = mapped_column(String(128))
    channel: Mapped[str] = mapped_column(String(16))
    # "all" or "tag:<id>"
    audience: Mapped[str] = mapped_column(String(32), default="all")
    campaign: Mapped[str | None] = mapped_column(String(64))
    # When staff want it sent (UTC); never changes once sending started.
    send_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # When the sender may next try (send_at, then send_at + backoff after a transient error).
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    state: Mapped[str] = mapped_column(String(20), default=SCHEDULED)
    attempts: Mapped[int] = mapped_column(default=0)
    # A claimed post whose sender died is re-claimable after this (same idem_key).
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    media_id: Mapped[str | None] = mapped_column(String(128))
    msg_id: Mapped[int | None] = mapped_column(_BigId)
    msg_data_id: Mapped[int | None] = mapped_column(_BigId)
    # From MASSSENDJOBFINISH or message/mass/get.
    result_status: Mapped[str | None] = mapped_column(String(64))
    total_count: Mapped[int | None]
    filter_count: Mapped[int | None]
    sent_count: Mapped[int | None]
    error_count: Mapped[int | None]
    last_error_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64), default="cli")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PushAttempt(Base):
    """The push log: one row per attempt, written in the claim transaction (before any network I/O)
    and completed afterwards, so an attempt cut short by a crash still shows up (as ``interrupted``)."""

    __tablename__ = "push_log"
    __table_args__ = (Index("ix_push_log_started_at", "started_at"), Index("ix_push_log_post_id", "post_id"))

    id: Mapped[int] = mapped_column(_BigId, primary_key=True)
    post_id: Mapped[int] = mapped_column(_BigId, ForeignKey("posts.id"))
    channel: Mapped[str] = mapped_column(String(16))
    attempt: Mapped[int]
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # pending | sent | already_sent | retry | failed | needs_attention | interrupted | missed
    outcome: Mapped[str] = mapped_column(String(20), default="pending")
    error_code: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(Text)
    msg_id: Mapped[int | None] = mapped_column(_BigId)
    total_count: Mapped[int | None]
    sent_count: Mapped[int | None]
    error_count: Mapped[int | None]


class SchedulerLock(Base):
    """SQLite's leader lock: one row per lock name, held by ``holder`` until ``lease_until``."""

    __tablename__ = "scheduler_lock"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    lease_until: Mapped[datetime] = mapped_column(UTCDateTime())


class StaffAlert(Base):
    """Something staff must look at (admin page; DingTalk when configured)."""

    __tablename__ = "staff_alerts"
    __table_args__ = (Index("ix_staff_alerts_created_at", "created_at"),)

    id: Mapped[int] = mapped_column(_BigId, primary_key=True)
    post_id: Mapped[int | None] = mapped_column(_BigId, ForeignKey("posts.id"))
    kind: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_by: Mapped[str | None] = mapped_column(String(64))


class JobRun(Base):
    """One run of a periodic job that must happen once (e.g. the monthly report for ``2026-11``).

    The primary key is the fence: the row is inserted in the same transaction as the job's effect
    (the DingTalk notice in the outbox), so a restart or a second process cannot do it twice."""

    __tablename__ = "job_runs"

    job: Mapped[str] = mapped_column(String(32), primary_key=True)
    run_key: Mapped[str] = mapped_column(String(32), primary_key=True)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    detail: Mapped[str] = mapped_column(Text, default="")


# dingtalk_outbox states
OUTBOX_PENDING = "pending"
OUTBOX_SENDING = "sending"
OUTBOX_SENT = "sent"
OUTBOX_UNKNOWN = "unknown"  # the call may have arrived: never resent
OUTBOX_FAILED = "failed"
OUTBOX_EXPIRED = "expired"  # waited too long (e.g. no robot configured): not sent


class DingtalkNotice(Base):
    """The outbox of staff notices for the DingTalk group (staff alerts, the monthly report's
    headline). Written in the transaction that caused it; sent once by the leader, paced together
    with DingTalk posts; an attempt with an unknown outcome is never repeated."""

    __tablename__ = "dingtalk_outbox"
    __table_args__ = (
        Index("ix_dingtalk_outbox_state_due_at", "state", "due_at"),
        Index("ix_dingtalk_outbox_attempted_at", "attempted_at"),
    )

    id: Mapped[int] = mapped_column(_BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    alert_id: Mapped[int | None] = mapped_column(_BigId, ForeignKey("staff_alerts.id"))
    title: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default=OUTBOX_PENDING)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    attempted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    error_code: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(Text)
