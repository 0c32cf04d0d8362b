"""未答问题: residents' questions the bot could not answer, grouped by their keywords (the report's
grouping, reports/figures.py), with counts. Questions the law tier answered count too: they got
possibly related articles, no written answer, and are what staff should write entries for next.
Messages taken for chit-chat (tier CHAT_TIER: weather, crops) are grouped apart, folded, so that a
legal question worded without any legal word is not lost. One click turns a group into a draft entry
whose citations the engine suggests. Example texts are residents' words: shown to admins only."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import timedelta
from typing import Any

from aiohttp import web
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from admin import audit
from admin.kb_pages import DRAFT_ANSWER, DRAFT_CITATION, DRAFT_TOPIC_KEY, ensure_imported
from admin.security import redirect
from admin.web import HOLDER, SESSIONS, render, staff_of
from bot.db.base import utcnow
from bot.db.models import InboundMessage, KbEntry
from knowledge.laws import cite_fields
from knowledge.match import CHAT_TIER
from reports.figures import NO_KEYWORDS, keyword_group, not_chat

routes = web.RouteTableDef()
DAYS = 90
EXAMPLES = 3
LABEL_WORDS = 4


async def groups(request: web.Request, *, chat: bool = False) -> list[dict[str, Any]]:
    return await unanswered_groups(request.config_dict[SESSIONS], chat=chat)


async def unanswered_groups(sessions: async_sessionmaker[AsyncSession], *,
                            chat: bool = False) -> list[dict[str, Any]]:
    """The groups of questions without a written answer; ``chat``: those of the chit-chat instead."""
    since = utcnow() - timedelta(days=DAYS)
    m = InboundMessage
    which = m.tier == CHAT_TIER if chat else not_chat()
    async with sessions() as s:
        rows = (await s.execute(select(m.keywords, m.text, m.received_at)
                                .where(or_(m.outcome == "no_match", m.tier == "law"), m.received_at >= since, which)
                                .order_by(m.received_at.desc()))).all()
    exact: dict[str, dict[str, Any]] = defaultdict(lambda: {"count": 0, "examples": [], "last": None})
    for keywords, text, at in rows:
        g = exact[keyword_group(keywords)]
        g["count"] += 1
        g["last"] = g["last"] or at
        if text and len(g["examples"]) < EXAMPLES and text not in g["examples"]:
            g["examples"].append(text)
    return [{"group": label, "key": group_key(label), **c} for label, c in merge(exact)]


def merge(exact: dict[str, dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """Merge keyword sets that share at least half of the smaller one's words (火星、土豆、种 with
    火星、土豆、种植、方法), biggest first; a cluster is named by its most frequent words."""
    clusters: list[dict[str, Any]] = []
    for name, g in sorted(exact.items(), key=lambda kv: (-kv[1]["count"], kv[0])):
        words = set() if name == NO_KEYWORDS else set(name.split("、"))
        home = next((c for c in clusters if words and c["words"]
                     and len(words & c["words"]) * 2 >= min(len(words), len(c["words"]))), None)
        if home is None:
            home = {"words": set(), "freq": defaultdict(int), "count": 0, "examples": [], "last": None}
            clusters.append(home)
        home["words"] |= words
        for w in words:
            home["freq"][w] += g["count"]
        home["count"] += g["count"]
        home["last"] = max(filter(None, (home["last"], g["last"])))
        home["examples"] += [e for e in g["examples"] if e not in home["examples"]][: EXAMPLES - len(home["examples"])]
    out = []
    for c in clusters:
        top = sorted(c["freq"], key=lambda w: (-c["freq"][w], w))[:LABEL_WORDS]
        out.append(("、".join(top) if top else NO_KEYWORDS,
                    {"count": c["count"], "examples": c["examples"], "last": c["last"]}))
    return sorted(out, key=lambda kv: (-kv[1]["count"], kv[0]))


def group_key(group: str) -> str:
    return hashlib.sha1(group.encode()).hexdigest()[:10]


@routes.get("/unanswered")
async def unanswered(request: web.Request) -> web.StreamResponse:
    return render(request, "unanswered.html", active="unanswered", groups=await groups(request),
                  chat_groups=await groups(request, chat=True), days=DAYS, no_keywords=NO_KEYWORDS)


@routes.post("/unanswered/draft")
async def to_draft(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    key = str(form.get("key", ""))
    found = next((g for g in [*await groups(request), *await groups(request, chat=True)] if g["key"] == key), None)
    if found is None:
        raise web.HTTPNotFound(text="这组问题已经没有了，请刷新页面")
    await ensure_imported(request)
    words = [] if found["group"] == NO_KEYWORDS else found["group"].split("、")
    examples: list[str] = found["examples"]
    question = examples[0] if examples else "".join(words) + "怎么办？"
    kb = (await request.config_dict[HOLDER].own_index()).kb
    cites = [{**cite_fields(*key), "quote": ""} for key in kb.rank_citations(" ".join([question, *words]), 2)]
    entry_id = f"draft-{key}"
    async with request.config_dict[SESSIONS]() as s, s.begin():
        if await s.get(KbEntry, entry_id) is None:
            s.add(KbEntry(id=entry_id, topic_key=DRAFT_TOPIC_KEY, topic="待整理", question=question[:500],
                          similar=examples[1:], keywords=words, answer=DRAFT_ANSWER,
                          citations=cites or [dict(DRAFT_CITATION)], tags=[], contacts=[],
                          status="draft", updated_at=utcnow()))
            await audit.record(s, staff_of(request).name, "edit", f"问答 {entry_id}",
                               f"由未答问题“{found['group']}”（{found['count']} 次）生成草稿")
    return redirect(f"/admin/kb/{entry_id}")
