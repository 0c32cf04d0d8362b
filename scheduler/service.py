"""The in-process scheduler: APScheduler only wakes the sender; the posts table is the truth.

Two jobs, both calling :meth:`SchedulerService.tick`: a periodic tick (the safety net, which also
renews leadership and picks up posts added by other processes) and a date job at the next due time
(so a post goes out within a second of its time rather than within a tick). Neither job carries
state: a job lost in a crash or a misfire costs nothing, the next tick finds the post in the table.
Start-up is a tick: posts missed while down are sent if within the grace period (sender.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import SchedulerSettings
from bot.db.base import utcnow
from bot.wechat.client import WechatClient
from scheduler.jobs import DailyJob
from scheduler.leader import LeaderLock, leader_for
from scheduler.outbox import Outbox
from scheduler.results import MassResults
from scheduler.sender import RunStats, Sender
from scheduler.timeutil import SHANGHAI

log = logging.getLogger("pufa.scheduler")

WAKE_JOB = "pufa-next-due"
TICK_JOB = "pufa-tick"


class SchedulerService:
    def __init__(
        self,
        engine: AsyncEngine,
        sessions: async_sessionmaker[AsyncSession],
        settings: SchedulerSettings,
        sender: Sender,
        *,
        wechat: WechatClient | None = None,
        leader: LeaderLock | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.sender = sender
        self.wechat = wechat
        self.results = MassResults(sessions, clock)
        self.leader = leader or leader_for(engine, sessions, settings.leader_lease_seconds, clock)
        self.clock = clock
        self.is_leader = False
        self._lock = asyncio.Lock()
        self._renewed = 0.0
        sender.still_leader = self._still_leader
        self._scheduler: AsyncIOScheduler | None = None
        self.last_stats: RunStats | None = None
        # Once per Beijing day on the leader: campaign reminders and generated drafts.
        self.daily: Callable[[], Awaitable[object]] | None = None
        # The daily reminders run once a day, and again at once when what they depend on changes
        # (admins may change the lead days or the send time on the 设置 page).
        self.daily_key: Callable[[], object] = lambda: None
        self._daily_done: tuple[date, object] | None = None
        # Other once-a-day jobs on the leader (datacube, the monthly report), in order.
        self.jobs: list[DailyJob] = []
        self._job_done: dict[str, date] = {}
        self._job_retry_at: dict[str, datetime] = {}
        # Staff notices for the DingTalk group, sent after each pass (scheduler/outbox.py).
        self.outbox: Outbox | None = None

    async def start(self) -> None:
        # APScheduler logs every run at INFO; with a tick every few seconds that drowns the service log.
        logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)
        # timezone is explicit: the host's (often UTC on servers and CI) must not matter.
        sched = AsyncIOScheduler(timezone=SHANGHAI)
        sched.add_job(self.scheduled_tick, "interval", seconds=self.settings.tick_seconds, id=TICK_JOB,
                      next_run_time=datetime.now(SHANGHAI), max_instances=1, coalesce=True,
                      misfire_grace_time=None)
        sched.start()
        self._scheduler = sched
        log.info("scheduler started (tick %.1fs)", self.settings.tick_seconds)

    async def stop(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        async with self._lock:
            if self.is_leader:
                await self.leader.release()
                self.is_leader = False

    async def scheduled_tick(self) -> RunStats | None:
        """``tick`` as APScheduler's job: cancelled only when the server stops mid-pass (a signal during
        the first pass after a start). Nothing is lost then — a send in flight is re-checked by the next
        leader (Sender.recover) — and APScheduler would log the job's end as an error with a traceback."""
        try:
            return await self.tick()
        except asyncio.CancelledError:
            log.info("scheduler pass interrupted by shutdown; in-flight posts are re-checked at the next start")
            return None

    async def tick(self) -> RunStats | None:
        async with self._lock:  # the date job and the periodic tick never run the sender twice at once
            try:
                return await self._tick()
            except Exception:
                log.exception("scheduler tick failed")
                return None

    async def _still_leader(self) -> bool:
        """Renew the lease during a long pass (slow sends must not let it lapse)."""
        if asyncio.get_running_loop().time() - self._renewed < self.settings.leader_lease_seconds / 3:
            return True
        ok = await self.leader.acquire()
        self._renewed = asyncio.get_running_loop().time()
        return ok

    async def _tick(self) -> RunStats | None:
        leader = await self.leader.acquire()
        self._renewed = asyncio.get_running_loop().time()
        if leader and not self.is_leader:
            recovered = await self.sender.recover()
            log.info("became scheduler leader (%s); %d in-flight posts to re-check", self.leader.holder, recovered)
            if self.outbox is not None:
                await self.outbox.recover()
        if not leader and self.is_leader:
            log.warning("lost scheduler leadership")
        self.is_leader = leader
        if not leader:
            return None
        stats = await self.sender.run_due()
        self.last_stats = stats
        today = datetime.now(SHANGHAI).date()
        if self.daily is not None and self._daily_done != (today, self.daily_key()):
            self._daily_done = (today, self.daily_key())
            try:
                await self.daily()
            except Exception:
                log.exception("daily campaign reminders failed")
        await self.run_jobs()
        if self.outbox is not None:
            try:
                await self.outbox.run()
            except Exception:
                log.exception("sending staff notices to DingTalk failed")
        if self.wechat is not None:
            await self.results.reconcile(self.wechat, after=self.settings.reconcile_after_seconds)
        self._schedule_wake(stats.wake_at)
        return stats

    async def run_jobs(self) -> None:
        """Each job once per Beijing day, from its time of day; a failed run is retried later."""
        now = self.clock()
        local = now.astimezone(SHANGHAI)
        for job in self.jobs:
            if self._job_done.get(job.name) == local.date() or local.time() < job.not_before:
                continue
            retry_at = self._job_retry_at.get(job.name)
            if retry_at is not None and now < retry_at:
                continue
            try:
                await job.run(local.date())
            except Exception:
                log.exception("job %s failed; retrying in %.0f s", job.name, job.retry_seconds)
                self._job_retry_at[job.name] = now + timedelta(seconds=job.retry_seconds)
                continue
            self._job_done[job.name] = local.date()
            self._job_retry_at.pop(job.name, None)

    def _schedule_wake(self, when: datetime | None) -> None:
        if self._scheduler is None or when is None:
            return
        # Only worth a date job when it comes before the next periodic tick.
        if when - self.clock() > timedelta(seconds=self.settings.tick_seconds):
            return
        # This runs inside the date job's own run: with max_instances=1 APScheduler would skip the
        # replacement as "already running" and the wake-up would be lost. tick() serialises anyway.
        self._scheduler.add_job(self.scheduled_tick, "date", run_date=max(when, self.clock()), id=WAKE_JOB,
                                replace_existing=True, misfire_grace_time=None, max_instances=4)
