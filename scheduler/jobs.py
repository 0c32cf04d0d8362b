"""Periodic jobs the leader runs once a (Beijing) day, after a given time of day.

A job's ``run(today)`` returns normally when today's work is done (or there was none); it raises to
be retried ``retry_seconds`` later on the next tick. Running once a day is only bookkeeping in
memory: a job whose effect must happen exactly once (the monthly report's notice) records it in
``job_runs`` in the same transaction as the effect, so a restart or a new leader never repeats it.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.db.base import utcnow
from reports.period import previous_month
from scheduler.models import JobRun
from scheduler.outbox import enqueue

log = logging.getLogger("pufa.scheduler.jobs")

MONTHLY_JOB = "monthly_report"
# After downtime across the 1st, the month's report is still produced up to the 3rd.
MONTHLY_CATCH_UP_DAYS = 3
MONTHLY_TITLE = "普法助手月报"


@dataclass
class DailyJob:
    name: str
    not_before: time  # Beijing time of day
    run: Callable[[date], Awaitable[object]]
    retry_seconds: float = 1800.0


async def job_done(sessions: async_sessionmaker[AsyncSession], job: str, key: str) -> bool:
    async with sessions() as s:
        return (await s.execute(select(JobRun.job).where(JobRun.job == job, JobRun.run_key == key))).first() \
            is not None


async def monthly_report(sessions: async_sessionmaker[AsyncSession], settings: Settings, today: date,
                         now: datetime | None = None) -> bool:
    """Last month's report files into ``[reports] output_dir`` and one DingTalk notice with the
    headline figures. Returns True when it produced the report now, False when there was nothing to
    do (not the 1st–3rd, or already done). The files are rewritten if a crash came between them and
    the record; the notice and the record are one transaction, so it is queued exactly once."""
    if today.day > MONTHLY_CATCH_UP_DAYS:
        return False
    key = previous_month(today).key
    if await job_done(sessions, MONTHLY_JOB, key):
        return False
    # Only now, and in a thread: the report stack (matplotlib, docx, openpyxl) takes ~0.5 s to import,
    # which, imported by this job on the loop at every start, stalled the first requests (the p99 of
    # the first seconds after a start was 0.4-0.5 s, bench/webhook_bench.py).
    monthly = await asyncio.to_thread(importlib.import_module, "reports.monthly")
    result = await monthly.run_monthly(sessions, settings, today=today)
    try:
        async with sessions() as s, s.begin():
            now = now or utcnow()
            s.add(JobRun(job=MONTHLY_JOB, run_key=key, finished_at=now,
                         detail="\n".join(str(Path(p)) for p in result.files)))
            if settings.reports.notify == "dingtalk":
                await enqueue(s, kind=MONTHLY_JOB, title=MONTHLY_TITLE, text=result.headline, now=now)
    except IntegrityError:
        log.info("monthly report %s already recorded by another run", key)
        return False
    log.info("monthly report %s produced: %s", key, ", ".join(p.name for p in result.files))
    return True
