"""A fixture database for the figures: a few dozen rows whose figures are counted by hand in the tests.

Uses the shared ``engine`` fixture (tests/conftest.py): a migrated SQLite file, or PostgreSQL when
PUFA_TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import ReportsSettings, Settings, load_settings
from bot.db.models import InboundMessage, KbEntry, StaffMessage
from bot.db.session import create_sessionmaker
from reports.models import LedgerActivity
from scheduler.models import Post, PushAttempt

_ids = itertools.count(1)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def msg(at: datetime, outcome: str | None, *, event: str | None = None, entry_id: str | None = None,
        keywords: list[str] | None = None, text: str | None = "问题", who: str = "a" * 32,
        tier: str | None = None) -> InboundMessage:
    n = next(_ids)
    return InboundMessage(
        account="gh_test", dedup_key=f"k{n}", openid_hash=who, msg_type="event" if event else "text",
        event=event, text=text, received_at=at, state="done", outcome=outcome, entry_id=entry_id,
        keywords=keywords, tier=tier,
    )


def post(pid: int, channel: str, *, campaign: str | None = None, sent_count: int | None = None) -> Post:
    at = utc(2026, 1, 1)
    return Post(id=pid, idem_key=f"idem{pid}", title=f"推送{pid}", body="正文", channel=channel,
                campaign=campaign, send_at=at, due_at=at, state="sent", sent_count=sent_count)


def attempt(pid: int, channel: str, no: int, at: datetime, outcome: str) -> PushAttempt:
    return PushAttempt(post_id=pid, channel=channel, attempt=no, started_at=at, finished_at=at, outcome=outcome)


def fixture_rows() -> list[Any]:
    """November 2026 in Beijing time is [2026-10-31 16:00 UTC, 2026-11-30 16:00 UTC)."""
    rows: list[Any] = [
        KbEntry(id="labor-wage-arrears", topic_key="labor", topic="劳动用工", question="q", answer="a"),
        KbEntry(id="fraud-phone", topic_key="fraud", topic="防范诈骗", question="q", answer="a"),
        # --- October (Beijing): the last second of October, and earlier followers.
        msg(utc(2026, 10, 31, 15, 59, 59), "answered", entry_id="labor-wage-arrears"),
        msg(utc(2026, 10, 1, 2), "event", event="SUBSCRIBE", text=None),
        msg(utc(2026, 10, 2, 2), "event", event="SUBSCRIBE", text=None),
        msg(utc(2026, 10, 3, 2), "event", event="SUBSCRIBE", text=None),
        msg(utc(2026, 10, 4, 2), "event", event="UNSUBSCRIBE", text=None),
        # --- November: first second (Beijing 11-01 00:00) ...
        msg(utc(2026, 10, 31, 16, 0, 0), "answered", entry_id="labor-wage-arrears"),
        msg(utc(2026, 11, 3), "answered", entry_id="labor-no-contract-double-wage"),
        msg(utc(2026, 11, 4), "answered", entry_id="fraud-phone"),
        msg(utc(2026, 11, 5), "answered", entry_id=None),  # law-tier answer
        msg(utc(2026, 11, 6), "ambiguous"),
        msg(utc(2026, 11, 7), "no_match", keywords=["彩礼", "退还"]),
        msg(utc(2026, 11, 8), "no_match", keywords=["退还", "彩礼"]),  # same group, other order
        msg(utc(2026, 11, 9), "no_match", keywords=None),
        msg(utc(2026, 11, 10), "failed"),
        msg(utc(2026, 11, 11), "command"),
        # Chit-chat with nothing about law in it: neither a question nor an unanswered one.
        msg(utc(2026, 11, 11, 1), "no_match", tier="chat", keywords=["天气"], text="今天天气咋样"),
        msg(utc(2026, 11, 12), "ignored"),
        msg(utc(2026, 11, 2), "event", event="SUBSCRIBE", text=None),
        msg(utc(2026, 11, 2, 1), "event", event="SUBSCRIBE", text=None),
        msg(utc(2026, 11, 3, 1), "event", event="UNSUBSCRIBE", text=None),
        msg(utc(2026, 11, 4, 1), "event", event="MASSSENDJOBFINISH", text=None),
        # ... and last second (Beijing 11-30 23:59:59).
        msg(utc(2026, 11, 30, 15, 59, 59), "no_match", keywords=["宅基地"]),
        # --- December (Beijing 12-01 00:00).
        msg(utc(2026, 11, 30, 16, 0, 0), "answered", entry_id="fraud-phone"),
        msg(utc(2026, 11, 30, 17), "event", event="SUBSCRIBE", text=None),
        # 留言: two in November (one replied after 3 h, one after 5 h), one unanswered, one in October.
        StaffMessage(account="gh_test", openid="o-raw-1", openid_hash="h1", text="留言1",
                     created_at=utc(2026, 11, 2), replied_at=utc(2026, 11, 2, 3)),
        StaffMessage(account="gh_test", openid="o-raw-2", openid_hash="h2", text="留言2",
                     created_at=utc(2026, 11, 3), replied_at=utc(2026, 11, 3, 5)),
        StaffMessage(account="gh_test", openid="o-raw-3", openid_hash="h3", text="留言3",
                     created_at=utc(2026, 11, 30, 15, 30)),
        StaffMessage(account="gh_test", openid="o-raw-4", openid_hash="h4", text="留言4",
                     created_at=utc(2026, 10, 31, 15, 30), replied_at=utc(2026, 11, 1)),
        # Pushes.
        post(1, "wechat", sent_count=120),   # retry then sent: one item
        post(2, "wechat", sent_count=80),    # sent 23:30 Beijing on 10-31, repeat answered 45065 in Nov
        post(3, "dingtalk"),                 # sent 00:30 Beijing on 11-01
        post(4, "wechat"),                   # failed: not an item
        post(5, "dingtalk"),                 # interrupted, then already_sent: one item
        post(6, "wechat", campaign="constitution_day", sent_count=50),  # December, near 12·4
    ]
    rows += [
        attempt(1, "wechat", 1, utc(2026, 11, 10, 0), "retry"),
        attempt(1, "wechat", 2, utc(2026, 11, 10, 0, 2), "sent"),
        attempt(2, "wechat", 1, utc(2026, 10, 31, 15, 30), "sent"),
        attempt(2, "wechat", 2, utc(2026, 11, 1, 3), "already_sent"),
        attempt(3, "dingtalk", 1, utc(2026, 10, 31, 16, 30), "sent"),
        attempt(4, "wechat", 1, utc(2026, 11, 12), "failed"),
        attempt(5, "dingtalk", 1, utc(2026, 11, 20), "interrupted"),
        attempt(5, "dingtalk", 2, utc(2026, 11, 20, 0, 5), "already_sent"),
        attempt(6, "wechat", 1, utc(2026, 12, 6, 1), "sent"),
    ]
    rows += [
        LedgerActivity(day=date(2026, 11, 5), kind="送法入校", place="古龙小学", organiser="司法所",
                       participants=300, materials=250, photos=[]),
        LedgerActivity(day=date(2026, 11, 20), kind="送法入校", place="古龙中学", organiser="司法所",
                       participants=500, materials=180, photos=[]),
        LedgerActivity(day=date(2026, 11, 30), kind="法律明白人培训", place="镇政府", organiser="司法所",
                       participants=40, materials=0, photos=[]),
        LedgerActivity(day=date(2026, 12, 1), kind="法治讲座", place="村委会", organiser="司法所",
                       participants=60, materials=30, photos=[]),
    ]
    return rows


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_sessionmaker(engine)


@pytest.fixture
async def seeded(sessions: async_sessionmaker[AsyncSession]) -> async_sessionmaker[AsyncSession]:
    async with sessions() as s, s.begin():
        for row in fixture_rows():
            s.add(row)
            if isinstance(row, Post):
                await s.flush()
    return sessions


@pytest.fixture
def report_settings() -> ReportsSettings:
    return ReportsSettings()


@pytest.fixture
def app_settings(database_url: str, tmp_path: Any) -> Settings:
    base = load_settings(None, env={})
    return replace(base, database=replace(base.database, url=database_url),
                   reports=replace(base.reports, output_dir=str(tmp_path / "reports")))
