"""Operational settings that admins change in the browser, stored in ``setting_overrides``.

Precedence (lowest first): built-in defaults < the TOML file < this overlay < ``PUFA_*`` variables.
Only the whitelist below can be changed here: values town staff legitimately adjust without a
programmer (next-step contacts, preview openids, reminder lead days, the report's rounding, where the
monthly summary goes). Secrets, addresses, timeouts and anything security-related stay in the file
or the environment, so a stolen admin password cannot redirect the bot or weaken the login.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.config import SECTION_TYPES, ConfigError, Contact, Settings, env_overrides, validate

OPENID = re.compile(r"^[A-Za-z0-9_-]{6,64}$")
PHONE = re.compile(r"^[0-9０-９+\-－()（）\s转、/]{0,40}$")
HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class OverlayError(ValueError):
    """One field refused; ``field`` is the form key, the message is for staff (Chinese)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Field:
    key: str  # "section.name"
    label: str
    help: str
    kind: str  # int | bool | text | openids | hhmm | choice | list
    minimum: int = 0
    maximum: int = 0
    max_len: int = 40
    choices: tuple[tuple[str, str], ...] = ()

    @property
    def section(self) -> str:
        return self.key.split(".", 1)[0]

    @property
    def name(self) -> str:
        return self.key.split(".", 1)[1]

    @property
    def env_name(self) -> str:
        return f"PUFA_{self.section.upper()}_{self.name.upper()}"


FIELDS: tuple[Field, ...] = (
    Field("town.name", "镇（街道）名称", "出现在报表和欢迎语里。", "text", max_len=20),
    Field("town.office", "负责单位", "例如“古龙镇司法所”，出现在机器人回复里。", "text", max_len=30),
    Field("scheduler.lead_days", "宣传日提前提醒天数",
          "宣传日前这么多天还没安排推送，就提醒并自动生成草稿；填 0 不提醒。", "int", minimum=0, maximum=60),
    Field("scheduler.default_send_time", "宣传日推送默认时间", "北京时间，格式 08:30。", "hhmm"),
    Field("scheduler.preview_openids", "接收预览的工作人员微信 openid",
          "“预览到工作人员微信”发给这些人；多个用逗号分开。", "openids", max_len=1000),
    Field("reports.notify", "每月概况发给谁", "每月 1 日把上月概况发到钉钉群，或不发送。", "choice",
          choices=(("dingtalk", "发到钉钉工作群"), ("", "不发送"))),
    Field("reports.round_threshold", "报表取整：从多少起写成“余”", "例如 20：83 写成“80余”，19 照写。", "int",
          minimum=0, maximum=100000),
    Field("reports.round_unit", "报表取整单位", "例如 10：83 写成“80余”；100：830 写成“800余”。", "int",
          minimum=1, maximum=10000),
    Field("reports.round_yu_on_exact", "整数也写“余”", "勾选后 400 也写成“400余”。", "bool"),
    Field("reports.campaign_window_days", "宣传日前后几天内的推送算覆盖", "报表统计宣传日是否开展宣传时用。", "int",
          minimum=0, maximum=30),
    Field("reports.activity_types", "台账活动类型", "多个用逗号分开，至少一个。", "list", max_len=300),
)
BY_KEY = {f.key: f for f in FIELDS}
CONTACT_PREFIX = "contacts."
CONTACT_NAME_MAX = 40


def contact_key(key: str) -> str:
    return CONTACT_PREFIX + key


def parse_field(f: Field, raw: str) -> Any:
    """Form text → the setting's value, or OverlayError with a plain Chinese reason."""
    text = raw.strip()
    if f.kind == "bool":
        return text in {"1", "on", "true"}
    if f.kind == "int":
        if not re.fullmatch(r"-?\d{1,9}", text):
            raise OverlayError(f.key, f"“{f.label}”应填整数")
        value = int(text)
        if not f.minimum <= value <= f.maximum:
            raise OverlayError(f.key, f"“{f.label}”应在 {f.minimum} 到 {f.maximum} 之间")
        return value
    if f.kind == "hhmm":
        if not HHMM.match(text):
            raise OverlayError(f.key, f"“{f.label}”应写成 时:分，例如 08:30")
        return text
    if f.kind == "choice":
        if text not in {v for v, _ in f.choices}:
            raise OverlayError(f.key, f"“{f.label}”的选项无效")
        return text
    if len(text) > f.max_len:
        raise OverlayError(f.key, f"“{f.label}”最多 {f.max_len} 个字")
    if f.kind == "text":
        if not text:
            raise OverlayError(f.key, f"“{f.label}”不能为空")
        return text
    items = [i.strip() for i in re.split(r"[,，、\s]+", text) if i.strip()]
    if f.kind == "openids":
        bad = [i for i in items if not OPENID.match(i)]
        if bad:
            raise OverlayError(f.key, f"“{bad[0]}”不像微信 openid（应为 6–64 位字母、数字、_ 或 -）")
        return ",".join(items)
    if f.kind == "list":
        items = [i.strip() for i in re.split(r"[,，]+", text) if i.strip()]
        if not items:
            raise OverlayError(f.key, f"“{f.label}”至少要有一个")
        return ",".join(dict.fromkeys(items))
    raise AssertionError(f.kind)


def parse_contact(key: str, name: str, phone: str) -> dict[str, str]:
    name, phone = name.strip(), phone.strip()
    if not name:
        raise OverlayError(contact_key(key), "联系单位名称不能为空")
    if len(name) > CONTACT_NAME_MAX:
        raise OverlayError(contact_key(key), f"联系单位名称最多 {CONTACT_NAME_MAX} 个字")
    if not PHONE.match(phone):
        raise OverlayError(contact_key(key), f"“{name}”的电话只能包含数字、空格、-、括号和“转”")
    return {"name": name, "phone": phone}


def locked(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """Whitelisted keys fixed by an environment variable → that variable's name."""
    overrides = env_overrides(os.environ if env is None else env)
    return {f.key: f.env_name for f in FIELDS if f.name in overrides.get(f.section, {})}


def apply(base: Settings, values: Mapping[str, Any], env: Mapping[str, str] | None = None) -> Settings:
    """``base`` with the stored values applied, except keys an environment variable fixes.

    Unknown or malformed stored values (a key dropped from the whitelist by an upgrade) are ignored
    rather than stopping the service."""
    skip = locked(env)
    sections: dict[str, dict[str, Any]] = {}
    contacts = list(base.contacts)
    for key, value in values.items():
        if key.startswith(CONTACT_PREFIX) and isinstance(value, dict):
            ckey = key[len(CONTACT_PREFIX):]
            for i, c in enumerate(contacts):
                if c.key == ckey:
                    contacts[i] = Contact(c.key, str(value.get("name", c.name)), str(value.get("phone", c.phone)),
                                          c.note)
            continue
        f = BY_KEY.get(key)
        if f is None or key in skip:
            continue
        sections.setdefault(f.section, {})[f.name] = value
    out = dataclasses.replace(base, contacts=tuple(contacts))
    for section, changes in sections.items():
        current = getattr(out, section)
        try:
            out = dataclasses.replace(out, **{section: dataclasses.replace(current, **changes)})
        except TypeError:
            continue
    return out


def check(settings: Settings) -> None:
    """The combined settings pass the same checks as a config file (e.g. rounding unit ≥ 1)."""
    try:
        validate(settings)
    except ConfigError as exc:
        raise OverlayError("", str(exc)) from None


def current_value(settings: Settings, key: str) -> Any:
    if key.startswith(CONTACT_PREFIX):
        c = settings.contact(key[len(CONTACT_PREFIX):])
        return {"name": c.name, "phone": c.phone} if c else None
    f = BY_KEY[key]
    return getattr(getattr(settings, f.section), f.name)


def shown(value: Any) -> str:
    """A value as staff read it in the audit log."""
    if isinstance(value, dict):
        return f"{value.get('name', '')} {value.get('phone', '')}".strip()
    if isinstance(value, bool):
        return "是" if value else "否"
    return "（空）" if value == "" else str(value)


assert all(f.section in SECTION_TYPES for f in FIELDS)
