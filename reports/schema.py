"""The JSON form of a report: a stable, documented contract (docs/reports.md, schema ``pufa.report/1``).

Fields are only ever added within a schema version; renaming or removing one needs ``pufa.report/2``.
No openids appear anywhere; message texts only under ``texts`` when asked for (--include-texts).
"""

from __future__ import annotations

from typing import Any

from bot.config import ReportsSettings
from reports.figures import Figures, Report, top
from reports.texts import MessageText
from reports.wording import approx, sentences

SCHEMA = "pufa.report/1"


def figures_dict(f: Figures, report: Report, settings: ReportsSettings) -> dict[str, Any]:
    q, fo, st, p = f.questions, f.followers, f.staff, f.pushes
    names = report.topic_names
    return {
        "key": f.key,
        "label": f.label,
        "first": f.first.isoformat(),
        "last": f.last.isoformat(),
        "questions": {
            "received": q.received, "answered": q.answered, "ambiguous": q.ambiguous,
            "unanswered": q.unanswered, "no_match": q.no_match, "failed": q.failed,
            "answer_rate": q.answer_rate, "commands": q.commands,
            "chat": q.chat,
        },
        "top_topics": [{"topic": k, "name": names.get(k, k), "answered": n} for k, n in top(f.topics, report.top_n)],
        "top_unanswered": [{"keywords": k, "count": n} for k, n in top(f.unanswered_groups, report.top_n)],
        "staff_messages": {"received": st.received, "replied": st.replied,
                           "median_reply_hours": st.median_reply_hours},
        "followers": {"start": fo.start, "new": fo.new, "lost": fo.lost, "net": fo.net, "end": fo.end,
                      "source": fo.source},
        "pushes": {
            "total": p.total,
            "by_channel": {c: p.by_channel.get(c, 0) for c in ("wechat", "dingtalk")}
            | {c: n for c, n in p.by_channel.items() if c not in ("wechat", "dingtalk")},
            "wechat_sent_count": p.wechat_sent_count,
            "attempts": p.attempts, "retries": p.retries, "failed_attempts": p.failed_attempts,
        },
        "campaigns": [
            {"key": c.key, "name": c.name, "short": c.short, "first": c.first.isoformat(),
             "last": c.last.isoformat(), "covered": c.covered, "items": c.items}
            for c in f.campaigns
        ],
        "activities": {
            "total": {"count": f.activity_total.count, "participants": f.activity_total.participants,
                      "materials": f.activity_total.materials},
            "by_type": {k: {"count": a.count, "participants": a.participants, "materials": a.materials}
                        for k, a in sorted(f.activities.items())},
        },
    }


def to_dict(report: Report, settings: ReportsSettings, texts: list[MessageText] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "schema": SCHEMA,
        "generated_at": report.generated_at.isoformat(timespec="seconds"),
        "timezone": "Asia/Shanghai",
        "period": {"kind": report.period.kind, "key": report.period.key, "label": report.period.label,
                   "first": report.period.first.isoformat(), "last": report.period.last.isoformat()},
        "rounding": {"threshold": settings.round_threshold, "unit": settings.round_unit,
                     "yu_on_exact": settings.round_yu_on_exact},
        "total": figures_dict(report.total, report, settings),
        "months": [figures_dict(m, report, settings) for m in report.months],
        "sentences": sentences(report, settings),
        "rounded": {
            "pushes": approx(report.total.pushes.total, settings),
            "materials": approx(report.total.activity_total.materials, settings),
            "questions_answered": approx(report.total.questions.answered, settings),
        },
    }
    if texts is not None:
        out["texts"] = [t.as_dict() for t in texts]
    return out
