"""Composition root: the only place that wires the database, the knowledge base, the handlers,
the WeChat client and (in demo mode) the sandbox into one aiohttp application."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from datetime import timedelta

import aiohttp
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.db.base import utcnow
from bot.db.runner import DbRunner
from bot.db.schema import SCHEMA_HEAD, schema_revision
from bot.db.session import create_engine, create_sessionmaker
from bot.demo import SANDBOX_PREFIX
from bot.journal import Journal
from bot.knowledge_service import KnowledgeHolder
from bot.live_settings import LiveSettings
from bot.matchworker import Preload
from bot.responder import Responder
from bot.routing import build_dispatcher
from bot.services import AppServices
from bot.wechat.client import WechatClient
from bot.wechat.crypto import MessageCrypto
from bot.wechat.webhook import Webhook
from knowledge.view import KnowledgeView
from sandbox.api import PLATFORM_KEY, SandboxPlatform, create_api_app, sent
from sandbox.dingtalk import ROBOT_KEY, mount_demo
from scheduler.runtime import demo_settings, scheduler_lifetime

log = logging.getLogger("pufa.app")

SETTINGS = web.AppKey("settings", Settings)
ENGINE = web.AppKey("engine", AsyncEngine)
SESSIONS = web.AppKey("sessions", async_sessionmaker[AsyncSession])
RUNNER = web.AppKey("db_runner", DbRunner)
HOLDER = web.AppKey("knowledge", KnowledgeHolder)
SERVICES = web.AppKey("services", AppServices)
HTTP = web.AppKey("http", aiohttp.ClientSession)
WECHAT = web.AppKey("wechat_client", WechatClient)
RESPONDER = web.AppKey("responder", Responder)
WEBHOOK = web.AppKey("webhook", Webhook)
PREBUILT = web.AppKey("prebuilt_knowledge", KnowledgeView)
# The match helper `pufa serve` started before its imports (bot.matchworker.preload).
PRELOAD = web.AppKey("preloaded_match_helper", Preload)
# The settings in force (file + admin overlay + environment); SETTINGS stays the file + environment.
LIVE = web.AppKey("live_settings", LiveSettings)


class SchemaMissing(RuntimeError):
    pass


async def database_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    engine = create_engine(settings.database.url, echo=settings.database.echo,
                           busy_timeout=settings.database.busy_timeout)
    current = await schema_revision(engine)
    if current != SCHEMA_HEAD:
        await engine.dispose()
        raise SchemaMissing(
            f"数据库结构不是最新（当前 {current or '未初始化'}），请先运行：pufa db upgrade"
        )
    app[ENGINE] = engine
    app[SESSIONS] = create_sessionmaker(engine)
    app[RUNNER] = DbRunner(engine, busy_timeout=settings.database.busy_timeout)
    yield
    await asyncio.get_running_loop().run_in_executor(None, app[RUNNER].close)
    await engine.dispose()


async def live_settings_ctx(app: web.Application) -> AsyncIterator[None]:
    """The admins' overlay, read before anything answers, then re-read now and then."""
    live = app[LIVE]
    await live.reload(app[SESSIONS])
    task = asyncio.create_task(live.poll(app[SESSIONS]))
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def knowledge_ctx(app: web.Application) -> AsyncIterator[None]:
    holder = KnowledgeHolder(app[SETTINGS], app[SESSIONS])
    prebuilt = app.get(PREBUILT)
    if prebuilt is not None:
        holder.use(prebuilt)
    else:
        await holder.load(preload=app.get(PRELOAD))
    app[HOLDER] = holder
    app[SERVICES] = AppServices(app[LIVE], holder)
    # The index is millions of long-lived objects. Left to the cyclic collector, every full
    # collection rescans them all and stalls the loop for that long, which showed up as the tail
    # of the latency under load; frozen, they are skipped. (Objects of a later reload are not
    # frozen; the few frozen ones it frees are freed by reference counting all the same.)
    gc.freeze()
    holder.start_worker()
    yield
    holder.close()


async def http_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    session = aiohttp.ClientSession(trust_env=False)
    app[HTTP] = session
    if settings.wechat.appid and settings.wechat.appsecret:
        app[WECHAT] = WechatClient(
            session, appid=settings.wechat.appid, secret=settings.wechat.appsecret.reveal(),
            api_base=settings.wechat.api_base, timeout=settings.wechat.api_timeout,
        )
    yield
    await session.close()


async def responder_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    w = settings.wechat
    journal = Journal(app[RUNNER], account=w.appid or "default",
                      salt=settings.privacy.openid_salt.reveal() or w.token.reveal())
    responder = Responder(
        journal, build_dispatcher(), app[SERVICES], budget=settings.server.reply_budget,
        memory=timedelta(minutes=settings.conversation.memory_minutes), late_sender=app.get(WECHAT),
    )
    crypto = MessageCrypto(w.aes_key.reveal(), w.appid, w.previous_aes_key.reveal()) if w.safe_mode else None
    app[RESPONDER] = responder
    app[WEBHOOK] = Webhook(
        token=w.token.reveal(), crypto=crypto, respond=responder.respond,
        body_limit=settings.server.body_limit, read_timeout=settings.server.read_timeout,
        timestamp_window=w.timestamp_window,
    )
    yield
    await responder.drain()


RETENTION_INTERVAL = 6 * 3600


async def retention_ctx(app: web.Application) -> AsyncIterator[None]:
    """Purge message texts past the retention period, every few hours; idempotent across processes."""
    settings = app[SETTINGS]
    journal = app[RESPONDER].journal

    async def loop() -> None:
        while True:
            cutoff = utcnow() - timedelta(days=settings.privacy.retention_days)
            try:
                purged = await journal.purge_texts(cutoff)
                if purged:
                    log.info("retention: purged the texts of %d messages", purged)
            except Exception:
                log.exception("retention purge failed")
            await asyncio.sleep(RETENTION_INTERVAL)

    task = asyncio.create_task(loop())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def scheduler_ctx(app: web.Application) -> AsyncIterator[None]:
    """The push scheduler (only when ``scheduler.enabled``) and the MASSSENDJOBFINISH hook (always:
    any process may receive the event)."""
    settings = app[SETTINGS]
    if settings.demo_mode and PLATFORM_KEY in app:
        settings = demo_settings(settings, app[PLATFORM_KEY], app.get(ROBOT_KEY), app[HTTP])
    live = app[LIVE]
    async with scheduler_lifetime(settings, app[ENGINE], app[SESSIONS], app[HTTP], app.get(WECHAT),
                                  app[SERVICES].mass_result_hooks, current=lambda: live.over(settings)):
        yield


async def wechat_get(request: web.Request) -> web.StreamResponse:
    return await request.app[WEBHOOK].get(request)


async def wechat_post(request: web.Request) -> web.StreamResponse:
    return await request.app[WEBHOOK].post(request)


async def healthz(request: web.Request) -> web.Response:
    holder = request.app.get(HOLDER)
    return web.json_response({"status": "ok", "demo": request.app[SETTINGS].demo_mode,
                              "matching": holder.matching if holder is not None else "loop"})


def create_app(
    settings: Settings,
    *,
    platform: SandboxPlatform | None = None,
    knowledge: KnowledgeView | None = None,
    preload: Preload | None = None,
) -> web.Application:
    """Build the application; ``settings`` must already have demo credentials applied.

    ``knowledge`` lets tests and benchmarks share one prebuilt knowledge base between apps;
    ``preload`` is the match helper ``pufa serve`` started first (adopted if its snapshot fits).
    """
    app = web.Application(client_max_size=settings.server.body_limit)
    app[SETTINGS] = settings
    app[LIVE] = LiveSettings(settings)
    if knowledge is not None:
        app[PREBUILT] = knowledge
    if preload is not None:
        app[PRELOAD] = preload
    for ctx in (database_ctx, live_settings_ctx, knowledge_ctx, http_ctx, responder_ctx, retention_ctx):
        app.cleanup_ctx.append(ctx)
    app.cleanup_ctx.append(scheduler_ctx)
    app.router.add_get("/wechat", wechat_get)
    app.router.add_post("/wechat", wechat_post)
    app.router.add_get("/healthz", healthz)
    if settings.demo_mode:
        platform = platform or SandboxPlatform(settings.wechat.appid, settings.wechat.appsecret.reveal())
        api = create_api_app(platform)
        app.add_subapp(SANDBOX_PREFIX, api)
        app[PLATFORM_KEY] = platform
        mount_demo(app, platform.sent, settings.wechat.appsecret.reveal(), platform.clock)
        app.router.add_get("/sandbox/api/sent", sent)
    add_staff_pages(app, settings)
    return app


def add_staff_pages(app: web.Application, settings: Settings) -> None:
    """/admin for town staff; /sandbox, the resident chat page, in demo mode or when enabled."""
    from admin.web import mount

    mount(app)
    if settings.demo_mode or settings.admin.sandbox_chat:
        # Imported only when mounted: it brings wechatpy and its crypto stack into the start.
        from sandbox.chat import mount_chat

        mount_chat(app)
