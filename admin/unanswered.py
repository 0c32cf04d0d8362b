"""未答问题: residents' questions the bot could not answer, grouped by their keywords (the report's
grouping, reports/figures.py), with counts; one click turns a group into a draft entry whose
citations the engine suggests. Example texts are residents' words: shown to admins only."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import timedelta
from typing import Any

from aiohttp import web
from sqlalchemy import select

from admin import audit
from admin.kb_pages import ensure_imported
from admin.security import redirect
from admin.web import HOLDER, SESSIONS, render, staff_of
from bot.db.base import utcnow
from bot.db.models import InboundMessage, KbEntry
from reports.figures import NO_KEYWORDS, keyword_group

routes = web.RouteTableDef()
DAYS = 90
EXAMPLES = 3
DRAFT_ANSWER = "（草稿：请根据所引法条写出给群众看的答案，再发布。）"


async def groups(request: web.Request) -> list[dict[str, Any]]:
    since = utcnow() - timedelta(days=DAYS)
    m = InboundMessage
    async with request.config_dict[SESSIONS]() as s:
        rows = (await s.execute(select(m.keywords, m.text, m.received_at)
                                .where(m.outcome == "no_match", m.received_at >= since)
                                .order_by(m.received_at.desc()))).all()
    out: dict[str, dict[str, Any]] = defaultdict(lambda: {"count": 0, "examples": [], "last": None})
    for keywords, text, at in rows:
        g = out[keyword_group(keywords)]
        g["count"] += 1
        g["last"] = g["last"] or at
        if text and len(g["examples"]) < EXAMPLES and text not in g["examples"]:
            g["examples"].append(text)
    listed = [{"group": k, "key": group_key(k), **v} for k, v in out.items()]
    return sorted(listed, key=lambda g: (-g["count"], g["group"]))


def group_key(group: str) -> str:
    return hashlib.sha1(group.encode()).hexdigest()[:10]


@routes.get("/unanswered")
async def unanswered(request: web.Request) -> web.StreamResponse:
    return render(request, "unanswered.html", active="unanswered", groups=await groups(request), days=DAYS,
                  no_keywords=NO_KEYWORDS)


@routes.post("/unanswered/draft")
async def to_draft(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    key = str(form.get("key", ""))
    found = next((g for g in await groups(request) if g["key"] == key), None)
    if found is None:
        raise web.HTTPNotFound(text="这组问题已经没有了，请刷新页面")
    await ensure_imported(request)
    words = [] if found["group"] == NO_KEYWORDS else found["group"].split("、")
    examples: list[str] = found["examples"]
    question = examples[0] if examples else "".join(words) + "怎么办？"
    kb = request.config_dict[HOLDER].current.kb
    cites = [{"law": law, "article": n, "quote": ""} for law, n in kb.rank_citations(" ".join([question, *words]), 2)]
    entry_id = f"draft-{key}"
    async with request.config_dict[SESSIONS]() as s, s.begin():
        if await s.get(KbEntry, entry_id) is None:
            s.add(KbEntry(id=entry_id, topic_key="draft", topic="待整理", question=question[:500],
                          similar=examples[1:], keywords=words, answer=DRAFT_ANSWER,
                          citations=cites or [{"law": "民法典", "article": 1, "quote": ""}], tags=[], contacts=[],
                          status="draft", updated_at=utcnow()))
            await audit.record(s, staff_of(request).name, "edit", f"问答 {entry_id}",
                               f"由未答问题“{found['group']}”（{found['count']} 次）生成草稿")
    return redirect(f"/admin/kb/{entry_id}")
