"""Turns knowledge-base results into the text a resident reads, with citations and next steps."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.config import Contact
from bot.dispatch import CandidateOut, CitationOut, Context, Outcome
from bot.wechat.replies import TextReply
from handlers import texts
from handlers.format import citation_text, citations_line, contacts_lines, split_pages
from knowledge.match import CHAT_TIER

DEFAULT_CONTACTS = ("hotline", "sifasuo")
# Where someone in danger turns once safe, before the defaults (keys of [[contacts]]).
URGENT_CONTACTS = {"violence": ("police", "women"), "fraud": ("antifraud", "police"),
                   "missing_child": ("police",)}
LAW_TIER_EXCERPT = 220
LAW_TIER_QUOTED = 2  # articles quoted in a law-tier reply; further ones are named


def contacts_for(ctx: Context, keys: Sequence[str]) -> list[Contact]:
    settings = ctx.services.settings
    chosen: list[Contact] = []
    for key in [*keys, *DEFAULT_CONTACTS]:
        contact = settings.contact(key)
        if contact is not None and contact not in chosen:
            chosen.append(contact)
    return chosen[:4]


def paged(ctx: Context, full: str, pages: list[str] | None = None) -> TextReply:
    """First page now; the rest is remembered for "继续". ``pages``: the reply already split (then
    ``full`` is not split again)."""
    if pages is None:
        pages = split_pages(full, ctx.services.settings.conversation.page_chars)
    ctx.conversation.remember(pages=pages[1:])
    if len(pages) > 1:
        return TextReply(pages[0] + "\n" + texts.MORE_HINT)
    return TextReply(pages[0] if pages else "")


def with_urgent(urgent: str | None, body: str) -> str:
    if urgent and urgent in texts.URGENT:
        return texts.URGENT[urgent] + "\n\n" + body
    return body


def entry_outcome(ctx: Context, entry: Any, score: float, *, urgent: str | None = None,
                  keywords: tuple[str, ...] = (), kind: str = "answered",
                  alternatives: Sequence[Any] = ()) -> Outcome:
    """A written answer; ``alternatives`` (knowledge.match.Candidate) are offered below it by number when
    the whole reply fits on one page (a list on a later page would be picked by a digit unseen)."""
    cites = tuple(CitationOut(c.law, c.article, c.sub) for c in entry.citations)
    parts = [entry.answer.strip()]
    if cites:
        parts.append(citations_line(c.ref for c in cites))
    parts.append(texts.NEXT_STEPS + "\n" + contacts_lines(contacts_for(ctx, entry.contacts)))
    if cites:
        parts.append(texts.ORIGINAL_HINT)
        ctx.conversation.remember(citation=cites[0].ref)
    full = with_urgent(urgent, "\n\n".join(parts))
    pages = None
    if alternatives:
        offered = [(c.entry_id, c.question) for c in alternatives]
        listed = split_pages(full + "\n\n" + choice_text(texts.ALTERNATIVES, offered),
                             ctx.services.settings.conversation.page_chars)
        if len(listed) == 1:
            ctx.conversation.remember(candidates=[entry_id for entry_id, _ in offered])
            pages = listed
    reply = paged(ctx, full, pages)
    return Outcome(reply=reply, kind=kind, tier="entry", entry_id=entry.id, score=score,
                   citations=cites, keywords=keywords)


def law_outcome(ctx: Context, match: Any) -> Outcome:
    lines = [texts.LAW_TIER_HEADER]
    for art in match.articles[:LAW_TIER_QUOTED]:
        body = art.text if len(art.text) <= LAW_TIER_EXCERPT else art.text[:LAW_TIER_EXCERPT] + "……"
        lines.append(f"{citation_text(art.law, art.number, art.sub)}：{body}")
    further = [(art.law, art.number, art.sub) for art in match.articles[LAW_TIER_QUOTED:]]
    if further:  # every cited article is named in the reply; the quotes stay short enough to read
        lines.append(citations_line(further, texts.LAW_TIER_FURTHER))
    lines.append(texts.LAW_TIER_CAVEAT)
    lines.append(texts.NEXT_STEPS + "\n" + contacts_lines(contacts_for(ctx, ())))
    lines.append(texts.ORIGINAL_HINT)
    cites = tuple(CitationOut(c.law, c.article, c.sub) for c in match.citations)
    if cites:
        ctx.conversation.remember(citation=cites[0].ref)
    reply = paged(ctx, with_urgent(match.urgent, "\n\n".join(lines)))
    return Outcome(reply=reply, kind="answered", tier="law", score=match.score, citations=cites,
                   keywords=tuple(match.keywords))


def choice_text(header: str, items: Sequence[tuple[str, str]]) -> str:
    lines = [header]
    lines += [f"{i}. {question}" for i, (_, question) in enumerate(items, 1)]
    lines.append(texts.CHOOSE_HINT)
    return "\n".join(lines)


def choice_list(ctx: Context, header: str, items: Sequence[tuple[str, str]]) -> str:
    """Numbered questions; the ids are remembered so that a digit picks one."""
    ctx.conversation.remember(candidates=[entry_id for entry_id, _ in items])
    return choice_text(header, items)


def ambiguous_outcome(ctx: Context, match: Any) -> Outcome:
    cands = tuple(CandidateOut(c.entry_id, c.question, c.score) for c in match.candidates[:3])
    body = choice_list(ctx, texts.AMBIGUOUS, [(c.entry_id, c.question) for c in cands])
    cites = tuple(CitationOut(c.law, c.article, c.sub) for c in match.citations)
    if cites:
        body += "\n" + citations_line((c.ref for c in cites), texts.CANDIDATE_LAWS)
        ctx.conversation.remember(citation=cites[0].ref)
    return Outcome(reply=TextReply(with_urgent(match.urgent, body)), kind="ambiguous", tier="entry",
                   score=match.score, citations=cites, candidates=cands, keywords=tuple(match.keywords))


def topic_menu(ctx: Context) -> str:
    topics = ctx.services.knowledge.topics()
    names = "、".join(name for _, name, _ in topics)
    return f"{texts.MENU_HEADER}\n{names}\n{texts.MENU_FOOTER}" if names else texts.MENU_FOOTER


def no_match_outcome(ctx: Context, match: Any) -> Outcome:
    office = ctx.services.settings.town.office
    if match.urgent in texts.URGENT:
        body = texts.URGENT_NO_MATCH + "\n" + contacts_lines(contacts_for(ctx, URGENT_CONTACTS.get(match.urgent, ())))
        return Outcome(reply=TextReply(with_urgent(match.urgent, body)), kind="no_match", tier="none",
                       score=match.score, keywords=tuple(match.keywords))
    tier: str = match.tier
    if tier == CHAT_TIER:
        # Not about law by its words: what pufa is for, without the promise that staff will answer.
        first = texts.CHAT.format(office=office)
    else:
        first = texts.NO_MATCH.format(office=office) + "\n" + contacts_lines(contacts_for(ctx, ()))
    body = first + "\n\n" + texts.NO_MATCH_TOPICS + "\n" + topic_menu(ctx)
    return Outcome(reply=TextReply(body), kind="no_match", tier=tier, score=match.score,
                   keywords=tuple(match.keywords))


def match_outcome(ctx: Context, match: Any) -> Outcome:
    if ctx.conversation.candidates:
        # A new question: a digit now would pick from a list the resident no longer sees.
        ctx.conversation.remember(candidates=[])
    if match.status == "answered" and match.tier == "entry" and match.entry is not None:
        return entry_outcome(ctx, match.entry, match.score, urgent=match.urgent,
                             keywords=tuple(match.keywords), alternatives=match.alternatives)
    if match.status == "answered" and match.tier == "law":
        return law_outcome(ctx, match)
    if match.status == "ambiguous" and match.candidates:
        return ambiguous_outcome(ctx, match)
    topic = topic_named(ctx, ctx.message.text, in_part=True)
    if topic is not None and match.urgent is None:
        # "土地", "劳动": one word of a topic's name is too little to answer, enough to list its questions.
        listed = topic_list_outcome(ctx, topic)
        if listed is not None:
            return listed
    return no_match_outcome(ctx, match)


def topic_named(ctx: Context, word: str, *, in_part: bool = False) -> str | None:
    """The key of the topic named ``word`` (menu words: 劳动用工), or with ``in_part`` of the one topic whose
    name contains it (two characters at least: 土地 → 农村土地); else None."""
    word = word.strip(" \t\n。！!？?，,、~～…").lower()
    if not word or len(word) > 12 or (in_part and len(word) < 2):
        return None
    found = [key for key, name, _ in ctx.services.knowledge.topics()
             if word == name.lower() or (in_part and word in name.lower())]
    return found[0] if len(found) == 1 else None


def topic_list_outcome(ctx: Context, topic_key: str) -> Outcome | None:
    for key, name, entries in ctx.services.knowledge.topics():
        if key == topic_key or name == topic_key:
            items = [(e.id, e.question) for e in entries[:9]]
            body = choice_list(ctx, texts.TOPIC_LIST.format(topic=name), items)
            return Outcome(reply=TextReply(body), kind="command")
    return None
