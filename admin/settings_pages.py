"""设置 (admins only): the whitelisted operational settings (bot/overlay.py) edited in the browser, the
rest shown read-only with secrets masked.

A saved change is written with one audit row per setting (old → new) in the same transaction, then
the live settings are re-read, so the bot's next answer already uses it.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from aiohttp import web
from sqlalchemy import make_url, select
from sqlalchemy.exc import ArgumentError

from admin import audit
from admin.security import client_address, redirect, requires_admin
from admin.web import SESSIONS, SETTINGS, render, staff_of
from bot import overlay
from bot.app import LIVE
from bot.config import Secret, Settings
from bot.db.models import SettingOverride
from bot.live_settings import store

routes = web.RouteTableDef()


def masked(value: Any) -> Any:
    """Secrets as ***; a database URL without its password (PostgreSQL URLs carry one), the DingTalk
    robot URL without its access token (whoever has it can post to the cadres' group)."""
    if isinstance(value, Secret):
        return repr(value)
    if isinstance(value, str) and "access_token=" in value:
        return re.sub(r"access_token=[^&]*", "access_token=***", value)
    if isinstance(value, str) and "://" in value and "@" in value:
        try:
            return make_url(value).render_as_string(hide_password=True)
        except ArgumentError:
            return "***"
    return value


def read_only(settings: Settings) -> list[tuple[str, list[tuple[str, Any]]]]:
    editable = set(overlay.BY_KEY)
    sections = []
    for f in dataclasses.fields(settings):
        value = getattr(settings, f.name)
        if dataclasses.is_dataclass(value):
            items = [(k.name, masked(getattr(value, k.name))) for k in dataclasses.fields(value)
                     if f"{f.name}.{k.name}" not in editable]
            sections.append((f.name, items))
    return sections


def form_text(f: overlay.Field, value: Any) -> str:
    if f.kind == "bool":
        return "1" if value else ""
    return str(value)


async def changed_by(request: web.Request) -> dict[str, SettingOverride]:
    async with request.config_dict[SESSIONS]() as s:
        return {r.key: r for r in (await s.execute(select(SettingOverride))).scalars()}


async def page(request: web.Request, *, entered: dict[str, str] | None = None, errors: dict[str, str] | None = None,
               status: int = 200) -> web.Response:
    live = request.config_dict[LIVE]
    current = live.current
    values = {f.key: form_text(f, overlay.current_value(current, f.key)) for f in overlay.FIELDS}
    contacts = [{"key": c.key, "name": c.name, "phone": c.phone} for c in current.contacts]
    if entered is not None:
        values.update({k: v for k, v in entered.items() if k in values})
        for c in contacts:
            c["name"] = entered.get(f"contact-{c['key']}-name", c["name"])
            c["phone"] = entered.get(f"contact-{c['key']}-phone", c["phone"])
    return render(request, "settings.html", status=status, active="settings", fields=overlay.FIELDS, values=values,
                  contacts=contacts, locked=overlay.locked(), errors=errors or {}, overrides=await changed_by(request),
                  contact_key=overlay.contact_key, sections=read_only(current), source=current.source,
                  notice=request.query.get("notice", ""))


@routes.get("/settings")
@requires_admin
async def settings_page(request: web.Request) -> web.StreamResponse:
    return await page(request)


def parse(form: Any, settings: Settings, locked: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """(new values by key, errors by key) for everything the form carries that is not locked."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for f in overlay.FIELDS:
        if f.key in locked or (f.kind != "bool" and f.key not in form):
            continue
        try:
            values[f.key] = overlay.parse_field(f, str(form.get(f.key, "")))
        except overlay.OverlayError as exc:
            errors[f.key] = str(exc)
    for c in settings.contacts:
        name_field = f"contact-{c.key}-name"
        if name_field not in form:
            continue
        try:
            values[overlay.contact_key(c.key)] = overlay.parse_contact(
                c.key, str(form.get(name_field, "")), str(form.get(f"contact-{c.key}-phone", "")))
        except overlay.OverlayError as exc:
            errors[exc.field] = str(exc)
    return values, errors


def label(key: str, settings: Settings) -> str:
    if key.startswith(overlay.CONTACT_PREFIX):
        c = settings.contact(key[len(overlay.CONTACT_PREFIX):])
        return f"联系方式 {c.name if c else key}"
    return overlay.BY_KEY[key].label


@routes.post("/settings")
@requires_admin
async def settings_save(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    live = request.config_dict[LIVE]
    current = live.current
    entered = {k: str(v) for k, v in form.items() if k != "csrf"}
    values, errors = parse(form, current, overlay.locked())
    if errors:
        return await page(request, entered=entered, errors=errors, status=400)
    changes = {k: v for k, v in values.items() if v != overlay.current_value(current, k)}
    if not changes:
        return redirect("/admin/settings", notice="没有改动。")
    try:
        overlay.check(overlay.apply(request.config_dict[SETTINGS], {**live.values, **changes}))
    except overlay.OverlayError as exc:
        return await page(request, entered=entered, errors={"": str(exc)}, status=400)
    actor = staff_of(request).name
    async with request.config_dict[SESSIONS]() as s, s.begin():
        await store(s, changes, actor)
        for key, value in changes.items():
            old = overlay.shown(overlay.current_value(current, key))
            await audit.record(s, actor, "settings", label(key, current), f"{old} → {overlay.shown(value)}",
                               client_address(request))
    await live.reload(request.config_dict[SESSIONS])
    return redirect("/admin/settings", notice=f"已保存 {len(changes)} 项，立即生效。")
