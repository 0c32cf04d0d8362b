"""`pufa kb eval`: how well the knowledge base answers, on the resident dev set and on STARD.

The resident set is split by a hash of the question: two thirds *tune* (thresholds and calibration
may be fitted on it), one third *held-out* (only ever reported). STARD is only reported too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from knowledge.baselines import BASELINES
from knowledge.engine import Candidate, KnowledgeBase, Match
from knowledge.entries import Entry
from knowledge.lawnames import normalize_law_name
from knowledge.laws import Cite

__all__ = ["DevItem", "EvalReport", "SetScores", "evaluate", "load_dev", "render_markdown", "split_of"]



@dataclass(frozen=True)
class DevItem:
    q: str
    cite: tuple[Cite, ...]  # every article an acceptable answer may cite first; () = out of scope
    topic: str = ""

    @property
    def in_scope(self) -> bool:
        return bool(self.cite)


@dataclass(frozen=True)
class SetScores:
    name: str
    n: int
    n_in_scope: int
    top1: float  # answered, and the first citation is a gold article (share of in-scope questions)
    top1_with_choice: float  # … or ambiguous with a candidate whose first citation is gold
    any_cite: float  # answered, and any of the answer's citations is a gold article (lenient)
    wrong: float  # a written answer (an entry) with a non-gold first citation (share of in-scope)
    ambiguous: float  # share of all questions
    law_tier: float  # share of in-scope questions answered from the law tier
    oos_rejection: float  # out-of-scope questions that got no_match
    cited_first: float = 0.0  # any reply (answered, ambiguous, law tier) whose first citation is gold
    # Law-tier replies ("no written answer; these articles may be related") whose first article is
    # not gold: hedged, so counted apart from wrong written answers.
    law_wrong: float = 0.0
    # Wrong written answers that offer, below them, an alternative whose first article is gold (one
    # digit away for the resident; Match.alternatives).
    wrong_offered: float = 0.0


@dataclass(frozen=True)
class StardScores:
    name: str
    n: int
    hit1: float
    hit3: float


@dataclass(frozen=True)
class EvalReport:
    resident: tuple[SetScores, ...]
    stard: tuple[StardScores, ...]


def load_dev(path: Path | str) -> list[DevItem]:
    items = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            raw = json.loads(line)
            cite = tuple((normalize_law_name(law), int(art)) for law, art in raw.get("cite", []))
            items.append(DevItem(raw["q"], cite, raw.get("topic", "")))
    return items


def split_of(question: str) -> str:
    """'tune' or 'heldout', fixed by the question text alone (adding questions moves no other)."""
    digest = hashlib.sha256(question.strip().encode("utf-8")).digest()
    return "heldout" if int.from_bytes(digest[:8], "big") % 3 == 0 else "tune"


def first_cite(match: Match) -> Cite | None:
    return match.citations[0].key if match.citations else None


def score_resident(name: str, items: Sequence[DevItem], matcher: Callable[[str], Match],
                   kb: KnowledgeBase | None = None) -> SetScores:
    """``kb``: pufa's own knowledge base (candidates are judged by its entries, and its law-tier
    replies are hedged); None for a baseline, whose article replies are plain answers."""
    hedged = kb is not None
    inside = [i for i in items if i.in_scope]
    outside = [i for i in items if not i.in_scope]
    top1 = choice = wrong = amb = law = law_wrong = rejected = anyc = cited = offered = 0
    for item in items:
        m = matcher(item.q)
        amb += m.status == "ambiguous"
        if not item.in_scope:
            rejected += m.status == "no_match"
            continue
        got = first_cite(m)
        cited += got in item.cite
        if m.status == "answered":
            ok = got in item.cite
            top1 += ok
            anyc += any(c.key in item.cite for c in m.citations)
            choice += ok
            law_reply = hedged and m.tier == "law"
            wrong += not ok and not law_reply
            offered += not ok and not law_reply and kb is not None and _offers(kb, m.alternatives, item.cite)
            law += law_reply
            law_wrong += not ok and law_reply
        elif m.status == "ambiguous" and kb is not None:
            choice += _offers(kb, m.candidates, item.cite)
    n_in = max(1, len(inside))
    return SetScores(name, len(items), len(inside), top1 / n_in, choice / n_in, anyc / n_in, wrong / n_in,
                     amb / max(1, len(items)), law / n_in, rejected / max(1, len(outside)), cited / n_in,
                     law_wrong / n_in, offered / n_in)


def _offers(kb: KnowledgeBase, candidates: Sequence[Candidate], gold: Sequence[Cite]) -> bool:
    """Whether one of the numbered entries rests on a gold article (its first citation)."""
    entries = [kb.entry(c.entry_id) for c in candidates]
    return any(e is not None and e.citations[0].key in gold for e in entries)


def reply_citations(kb: KnowledgeBase) -> Callable[[str], list[Cite]]:
    return lambda q: [c.key for c in kb.match(q).citations]


def score_stard(name: str, items: Sequence[DevItem], ranker: Callable[[str], Sequence[Cite]]) -> StardScores:
    hit1 = hit3 = 0
    for item in items:
        ranked = list(ranker(item.q))
        hit1 += bool(ranked[:1]) and ranked[0] in item.cite
        hit3 += any(c in item.cite for c in ranked[:3])
    n = max(1, len(items))
    return StardScores(name, len(items), hit1 / n, hit3 / n)


def evaluate(kb: KnowledgeBase, resident: Iterable[DevItem], stard: Iterable[DevItem] = (),
             baselines: Sequence[Entry] | None = None) -> EvalReport:
    """``baselines``: the entries as written, to compare the baselines built from them (None: no
    baselines)."""
    items = list(resident)
    stard_items = list(stard)
    parts = {"tune": [i for i in items if split_of(i.q) == "tune"],
             "heldout": [i for i in items if split_of(i.q) == "heldout"]}
    res = [score_resident(f"pufa · {part}", its, kb.match, kb) for part, its in parts.items()]
    st = [score_stard("pufa (article ranking)", stard_items, kb.rank_citations)] if stard_items else []
    # What a resident (and `pufa ask`) gets: the reply's own citations, none for no_match. The law-tier
    # confidence is fitted on the tune part of STARD too (knowledge/fit.py), so the held-out part is
    # the figure to read.
    for part in ("tune", "heldout"):
        its = [i for i in stard_items if split_of(i.q) == part]
        if its:
            st.append(score_stard(f"pufa replies · {part}", its, reply_citations(kb)))
    if baselines is not None:
        for name, make in BASELINES.items():
            base = make(kb, baselines)
            res += [score_resident(f"{name} · {part}", its, base.match) for part, its in parts.items()]
            if stard_items:
                st.append(score_stard(name, stard_items, base.rank))
    return EvalReport(tuple(res), tuple(st))


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def render_markdown(report: EvalReport) -> str:
    lines = [
        "| system · split | questions (in scope) | top-1 | top-1 incl. choice | any citation | wrong answer"
        " | ambiguous | law tier | law tier, first article not gold | OOS rejected"
        " | first citation gold (any reply) | wrong answer, right one offered below |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in report.resident:
        cells = [s.top1, s.top1_with_choice, s.any_cite, s.wrong, s.ambiguous, s.law_tier, s.law_wrong,
                 s.oos_rejection, s.cited_first, s.wrong_offered]
        lines.append(f"| {s.name} | {s.n} ({s.n_in_scope}) | " + " | ".join(map(_pct, cells)) + " |")
    if report.stard:
        lines += ["", "| system (STARD dev) | questions | hit@1 | hit@3 |", "|---|---|---|---|"]
        lines += [f"| {s.name} | {s.n} | {s.hit1:.3f} | {s.hit3:.3f} |" for s in report.stard]
    return "\n".join(lines) + "\n"


def default_stard_path(repo_root: Path) -> Path:
    """STARD is shared data next to the repository; it is not copied into it."""
    return repo_root.parent / "shared" / "data" / "eval" / "stard_dev.jsonl"


def main(*, settings_entries: Path | None = None, laws: Path | None = None,
         stard: str | Path | None = None, write: bool = False, cache_dir: str | Path | None = None,
         calibrate: bool = False) -> int:
    """`pufa kb eval`: print the tables; with ``write`` also rewrite docs/evaluation.md."""
    from knowledge.evalrun import REPO_ROOT, run_eval, write_evaluation_doc  # evalrun imports this module

    run = run_eval(entries_dir=settings_entries, laws_dir=laws, stard=Path(stard) if stard else None,
                   recalibrate=calibrate, cache_dir=cache_dir)
    print(render_markdown(run.report))
    if write:
        write_evaluation_doc(run, REPO_ROOT / "docs" / "evaluation.md")
    return 0
