"""推送 and 宣传日历: create/edit/schedule/cancel posts (quota warnings before saving), a phone-sized
preview, preview to staff WeChat, the year's campaign calendar and the push log with the counts of
MASSSENDJOBFINISH. Everything goes through scheduler/posts.py; the scheduler sends."""

from __future__ import annotations

import asyncio
import html
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from sqlalchemy import update

from admin import audit
from admin.security import redirect
from admin.web import LIVE, SESSIONS, SETTINGS, WECHAT, render, staff_of
from bot.db.base import utcnow
from reports.period import SHANGHAI
from scheduler.article_html import sanitize
from scheduler.calendar import load_calendar
from scheduler.covers import CoverError, CoverStore
from scheduler.models import CHANNELS, DRAFT, SCHEDULED, STATE_NAMES, Post
from scheduler.posts import (
    NewPost,
    PostError,
    add_post,
    cancel_post,
    get_post,
    list_posts,
    month_log,
    schedule_draft,
    store_thumb,
)
from scheduler.preview import send_preview, staff_openids
from scheduler.quota import QuotaExceeded, check_quota

routes = web.RouteTableDef()
CHANNEL_NAMES = {"wechat": "微信群发", "dingtalk": "钉钉群"}
OUTCOME_NAMES = {"pending": "进行中", "sent": "已发送", "already_sent": "已发送（重复请求）", "retry": "待重试",
                 "failed": "失败", "needs_attention": "需人工处理", "interrupted": "中断", "missed": "错过"}


def parse_when(text: str) -> datetime:
    """``2026-12-04T08:30`` (datetime-local, Beijing time) → aware UTC."""
    try:
        naive = datetime.fromisoformat(text.strip())
    except ValueError:
        raise PostError("请填写发送时间") from None
    return naive.replace(tzinfo=SHANGHAI).astimezone(UTC)


def local_input(dt: datetime | None) -> str:
    return dt.astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M:%S") if dt else ""


def _ctx(**kw: Any) -> dict[str, Any]:
    return {"active": "posts", "channels": CHANNELS, "channel_names": CHANNEL_NAMES, "state_names": STATE_NAMES,
            "warning": "", "conflicts": [], "error": "", "notice": "", "pending": "", **kw}


async def quota_warning(request: web.Request, when: datetime, exclude: int | None) -> QuotaExceeded | None:
    settings = request.config_dict[SETTINGS]
    async with request.config_dict[SESSIONS]() as s:
        try:
            await check_quota(s, settings.wechat.account_type, when, exclude=exclude)
        except QuotaExceeded as exc:
            return exc
    return None


@routes.get("/posts")
async def posts_list(request: web.Request) -> web.StreamResponse:
    posts = await list_posts(request.config_dict[SESSIONS])
    posts.sort(key=lambda p: p.send_at, reverse=True)
    return render(request, "posts.html", **_ctx(posts=posts[:200]))


@routes.get("/posts/quota")
async def post_quota(request: web.Request) -> web.StreamResponse:
    """The quota check for the time being typed, so the form can warn before anything is saved."""
    try:
        when = parse_when(request.query.get("at", ""))
    except PostError:
        return web.json_response({"ok": True, "warning": ""})
    raw_id = request.query.get("id", "")
    exclude = int(raw_id) if raw_id.isdigit() else None
    exc = await quota_warning(request, when, exclude)
    return web.json_response({"ok": exc is None, "warning": str(exc) if exc else ""})


def covers(request: web.Request) -> CoverStore:
    return CoverStore.from_settings(request.config_dict[SETTINGS])


def _form_of(post: Post | None, **override: str) -> dict[str, str]:
    base = {"title": "", "digest": "", "body": "", "channel": "wechat", "send_at": "", "campaign": "", "cover": ""}
    if post is not None:
        base.update(title=post.title, digest=post.digest, body=post.body, channel=post.channel,
                    send_at=local_input(post.send_at), campaign=post.campaign or "", cover=post.cover_file or "")
    base.update(override)
    # The editor shows the body as live HTML: only ever the whitelisted form of it.
    base["body_html"] = sanitize(base["body"]) if "<" in base["body"] else plain_paragraphs(base["body"])
    return base


def plain_paragraphs(text: str) -> str:
    return "".join(f"<p>{html.escape(line)}</p>" for line in text.splitlines() if line.strip())


@routes.get("/posts/new")
async def post_new(request: web.Request) -> web.StreamResponse:
    f = _form_of(None, send_at=request.query.get("at", ""), campaign=request.query.get("campaign", ""))
    return render(request, "post_edit.html", **_ctx(post=None, f=f))


@routes.get("/posts/{id:\\d+}")
async def post_edit(request: web.Request) -> web.StreamResponse:
    post = await get_post(request.config_dict[SESSIONS], int(request.match_info["id"]))
    if post is None:
        raise web.HTTPNotFound(text="没有这条推送")
    return render(request, "post_edit.html",
                  **_ctx(post=post, f=_form_of(post), notice=request.query.get("notice", "")))


@routes.get("/posts/{id:\\d+}/cover")
async def post_cover(request: web.Request) -> web.StreamResponse:
    post = await get_post(request.config_dict[SESSIONS], int(request.match_info["id"]))
    name = request.query.get("file") or (post.cover_file if post else None)
    try:
        path = covers(request).path(name or "")
    except CoverError:
        raise web.HTTPNotFound(text="没有封面") from None
    if not path.is_file():
        raise web.HTTPNotFound(text="没有封面")
    return web.FileResponse(path, headers={"Content-Type": "image/png" if path.suffix == ".png" else "image/jpeg"})


async def _cover_from(request: web.Request, form: Any, existing: Post | None) -> str | None:
    """The cover the post should have after this save: a new upload, one uploaded by an earlier try
    of this form (kept across a refused save), removed, or unchanged."""
    upload = form.get("cover")
    if isinstance(upload, web.FileField):
        data = upload.file.read()
        if data:
            return (await asyncio.to_thread(covers(request).save, data)).name
    pending = str(form.get("cover_pending") or "")
    if pending:
        if not covers(request).path(pending).is_file():
            raise CoverError("之前上传的封面已不存在，请重新选择")
        return pending
    if form.get("remove_cover"):
        return None
    return existing.cover_file if existing else None


def campaign_key(request: web.Request, text: str) -> str:
    """The calendar key staff meant: a key, a campaign's name (国家宪法日) or a unique part of it (宪法日);
    anything else is refused — a post under an unknown campaign silently counted for none."""
    text = text.strip()
    if not text:
        return ""
    calendar = load_calendar(request.config_dict[SETTINGS].scheduler.calendar_file or None)
    found = calendar.named(text)
    if len(found) == 1:
        return found[0].key
    names = "、".join(c.name for c in calendar.campaigns)
    raise PostError(f"宣传活动“{text}”在宣传日历里找不到或不止一个，请填其中一个的名称：{names}")


@routes.post("/posts/save")
async def post_save(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    sessions, settings = request.config_dict[SESSIONS], request.config_dict[SETTINGS]
    actor = staff_of(request).name
    raw_id = str(form.get("id") or "")
    post_id = int(raw_id) if raw_id.isdigit() else None
    f = {k: str(form.get(k, "")) for k in ("title", "digest", "body", "channel", "send_at", "campaign")}
    if f["channel"] == "wechat":
        f["body"] = sanitize(f["body"])  # before anything is stored or shown again
    as_draft = form.get("action") == "draft"
    existing = await get_post(sessions, post_id) if post_id else None
    cover: str | None = existing.cover_file if existing else None

    def again(status: int, **kw: Any) -> web.Response:
        """The form again as staff filled it; a cover this try uploaded is kept (pending) for the next."""
        pending = cover if cover and cover != (existing.cover_file if existing else None) else ""
        shown = _form_of(existing, **f, cover=cover or "")
        return render(request, "post_edit.html", status=status, **_ctx(post=existing, f=shown, pending=pending, **kw))

    try:
        f["campaign"] = campaign_key(request, f["campaign"])
        cover = await _cover_from(request, form, existing)
        when = parse_when(f["send_at"])
        new = NewPost(title=f["title"].strip(), body=f["body"], channel=f["channel"], send_at=when,
                      digest=f["digest"].strip(), campaign=f["campaign"].strip() or None, draft=as_draft,
                      cover_file=cover)
        if f["channel"] == "wechat" and not as_draft:
            # Warn before saving: the same rule add_post enforces, shown with the posts in the way.
            exc = await quota_warning(request, when, post_id)
            if exc is not None:
                return again(409, warning=str(exc), conflicts=exc.conflicts)
        if existing is None:
            post = await add_post(sessions, new, account_type=settings.wechat.account_type)
            pid = post.id
        else:
            pid = await _update(request, existing, new)
    except QuotaExceeded as exc:
        return again(409, warning=str(exc), conflicts=exc.conflicts)
    except (PostError, CoverError) as exc:
        return again(400, error=str(exc))
    await audit.log(sessions, actor, "push" if not as_draft else "edit", f"推送 #{pid}",
                    f"{'草稿' if as_draft else '安排发送'}：{new.title}（{local_input(when)}）"
                    + ("，更换封面" if cover != (existing.cover_file if existing else None) else ""))
    return redirect(f"/admin/posts/{pid}?notice=saved")


async def _update(request: web.Request, post: Post, new: NewPost) -> int:
    """Edit a draft or a scheduled post in place (the sender only claims ``scheduled`` ones, and the
    conditional UPDATE loses cleanly to a claim that came first)."""
    from scheduler.posts import validate

    validate(new)
    settings = request.config_dict[SETTINGS]
    if not new.draft and new.send_at < utcnow():
        raise PostError("发送时间已过，请选择将来的时间")
    values: dict[str, Any] = {}
    if new.cover_file != post.cover_file:
        # The material uploaded for the old cover does not show the new one.
        values.update(cover_file=new.cover_file, thumb_media_id=None)
    async with request.config_dict[SESSIONS]() as s, s.begin():
        if new.channel == "wechat" and not new.draft:
            await check_quota(s, settings.wechat.account_type, new.send_at, exclude=post.id)
        res = await s.execute(
            update(Post).where(Post.id == post.id, Post.state.in_((DRAFT, SCHEDULED)))
            # media_id: a draft made by an earlier attempt holds the old text.
            .values(title=new.title, digest=new.digest, body=new.body, channel=new.channel, campaign=new.campaign,
                    send_at=new.send_at, due_at=new.send_at, state=DRAFT if new.draft else SCHEDULED,
                    media_id=None, updated_at=utcnow(), **values)
            .execution_options(synchronize_session=False))
        if res.rowcount != 1:  # type: ignore[attr-defined]
            raise PostError(f"推送 #{post.id} 已开始发送或已结束，不能再修改")
    return post.id


@routes.post("/posts/{id:\\d+}/cancel")
async def post_cancel(request: web.Request) -> web.StreamResponse:
    pid = int(request.match_info["id"])
    try:
        post = await cancel_post(request.config_dict[SESSIONS], pid)
    except PostError as exc:
        return redirect(f"/admin/posts/{pid}", notice=str(exc))
    await audit.log(request.config_dict[SESSIONS], staff_of(request).name, "push", f"推送 #{pid}",
                    f"取消：{post.title}")
    return redirect(f"/admin/posts/{pid}?notice=cancelled")


@routes.post("/posts/{id:\\d+}/schedule")
async def post_schedule(request: web.Request) -> web.StreamResponse:
    pid = int(request.match_info["id"])
    settings = request.config_dict[SETTINGS]
    try:
        await schedule_draft(request.config_dict[SESSIONS], pid, account_type=settings.wechat.account_type)
    except (PostError, QuotaExceeded) as exc:
        return redirect(f"/admin/posts/{pid}", notice=str(exc))
    await audit.log(request.config_dict[SESSIONS], staff_of(request).name, "push", f"推送 #{pid}", "草稿改为安排发送")
    return redirect(f"/admin/posts/{pid}?notice=saved")


@routes.post("/posts/{id:\\d+}/preview")
async def post_preview(request: web.Request) -> web.StreamResponse:
    pid = int(request.match_info["id"])
    post = await get_post(request.config_dict[SESSIONS], pid)
    client = request.config_dict.get(WECHAT)
    if post is None or client is None:
        return redirect(f"/admin/posts/{pid}", notice="未配置微信公众号，无法预览")
    try:
        openids = staff_openids(request.config_dict[LIVE].current.scheduler.preview_openids)
        results = await send_preview(client, post, openids, covers(request))
        await store_thumb(request.config_dict[SESSIONS], post)
    except ValueError as exc:
        return redirect(f"/admin/posts/{pid}", notice=str(exc))
    ok = sum(r.ok for r in results)
    return redirect(f"/admin/posts/{pid}", notice=f"已发送预览给 {ok}/{len(results)} 位工作人员")


@routes.get("/push-log")
async def push_log(request: web.Request) -> web.StreamResponse:
    now = datetime.now(SHANGHAI)
    try:
        year, month = (int(x) for x in request.query.get("month", f"{now:%Y-%m}").split("-"))
        if not (2000 <= year <= 2099 and 1 <= month <= 12):
            raise ValueError
    except ValueError:
        year, month = now.year, now.month
    rows = await month_log(request.config_dict[SESSIONS], year, month)
    rows.sort(key=lambda r: r[0].started_at, reverse=True)
    return render(request, "push_log.html", **_ctx(rows=rows, month=f"{year}-{month:02d}", outcome_names=OUTCOME_NAMES))


@routes.get("/calendar")
async def calendar(request: web.Request) -> web.StreamResponse:
    settings = request.config_dict[SETTINGS]
    try:
        year = int(request.query.get("year", "") or datetime.now(SHANGHAI).year)
        if not 2000 <= year <= 2099:  # the lunar calendar library's range, with margin
            raise ValueError
    except ValueError:
        year = datetime.now(SHANGHAI).year
    occurrences = load_calendar(settings.scheduler.calendar_file or None).occurrences(year)
    posts = [p for p in await list_posts(request.config_dict[SESSIONS]) if p.send_at.astimezone(SHANGHAI).year == year]
    by_campaign: dict[str, list[Post]] = defaultdict(list)
    by_month: dict[int, list[Post]] = defaultdict(list)
    for p in posts:
        if p.campaign:
            by_campaign[p.campaign].append(p)
        by_month[p.send_at.astimezone(SHANGHAI).month].append(p)
    months: list[dict[str, Any]] = []
    for m in range(1, 13):
        occ = [o for o in occurrences if o.start is not None and o.start.month == m]
        months.append({"month": m, "occurrences": occ, "posts": by_month.get(m, [])})
    unset = [o for o in occurrences if o.start is None]
    return render(request, "calendar.html", active="calendar", year=year, months=months, unset=unset,
                  by_campaign=by_campaign, state_names=STATE_NAMES)
