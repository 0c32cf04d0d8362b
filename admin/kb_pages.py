"""问答库: search and edit entries (citations beside their article text), publish/unpublish (then
the knowledge base is rebuilt through the holder), and the hit test — the same code path as
``pufa ask`` (bot/ask.py), with the entry ranking shown beside the answer."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web
from sqlalchemy import select

from admin import audit
from admin.security import redirect
from admin.web import HOLDER, SERVICES, SESSIONS, SETTINGS, render, staff_of
from bot.ask import ask, outcome_json
from bot.db.base import utcnow
from bot.db.models import KbEntry
from bot.knowledge_service import KnowledgeHolder, entries_dir
from bot.routing import build_dispatcher
from knowledge.check import check_citations
from knowledge.entries import EntryError, entry_from_dict, load_entries
from knowledge.lawnames import normalize_law_name
from knowledge.laws import article_label, cite_fields, parse_article_ref, sub_suffix
from knowledge.match import CHAT_TIER

routes = web.RouteTableDef()
STATUS_NAMES = {"published": "已发布", "draft": "草稿", "retired": "已下线"}
# `pufa ask` statuses as staff read them on the hit test (the code stays in data-status).
HIT_STATUS = {"answered": "直接回答", "ambiguous": "列出候选问题让群众选", "no_match": "答不上来（记入未答问题）",
              "command": "口令或寒暄"}
HIT_CHAT = "和法律无关（闲聊，单独列在未答问题页下方）"  # a no_match of tier CHAT_TIER
# A draft made from unanswered questions (admin/unanswered.py) until staff write it: never published so.
DRAFT_ANSWER = "（草稿：请根据所引法条写出给群众看的答案，再发布。）"
DRAFT_TOPIC_KEY = "draft"
# …and its citation when the engine suggested none (an entry needs one to be stored).
DRAFT_CITATION = {"law": "民法典", "article": 1, "quote": ""}
# What stops an entry from reaching residents, as staff read it (knowledge/check.py kinds). An entry
# cited without a quote may be published: staff see the article beside the form.
PUBLISH_BLOCKERS = {
    "unknown_law": "法条库里没有{ref}这部法律，请核对法律名称",
    "missing_article": "法条库里没有{ref}，请核对条号",
    "quote_not_found": "{ref}的原文里找不到所填的引文，请核对",
    "too_many_citations": "最多引用3条法条",
    "answer_too_long": "答案太长：每段不超过500个汉字（可以用单独一行 --- 分段）",
}
_DISPATCHER = build_dispatcher()


def _lines(text: str) -> list[str]:
    return [ln.strip() for ln in re.split(r"[\r\n]+", text) if ln.strip()]


def _words(text: str) -> list[str]:
    return [w for w in (p.strip() for p in re.split(r"[,，、\s]+", text)) if w]


def _citations(text: str) -> list[dict[str, Any]]:
    """One per line: ``民法典 1079``, ``民法典 第1079条`` or ``刑法 287之二``, then the quote."""
    out = []
    for line in _lines(text):
        m = re.match(r"^《?(?P<law>[^》\s]+)》?\s*(?P<n>第?\d+条?(?:之[一二三四五六七八九1-9])?)\s*(?P<quote>.*)$",
                     line)
        if not m:
            raise EntryError([f"引用“{line}”应写成：法律名称 条号，例如 民法典 1079、刑法 287之二"])
        try:
            number, sub = parse_article_ref(m["n"])
        except ValueError:
            raise EntryError([f"引用“{line}”的条号不对：条号从 1 开始，例如 民法典 1079"]) from None
        out.append({**cite_fields(normalize_law_name(m["law"]), number, sub), "quote": m["quote"].strip()})
    return out


async def ensure_imported(request: web.Request) -> None:
    """Entries are edited in the database; the first visit copies the bundled files there once."""
    sessions = request.config_dict[SESSIONS]
    async with sessions() as s, s.begin():
        if (await s.execute(select(KbEntry.id).limit(1))).first() is not None:
            return
        from bot.cli.kb import entry_row

        now = utcnow()
        for e in load_entries(entries_dir(request.config_dict[SETTINGS])):
            s.add(KbEntry(**entry_row(e, now)))


async def reload_kb(request: web.Request) -> None:
    holder: KnowledgeHolder = request.config_dict[HOLDER]
    if holder.sessions is None:
        holder.sessions = request.config_dict[SESSIONS]
    await holder.load()


def article_text(request: web.Request, law: str, number: int, sub: int = 0) -> str:
    art = request.config_dict[HOLDER].current.article(law, number, sub)
    return art.text if art is not None else "（法条库中找不到这一条，请核对）"


@routes.get("/kb")
async def kb_list(request: web.Request) -> web.StreamResponse:
    await ensure_imported(request)
    q = request.query.get("q", "").strip()
    async with request.config_dict[SESSIONS]() as s:
        stmt = select(KbEntry).order_by(KbEntry.topic_key, KbEntry.id)
        if q:
            like = f"%{q}%"
            stmt = stmt.where(KbEntry.question.like(like) | KbEntry.answer.like(like) | KbEntry.id.like(like))
        rows = list((await s.execute(stmt)).scalars())
    return render(request, "kb_list.html", active="kb", rows=rows[:300], total=len(rows), q=q,
                  status_names=STATUS_NAMES)


def _form_entry(form: Any, base: KbEntry | None) -> dict[str, Any]:
    raw = {
        "id": str(form.get("id", base.id if base else "")).strip(),
        "topic_key": str(form.get("topic_key", "")).strip(), "topic": str(form.get("topic", "")).strip(),
        "question": str(form.get("question", "")).strip(), "similar": _lines(str(form.get("similar", ""))),
        "keywords": _words(str(form.get("keywords", ""))), "answer": str(form.get("answer", "")).strip(),
        "citations": _citations(str(form.get("citations", ""))), "tags": _words(str(form.get("tags", ""))),
        "contacts": list(base.contacts) if base else [], "status": base.status if base else "draft",
        "reviewed": base.reviewed if base else None,
    }
    entry_from_dict(raw)  # the loader's own checks: required fields, citation shape, lengths
    return raw


def publish_problems(request: web.Request, raw: dict[str, Any]) -> list[str]:
    """Why this entry may not be shown to residents (empty: it may): a draft's placeholder answer or
    topic, or citations the law corpus does not bear out — the bot would cite them as the law."""
    problems = []
    if DRAFT_ANSWER in raw["answer"]:
        problems.append("答案还是草稿提示，请先写好给群众看的答案")
    if raw["topic_key"] == DRAFT_TOPIC_KEY:
        problems.append("分类还是“待整理”，请改成正式分类（例如 分类代码 land、分类名称 农村土地）")
    if not raw["citations"]:
        problems.append("发布前至少引用一条法条")
    if DRAFT_CITATION in raw["citations"]:
        problems.append("引用的还是草稿占位的《民法典》第1条，请填写真正依据的法条")
    try:
        entry = entry_from_dict({**raw, "status": "published"})
    except EntryError as exc:  # a stored row the form never checked (an import, an older version)
        return problems + exc.problems
    corpus = request.config_dict[HOLDER].current.corpus
    problems += [PUBLISH_BLOCKERS[p.kind].format(ref=p.ref) for p in check_citations([entry], corpus)
                 if p.kind in PUBLISH_BLOCKERS]
    return problems


def _row_raw(row: KbEntry) -> dict[str, Any]:
    return {"id": row.id, "topic_key": row.topic_key, "topic": row.topic, "question": row.question,
            "similar": list(row.similar), "keywords": list(row.keywords), "answer": row.answer,
            "citations": list(row.citations), "tags": list(row.tags), "contacts": list(row.contacts),
            "status": row.status, "reviewed": row.reviewed}


def _edit_ctx(request: web.Request, row: KbEntry | None, raw: dict[str, Any] | None) -> dict[str, Any]:
    src: Any = raw if raw is not None else (row.__dict__ if row is not None else {})
    cites = list(src.get("citations", []))
    return {
        "row": row, "f": {
            "id": src.get("id", ""), "topic_key": src.get("topic_key", ""), "topic": src.get("topic", ""),
            "question": src.get("question", ""), "similar": "\n".join(src.get("similar", [])),
            "keywords": "、".join(src.get("keywords", [])), "answer": src.get("answer", ""),
            "citations": "\n".join(
                f"{c['law']} {c['article']}{sub_suffix(c.get('sub', 0))} {c.get('quote', '')}".strip()
                for c in cites),
            "tags": "、".join(src.get("tags", [])),
        },
        "cites": [{"law": c["law"], "label": article_label(int(c["article"]), c.get("sub", 0)),
                   "text": article_text(request, c["law"], int(c["article"]), c.get("sub", 0))} for c in cites],
        "status_names": STATUS_NAMES, "active": "kb",
    }


@routes.get("/kb/new")
async def kb_new(request: web.Request) -> web.StreamResponse:
    raw: dict[str, Any] = {"id": "", "topic_key": "", "topic": "", "question": request.query.get("question", ""),
                           "keywords": _words(request.query.get("keywords", "")), "similar": _lines(
                               request.query.get("similar", "")), "answer": "", "citations": [], "tags": []}
    return render(request, "kb_edit.html", error="", saved=False, **_edit_ctx(request, None, raw))


@routes.get("/kb/{id}")
async def kb_edit(request: web.Request) -> web.StreamResponse:
    async with request.config_dict[SESSIONS]() as s:
        row = await s.get(KbEntry, request.match_info["id"])
    if row is None:
        raise web.HTTPNotFound(text="没有这条问答")
    return render(request, "kb_edit.html", error="", saved=request.query.get("saved") == "1",
                  **_edit_ctx(request, row, None))


@routes.post("/kb/save")
async def kb_save(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    original = str(form.get("original", ""))
    sessions = request.config_dict[SESSIONS]
    async with sessions() as s:
        base = await s.get(KbEntry, original) if original else None
    try:
        raw = _form_entry(form, base)
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]{1,79}", raw["id"]):
            raise EntryError(["编号只能用小写字母、数字和连字符，例如 labor-overtime-pay"])
    except EntryError as exc:
        return render(request, "kb_edit.html", status=400, error="；".join(exc.problems), saved=False,
                      **_edit_ctx(request, base, _safe_raw(form, base)))
    # 保存并发布, or saving an entry residents already read: checked before anything is written, and
    # on refusal the form comes back as typed.
    publish = form.get("publish") == "1"
    if publish or (base is not None and base.status == "published"):
        problems = publish_problems(request, raw)
        if problems:
            what = "不能发布" if publish else "这条问答已发布，改动没有保存"
            return render(request, "kb_edit.html", status=400, error=f"{what}：" + "；".join(problems), saved=False,
                          **_edit_ctx(request, base, raw))
    async with sessions() as s, s.begin():
        row = await s.get(KbEntry, original or raw["id"])
        if row is None:
            if await s.get(KbEntry, raw["id"]) is not None:
                return render(request, "kb_edit.html", status=400, error=f"编号 {raw['id']} 已被使用", saved=False,
                              **_edit_ctx(request, None, raw))
            row = KbEntry(id=raw["id"], status="draft")
            s.add(row)
        for key in ("topic_key", "topic", "question", "similar", "keywords", "answer", "citations", "tags"):
            setattr(row, key, raw[key])
        row.updated_at = utcnow()
        await audit.record(s, staff_of(request).name, "edit", f"问答 {row.id}", row.question[:100])
        if publish and row.status != "published":
            row.status = "published"
            await audit.record(s, staff_of(request).name, "publish", f"问答 {row.id}", STATUS_NAMES["published"])
    if row.status == "published":
        await reload_kb(request)
    return redirect(f"/admin/kb/{row.id}?saved=1")


def _safe_raw(form: Any, base: KbEntry | None) -> dict[str, Any]:
    """What the staff typed, to show the form again after a refusal."""
    try:
        cites = _citations(str(form.get("citations", "")))
    except EntryError:
        cites = []
    return {"id": str(form.get("id", "")), "topic_key": str(form.get("topic_key", "")),
            "topic": str(form.get("topic", "")), "question": str(form.get("question", "")),
            "similar": _lines(str(form.get("similar", ""))), "keywords": _words(str(form.get("keywords", ""))),
            "answer": str(form.get("answer", "")), "citations": cites, "tags": _words(str(form.get("tags", "")))}


@routes.post("/kb/{id}/status")
async def kb_status(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    status = str(form.get("status", ""))
    if status not in STATUS_NAMES:
        raise web.HTTPBadRequest(text="未知的状态")
    async with request.config_dict[SESSIONS]() as s, s.begin():
        row = await s.get(KbEntry, request.match_info["id"])
        if row is None:
            raise web.HTTPNotFound(text="没有这条问答")
        problems = publish_problems(request, _row_raw(row)) if status == "published" else []
        if problems:
            return render(request, "kb_edit.html", status=400, error="不能发布：" + "；".join(problems), saved=False,
                          **_edit_ctx(request, row, None))
        row.status = status
        row.updated_at = utcnow()
        await audit.record(s, staff_of(request).name, "publish", f"问答 {row.id}", STATUS_NAMES[status])
    await reload_kb(request)
    return redirect(f"/admin/kb/{request.match_info['id']}?saved=1")


@routes.get("/hit-test")
async def hit_test(request: web.Request) -> web.StreamResponse:
    question = request.query.get("q", "").strip()[:500]
    result: dict[str, Any] | None = None
    ranking: list[dict[str, Any]] = []
    label = ""
    if question:
        # The same call as `pufa ask`: dispatcher, handlers and the knowledge base the bot is using.
        outcome = await ask(_DISPATCHER, request.config_dict[SERVICES], question)
        result = outcome_json(outcome)
        label = HIT_CHAT if outcome.tier == CHAT_TIER else HIT_STATUS.get(result["status"], result["status"])
        kb = (await request.config_dict[HOLDER].own_index()).kb
        analysis = kb.analyze(question)
        if analysis.words:
            ranked = kb.rank_entries(analysis, k=8)
            entries = kb.entries()
            ranking = [{"id": entries[d].id, "question": entries[d].question, "score": round(sc, 3)}
                       for d, sc in zip(ranked.docs, ranked.scores, strict=True)]
    return render(request, "hit_test.html", active="kb", q=question, result=result, ranking=ranking,
                  status_label=label)
