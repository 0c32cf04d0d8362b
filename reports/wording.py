"""The report's own phrasing: rounded counts with 余 and the sentences of the publicity section.

Seen in the town's 2024 report: "发送有关法律知识80余条", "发放法治宣传资料400余份", "学习…10余次",
"开展…送法入校活动3次". Counts of ``round_threshold`` (20) and more are written as the ``round_unit`` (10)
below plus 余; smaller counts exactly. 余 means "more than", so an exact multiple (20, 400) is written as
it is unless ``round_yu_on_exact`` is on.
"""

from __future__ import annotations

from bot.config import ReportsSettings
from reports.figures import Figures, Report
from reports.sources import CHANNEL_NAMES

# Sentence templates (user-facing text kept out of the logic).
T_PUSHES = "充分利用{channels}，发送有关法律知识{n}条"
T_SENT_COUNT = "，微信公众号群发累计送达{n}人次"
T_CAMPAIGNS = "依托{points}等时间点，开展专项法治宣传教育{n}次"
T_CAMPAIGNS_MISSED = "（{points}未开展线上推送）"
T_SCHOOL = "开展“法治副校长”送法入校活动{n}次"
T_MATERIALS = "，发放法治宣传资料{n}份"
T_TRAINING = "对“法律明白人”开展{n}次法律培训"
T_LECTURE = "开展法治讲座{n}次，参与群众{people}人次"
T_FAIR = "开展宣传咨询、赶场宣传{n}次，发放资料{materials}份"
T_CADRES = "组织干部学法{n}次"
T_CASES = "开展以案释法{n}次"
T_QUESTIONS = ("通过微信公众号解答群众法律咨询{answered}条，收到咨询{received}条，答复率{rate}；"
               "群众留言{left}条，已回复{replied}条")
T_FOLLOWERS = "公众号新增关注{new}人，{net}，期末关注{end}人"
T_NOTHING = "本期暂无统计数据"


def approx(n: int, settings: ReportsSettings | None = None) -> str:
    """83 → "80余"; 19 → "19"; 400 → "400" (an exact multiple is not "more than")."""
    s = settings or ReportsSettings()
    if n < s.round_threshold:
        return str(n)
    base = n // s.round_unit * s.round_unit
    if base == n and not s.round_yu_on_exact:
        return str(n)
    return f"{base}余"


def quoted(short: str) -> str:
    return f"“{short}”"


def rate_text(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


ORDINALS = "一二三四五六七八九十"
H_MEDIA = "利用新媒体普法"
H_CAMPAIGNS = "长抓常规普法"
H_SCHOOL = "做实青少年法治教育"
H_TRAINING = "开展“法律明白人”培训"
H_OFFLINE = "开展线下普法活动"
H_QUESTIONS = "回应群众法律咨询"


def sentences(report: Report, settings: ReportsSettings) -> list[str]:
    """The section's sentences for the whole period, in the order the town's report uses."""
    return [body for _, body in items(report.total, settings)]


def items(f: Figures, settings: ReportsSettings) -> list[tuple[str, str]]:
    """(heading, sentence) pairs, e.g. ("利用新媒体普法", "利用钉钉、微信公众号，发送有关法律知识80余条")."""

    def a(n: int) -> str:
        return approx(n, settings)

    out: list[tuple[str, str]] = []
    channels = [c for c in ("dingtalk", "wechat") if f.pushes.by_channel.get(c)]
    if channels:
        text = T_PUSHES.format(channels="、".join(CHANNEL_NAMES[c] for c in channels), n=a(f.pushes.total))
        if f.pushes.wechat_sent_count:
            text += T_SENT_COUNT.format(n=a(f.pushes.wechat_sent_count))
        fo = f.followers
        if fo.new or fo.lost:
            # Rounded like the figures beside it: "新增关注1230余人，净增1187人" read as two sources.
            net = f"净增{a(fo.net)}人" if fo.net >= 0 else f"净减少{a(-fo.net)}人"
            text += "；" + T_FOLLOWERS.format(new=a(fo.new), net=net, end=a(fo.end))
        out.append((H_MEDIA, text))
    covered = [c for c in f.campaigns if c.covered]
    missed = [c for c in f.campaigns if not c.covered]
    if covered:
        text = T_CAMPAIGNS.format(points="、".join(quoted(c.short) for c in covered), n=a(len(covered)))
        if missed:
            text += T_CAMPAIGNS_MISSED.format(points="、".join(quoted(c.short) for c in missed))
        out.append((H_CAMPAIGNS, text))
    acts = f.activities
    if "送法入校" in acts:
        school = acts["送法入校"]
        text = T_SCHOOL.format(n=a(school.count))
        if school.materials:
            text += T_MATERIALS.format(n=a(school.materials))
        out.append((H_SCHOOL, text))
    if "法律明白人培训" in acts:
        out.append((H_TRAINING, T_TRAINING.format(n=a(acts["法律明白人培训"].count))))
    offline: list[str] = []
    if "法治讲座" in acts:
        offline.append(T_LECTURE.format(n=a(acts["法治讲座"].count), people=a(acts["法治讲座"].participants)))
    if "宣传咨询/赶场宣传" in acts:
        fair = acts["宣传咨询/赶场宣传"]
        offline.append(T_FAIR.format(n=a(fair.count), materials=a(fair.materials)))
    if "干部学法" in acts:
        offline.append(T_CADRES.format(n=a(acts["干部学法"].count)))
    if "以案释法" in acts:
        offline.append(T_CASES.format(n=a(acts["以案释法"].count)))
    if offline:
        out.append((H_OFFLINE, "，".join(offline)))
    q = f.questions
    if q.received or f.staff.received:
        out.append((H_QUESTIONS, T_QUESTIONS.format(
            answered=a(q.answered), received=a(q.received), rate=rate_text(q.answer_rate),
            left=a(f.staff.received), replied=a(f.staff.replied))))
    return out


def paragraphs(report: Report, settings: ReportsSettings) -> list[str]:
    """"一是利用新媒体普法。充分利用钉钉、微信公众号，发送有关法律知识80余条；" … the last ends with 。"""
    pairs = items(report.total, settings)
    if not pairs:
        return [T_NOTHING + "。"]
    out = []
    for i, (heading, body) in enumerate(pairs):
        end = "。" if i == len(pairs) - 1 else "；"
        out.append(f"{ORDINALS[i] if i < len(ORDINALS) else i + 1}是{heading}。{body}{end}")
    return out
