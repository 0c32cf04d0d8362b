"""Typed settings: one TOML file plus ``PUFA_*`` environment overrides.

Precedence (lowest first): built-in defaults, the TOML file (``--config PATH`` or ``PUFA_CONFIG``),
the operational settings admins changed in the browser (bot/overlay.py, applied at run time by
bot/live_settings.py), environment variables. Every field ``section.key`` can be overridden by
``PUFA_SECTION_KEY``; a few short names are public contracts and documented in the README (``PUFA_HOST``, ``PUFA_PORT``,
``PUFA_DATABASE_URL``, ``PUFA_WECHAT_*``).

Secrets are wrapped in :class:`Secret` so that ``repr()``, logs and tracebacks never show them.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import string
import tomllib
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

OFFICIAL_API_BASE = "https://api.weixin.qq.com"


class ConfigError(ValueError):
    """The configuration is wrong; the message says which setting and why, in plain words."""


class Secret:
    """A string that refuses to show itself in ``repr``/``str`` (logs, tracebacks, debuggers)."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and secrets.compare_digest(self._value, other._value)

    def __hash__(self) -> int:
        return hash(self._value)

    def __repr__(self) -> str:
        return "Secret('***')" if self._value else "Secret('')"

    __str__ = __repr__


@dataclass(frozen=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 8080
    # Public base URL staff use to reach the admin pages; only used in messages and links.
    public_url: str = ""
    # Real WeChat messages are a few KB; anything bigger is refused before it is read.
    body_limit: int = 64 * 1024
    # Seconds a client gets to send its whole body (slowloris guard).
    read_timeout: float = 5.0
    # WeChat waits 5 s; past this budget we answer "success" and deliver late via the API.
    reply_budget: float = 4.0


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = "sqlite+aiosqlite:///data/pufa.db"
    echo: bool = False
    # Seconds a SQLite writer waits for the lock before failing.
    busy_timeout: float = 10.0


@dataclass(frozen=True)
class WechatSettings:
    token: Secret = field(default_factory=lambda: Secret(""))
    appid: str = ""
    appsecret: Secret = field(default_factory=lambda: Secret(""))
    aes_key: Secret = field(default_factory=lambda: Secret(""))
    # Kept for a while after a key change so in-flight messages still decrypt.
    previous_aes_key: Secret = field(default_factory=lambda: Secret(""))
    api_base: str = OFFICIAL_API_BASE
    account_type: str = "subscription"  # subscription (订阅号) | service (服务号)
    timestamp_window: int = 300
    api_timeout: float = 10.0

    @property
    def configured(self) -> bool:
        return bool(self.token) and bool(self.appid)

    @property
    def safe_mode(self) -> bool:
        return bool(self.aes_key)


@dataclass(frozen=True)
class Contact:
    key: str
    name: str
    phone: str = ""
    note: str = ""


@dataclass(frozen=True)
class TownSettings:
    name: str = "本镇"
    office: str = "镇司法所"
    account_name: str = "普法助手"


@dataclass(frozen=True)
class PrivacySettings:
    retention_days: int = 180
    # Salt for hashing openids in logs and the message log.
    openid_salt: Secret = field(default_factory=lambda: Secret(""))


@dataclass(frozen=True)
class KnowledgeSettings:
    # Empty means the copies bundled with the package.
    entries_dir: str = ""
    laws_dir: str = ""
    cache_dir: str = "data/cache"
    # Distinct message texts whose match is remembered per knowledge view (0: none).
    match_memory: int = 4096
    # Compute matches in a helper process forked from the server (bot/matchworker.py).
    match_process: bool = True


@dataclass(frozen=True)
class ConversationSettings:
    # How long "继续", digits and "原文" refer to the last answer.
    memory_minutes: int = 30
    page_chars: int = 600


@dataclass(frozen=True)
class DemoSettings:
    # auto: demo mode when no WeChat account is configured; on/off force it.
    mode: str = "auto"
    state_file: str = "data/demo.toml"


@dataclass(frozen=True)
class LoggingSettings:
    level: str = "INFO"


@dataclass(frozen=True)
class SchedulerSettings:
    """Scheduled pushes (see docs/scheduling.md)."""

    enabled: bool = True
    # APScheduler only wakes the sender; this periodic tick is the safety net behind the date job.
    tick_seconds: float = 20.0
    # Missed while the service was down: sent on start-up if at most this late, else needs_attention.
    grace_seconds: float = 6 * 3600.0
    # WeChat remembers a clientmsgid for 24 h; past that a retry could send twice, so a human decides.
    retry_window_seconds: float = 24 * 3600.0
    # reliability.md: back off at least 60 s between retries with the same clientmsgid.
    min_backoff_seconds: float = 60.0
    max_backoff_seconds: float = 1800.0
    # SQLite leader lock lease; renewed every tick (PostgreSQL uses an advisory lock instead).
    leader_lease_seconds: float = 60.0
    # A claimed post whose sender vanished is re-claimed (same clientmsgid) after this long.
    claim_lease_seconds: float = 120.0
    # Ask message/mass/get for the final counts if MASSSENDJOBFINISH has not come by then.
    reconcile_after_seconds: float = 600.0
    default_send_time: str = "08:30"
    # Remind staff when a campaign date has nothing queued this many days ahead.
    lead_days: int = 7
    # Staff openids that receive previews, comma-separated.
    preview_openids: str = ""
    # Staff's own calendar file, merged over the bundled scheduler/data/calendar.toml.
    calendar_file: str = ""
    # Cover for WeChat articles that have none (WeChat refuses an article without one); empty: the
    # bundled scheduler/assets/default_cover.png.
    default_cover: str = ""
    # WeChat datacube (follower figures): fetched daily after this Beijing time (data is ready ~08:00),
    # catching up missing days up to this many days back; 0 = off.
    datacube_time: str = "08:05"
    datacube_backfill_days: int = 60
    # Staff notices (alerts, monthly headline) not sent to DingTalk within this long are dropped.
    notice_max_age_seconds: float = 24 * 3600.0


@dataclass(frozen=True)
class DingtalkSettings:
    """The cadres' DingTalk group robot (custom robot with 加签)."""

    webhook_url: str = ""
    secret: Secret = field(default_factory=lambda: Secret(""))
    # DingTalk blocks a robot for 10 minutes past 20 messages a minute; never reach it.
    per_minute: int = 20
    timeout: float = 10.0

    @property
    def configured(self) -> bool:
        return bool(self.webhook_url)


@dataclass(frozen=True)
class ReportsSettings:
    """Publicity statistics and the report (see docs/reports.md)."""

    # The monthly job writes last month's files here.
    output_dir: str = "data/reports"
    # Offline activity types for the ledger (普法台账), comma-separated; staff may edit the list.
    activity_types: str = "送法入校,法律明白人培训,法治讲座,宣传咨询/赶场宣传,干部学法,以案释法,其他"
    # The report's rounding: counts >= threshold are written as the unit below plus 余 (83 → 80余).
    round_threshold: int = 20
    round_unit: int = 10
    # 余 means "more than": an exact multiple (400) is written as it is unless this is on.
    round_yu_on_exact: bool = False
    # A campaign date counts as covered by a push within this many days either side.
    campaign_window_days: int = 3
    # Rows in the top-topics and top-unanswered lists.
    top_n: int = 10
    # Who gets the monthly DingTalk summary: "dingtalk" sends it through the [dingtalk] robot; "" never.
    notify: str = "dingtalk"
    # The monthly job runs on the 1st (or, after downtime, up to the 3rd) from this Beijing time,
    # after the datacube job has stored the month's last day.
    monthly_time: str = "08:30"

    @property
    def activity_type_list(self) -> tuple[str, ...]:
        return tuple(t.strip() for t in self.activity_types.split(",") if t.strip())


@dataclass(frozen=True)
class AdminSettings:
    """The staff web pages at /admin (see docs/admin.md)."""

    # Mark the session cookie Secure: turn on whenever staff reach the pages over HTTPS.
    cookie_secure: bool = False
    # A session unused this long is gone; staff log in again.
    idle_timeout_minutes: int = 30
    # Login throttling: this many failures for one account name within the window refuse further
    # attempts (even the right password) until the window has passed; one client address gets
    # admin.accounts.ADDRESS_FACTOR (4) times as many, since it may be a whole office behind NAT.
    max_failures: int = 5
    failure_window_minutes: int = 15
    # The resident chat page at /sandbox: always in demo mode; elsewhere only when this is on.
    sandbox_chat: bool = False
    # Cover images uploaded on the post page are stored here (scheduler/covers.py).
    upload_dir: str = "data/uploads"


DEFAULT_CONTACTS: tuple[Contact, ...] = (
    Contact("hotline", "12348公共法律服务热线", "12348"),
    Contact("sifasuo", "镇司法所", ""),
    Contact("legal_aid", "法律援助中心", "12348"),
    Contact("mediation", "村（社区）人民调解委员会", ""),
    Contact("police", "报警电话", "110"),
    Contact("antifraud", "反诈专线", "96110"),
    Contact("consumer", "市场监管投诉举报热线", "12315"),
    Contact("labor", "人社服务热线（劳动保障监察）", "12333"),
    Contact("women", "妇女维权热线", "12338"),
    Contact("petition", "镇信访办", ""),
    Contact("security", "国家安全机关举报受理电话", "12339"),
)


@dataclass(frozen=True)
class Settings:
    server: ServerSettings = field(default_factory=ServerSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    wechat: WechatSettings = field(default_factory=WechatSettings)
    town: TownSettings = field(default_factory=TownSettings)
    privacy: PrivacySettings = field(default_factory=PrivacySettings)
    knowledge: KnowledgeSettings = field(default_factory=KnowledgeSettings)
    conversation: ConversationSettings = field(default_factory=ConversationSettings)
    demo: DemoSettings = field(default_factory=DemoSettings)
    logging: LoggingSettings = field(default_factory=LoggingSettings)
    scheduler: SchedulerSettings = field(default_factory=SchedulerSettings)
    dingtalk: DingtalkSettings = field(default_factory=DingtalkSettings)
    reports: ReportsSettings = field(default_factory=ReportsSettings)
    admin: AdminSettings = field(default_factory=AdminSettings)
    contacts: tuple[Contact, ...] = DEFAULT_CONTACTS
    source: str = ""  # where the file came from, for messages

    @property
    def demo_mode(self) -> bool:
        if self.demo.mode == "on":
            return True
        if self.demo.mode == "off":
            return False
        return not self.wechat.configured

    def contact(self, key: str) -> Contact | None:
        for c in self.contacts:
            if c.key == key:
                return c
        return None


# Short public names kept for compatibility with the contract.
ENV_ALIASES: dict[str, tuple[str, str]] = {
    "PUFA_HOST": ("server", "host"),
    "PUFA_PORT": ("server", "port"),
}

SECTION_TYPES: dict[str, type] = {
    "server": ServerSettings,
    "database": DatabaseSettings,
    "wechat": WechatSettings,
    "town": TownSettings,
    "privacy": PrivacySettings,
    "knowledge": KnowledgeSettings,
    "conversation": ConversationSettings,
    "demo": DemoSettings,
    "logging": LoggingSettings,
    "scheduler": SchedulerSettings,
    "dingtalk": DingtalkSettings,
    "reports": ReportsSettings,
    "admin": AdminSettings,
}


def _coerce(section: str, key: str, raw: Any, hint: Any) -> Any:
    name = f"{section}.{key}"
    if hint is Secret or hint == "Secret":
        if not isinstance(raw, str):
            raise ConfigError(f"配置项 {name} 应为字符串")
        return Secret(raw)
    if hint is bool:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.lower() in {"1", "true", "yes", "on"}:
            return True
        if isinstance(raw, str) and raw.lower() in {"0", "false", "no", "off"}:
            return False
        raise ConfigError(f"配置项 {name} 应为 true 或 false，实际为 {raw!r}")
    if hint is int:
        try:
            if isinstance(raw, bool):
                raise ValueError
            return int(raw)
        except (TypeError, ValueError):
            raise ConfigError(f"配置项 {name} 应为整数，实际为 {raw!r}") from None
    if hint is float:
        try:
            return float(raw)
        except (TypeError, ValueError):
            raise ConfigError(f"配置项 {name} 应为数字，实际为 {raw!r}") from None
    if hint is str:
        if not isinstance(raw, str):
            raise ConfigError(f"配置项 {name} 应为字符串，实际为 {raw!r}")
        return raw
    return raw


def _build_section(section: str, cls: type, values: Mapping[str, Any]) -> Any:
    hints = typing.get_type_hints(cls, {"Secret": Secret})
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = set(values) - known
    if unknown:
        raise ConfigError(f"[{section}] 中有未知的配置项：{', '.join(sorted(unknown))}")
    kwargs = {k: _coerce(section, k, v, hints[k]) for k, v in values.items()}
    return cls(**kwargs)


def _env_overrides(env: Mapping[str, str]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for name, value in env.items():
        if not name.startswith("PUFA_") or name == "PUFA_CONFIG":
            continue
        if name in ENV_ALIASES:
            section, key = ENV_ALIASES[name]
            out.setdefault(section, {})[key] = value
            continue
        rest = name[len("PUFA_") :].lower()
        for section, cls in SECTION_TYPES.items():
            prefix = section + "_"
            if rest.startswith(prefix):
                key = rest[len(prefix) :]
                if key in {f.name for f in dataclasses.fields(cls)}:
                    out.setdefault(section, {})[key] = value
                break
    return out


env_overrides = _env_overrides


def _contacts(raw: Any) -> tuple[Contact, ...]:
    if raw is None:
        return DEFAULT_CONTACTS
    if not isinstance(raw, list):
        raise ConfigError("[[contacts]] 应为表格数组")
    by_key = {c.key: c for c in DEFAULT_CONTACTS}
    for i, item in enumerate(raw, 1):
        if not isinstance(item, dict) or not isinstance(item.get("key"), str):
            raise ConfigError(f"第 {i} 个 [[contacts]] 缺少 key")
        try:
            by_key[item["key"]] = Contact(**{k: str(v) for k, v in item.items()})
        except TypeError as exc:
            raise ConfigError(f"[[contacts]] {item['key']}: {exc}") from None
    return tuple(by_key.values())


def load_settings(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Read the TOML file (if any) and apply environment overrides."""
    env = os.environ if env is None else env
    path = path or env.get("PUFA_CONFIG") or None
    data: dict[str, Any] = {}
    source = "(defaults)"
    if path:
        p = Path(path)
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"找不到配置文件 {p}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"配置文件 {p} 格式错误：{exc}") from None
        source = str(p)
    unknown = set(data) - set(SECTION_TYPES) - {"contacts"}
    if unknown:
        raise ConfigError(f"配置文件中有未知的段：{', '.join(sorted(unknown))}")
    overrides = _env_overrides(env)
    sections: dict[str, Any] = {}
    for section, cls in SECTION_TYPES.items():
        values = dict(data.get(section, {}))
        if not isinstance(values, dict):
            raise ConfigError(f"[{section}] 应为一个段")
        values.update(overrides.get(section, {}))
        sections[section] = _build_section(section, cls, values)
    settings = Settings(**sections, contacts=_contacts(data.get("contacts")), source=source)
    validate(settings)
    return settings


def validate(settings: Settings) -> None:
    w = settings.wechat
    if w.account_type not in {"subscription", "service"}:
        raise ConfigError("wechat.account_type 只能是 subscription（订阅号）或 service（服务号）")
    for name, key in (("aes_key", w.aes_key), ("previous_aes_key", w.previous_aes_key)):
        value = key.reveal()
        if value and (len(value) != 43 or any(c not in string.ascii_letters + string.digits for c in value)):
            raise ConfigError(f"wechat.{name}（EncodingAESKey）应为 43 位字母和数字")
    if not 1 <= settings.server.port <= 65535 and settings.server.port != 0:
        raise ConfigError("server.port 应在 1 到 65535 之间")
    if settings.server.body_limit < 1024:
        raise ConfigError("server.body_limit 太小（至少 1024 字节）")
    if not 0 < settings.server.reply_budget < 5:
        raise ConfigError("server.reply_budget 应在 0 到 5 秒之间（微信只等 5 秒）")
    if not settings.database.url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        raise ConfigError("database.url 只支持 sqlite+aiosqlite:// 或 postgresql+asyncpg://")
    if settings.demo.mode not in {"auto", "on", "off"}:
        raise ConfigError("demo.mode 只能是 auto、on 或 off")
    r = settings.reports
    if r.round_unit < 1 or r.round_threshold < 0:
        raise ConfigError("reports.round_unit 应至少为 1，reports.round_threshold 不能为负数")
    if not [t for t in r.activity_types.split(",") if t.strip()]:
        raise ConfigError("reports.activity_types 至少要有一个活动类型（用逗号分隔）")
    a = settings.admin
    if a.idle_timeout_minutes < 1 or a.max_failures < 1 or a.failure_window_minutes < 1:
        raise ConfigError("[admin] 的 idle_timeout_minutes、max_failures、failure_window_minutes 都应至少为 1")
    if settings.wechat.appid and not settings.wechat.token and settings.demo.mode != "on":
        raise ConfigError("已配置 wechat.appid 但缺少 wechat.token（PUFA_WECHAT_TOKEN）")


def replace(settings: Settings, **sections: Any) -> Settings:
    """Return a copy with some sections replaced (``wechat=...``)."""
    return dataclasses.replace(settings, **sections)
