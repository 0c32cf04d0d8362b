"""Fitting the confidence model and thresholds on the tuning split (``pufa kb eval --calibrate``).

Only questions whose hash puts them in the tuning two thirds are used: of the resident dev set and,
for the law tier, of STARD (real lay questions, asked the way people outside our curated topics ask:
the law tier exists for them). The held-out thirds are never seen here.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, replace

from knowledge.calibration import Calibration, fit_logistic
from knowledge.engine import KnowledgeBase, read_everyday
from knowledge.evaluate import DevItem, split_of

__all__ = ["MAX_WRONG", "MIN_OOS_REJECTION", "Outcomes", "calibrate", "choose_thresholds"]

MIN_OOS_REJECTION = 0.97
# Widths of the candidate band below the answer threshold tried (a few, not a free grid: less to over-fit).
AMBIGUOUS_BANDS = (0.1, 0.15, 0.2, 0.25, 0.3)
# A wrong answer is worse than "I don't know": at most one in ten in-scope questions of the tuning
# split may get a written answer (an entry) whose first article is wrong (the 90 % top-1
# target leaves no more room than that). Within that, a wrong answer costs as much as a right one
# gains (answer when more likely right than wrong). The law tier's replies are not confident answers:
# they say that no answer is written for the question, show the articles as possibly related and give
# the referral, so they are weighed by the reward below, not capped.
MAX_WRONG = 0.10
REWARD = {"right": 1.0, "wrong": -1.0, "choice_right": 0.5, "choice_wrong": -0.3, "oos_answered": -2.0,
          "oos_choice": -1.0,
          # The law tier shows two articles under "相关法律规定", says they may not fit and gives the same
          # referral as "I don't know": a right article helps less than a written answer (the second
          # shown still helps), and an unrelated one costs little more than the referral alone.
          "law_right": 0.5, "law_near": 0.3, "law_wrong": -0.1}
_GRID = [i / 40 for i in range(1, 40)]
# Five questions' worth of reward: on a thousand questions, answer thresholds this close are equally
# good for residents (choose_thresholds lets the law tier decide between them), at most this many. Two
# were too few: the residents' best sat exactly on the out-of-scope cliff (97.0 %) and switched the law
# tier off although a threshold three points lower left it room (docs/evaluation.md).
RESIDENT_REWARD_SLACK = 5.0
MAX_CANDIDATES = 12


@dataclass(frozen=True)
class Outcomes:
    """Per question: the tier confidences and whether each tier's first answer would be right."""

    in_scope: bool
    entry_conf: float
    entry_right: bool
    choice_right: bool
    law_conf: float
    law_right: bool
    law_near: bool = False  # a gold article among the law tier's citations, not first
    legal_conf: float = 0.0  # that the message is a legal question at all
    tie: bool = False  # the best entries are a tie (calibration.TIE_MARGIN)


def _labels(kb: KnowledgeBase, items: Sequence[DevItem], cal: Calibration) -> list[Outcomes]:
    out = []
    judged = kb.with_calibration(cal)
    for item in items:
        a = kb.analyze(item.q)
        if not kb.legal_signal(a):  # never reaches the confidence model (KnowledgeBase.match)
            out.append(Outcomes(item.in_scope, 0.0, False, False, 0.0, False, False, 0.0))
            continue
        # An everyday example (and any with the same words) is left out of the everyday index while it
        # is judged (leave one out).
        everyday = kb.everyday_overlap(a, leave_out=True)
        er = kb.rank_entries(a, everyday=everyday)
        firsts = [kb.entries()[d].citations[0] for d in er.docs[:3]]
        cites = [c.key for c in firsts]
        lr, law_conf = judged.law_tier_confidence(a, everyday)
        law_top = [art.key for art in kb.law_tier_articles(lr)] if lr else []
        out.append(Outcomes(
            item.in_scope,
            cal.entry_confidence(er.features) if er.docs else 0.0,
            bool(cites) and cites[0] in item.cite,
            any(c in item.cite for c in cites),
            law_conf,
            bool(law_top) and law_top[0] in item.cite,
            any(c in item.cite for c in law_top),
            judged.legal_confidence(a, lr),
            er.features.tie if er.docs else False,
        ))
    return out


def _utility(rows: Sequence[Outcomes], answer: float, amb: float, law: float,
             law_first_at: float | None = None, legal: float = 1.01) -> tuple[float, float, float]:
    """(reward, out-of-scope rejection, wrong written answers per in-scope question), with the law
    tier first from ``law_first_at`` (default: ``law``) and for legal questions from ``legal``, routed
    as KnowledgeBase.match routes (Calibration.route)."""
    cal = Calibration(answer_threshold=answer, ambiguous_threshold=amb, law_threshold=law,
                      law_first_threshold=law if law_first_at is None else law_first_at, legal_threshold=legal)
    total, oos, rejected, wrong = 0.0, 0, 0, 0
    for r in rows:
        route = cal.route(r.entry_conf, r.law_conf, r.legal_conf, r.tie)
        if route == "answer":
            kind = ("right" if r.entry_right else "wrong") if r.in_scope else "oos_answered"
        elif route == "choose":
            kind = ("choice_right" if r.choice_right else "choice_wrong") if r.in_scope else "oos_choice"
        elif route == "law":
            kind = (("law_right" if r.law_right else "law_near" if r.law_near else "law_wrong")
                    if r.in_scope else "oos_answered")
        else:
            kind = "none" if r.in_scope else "rejected"
        total += REWARD.get(kind, 0.0)
        wrong += kind == "wrong"
        if not r.in_scope:
            oos += 1
            rejected += kind == "rejected"
    return total, rejected / max(1, oos), wrong / max(1, len(rows) - oos)


def choose_thresholds(rows: Sequence[Outcomes],
                      law_rows: Sequence[Outcomes] = ()) -> tuple[float, float, float, float, float]:
    """Answer and law thresholds by the reward above; the ambiguous band is one of a few widths below
    the answer threshold (less to over-fit on a few hundred questions than a free threshold).

    The answer threshold is chosen on the residents' questions (``rows``): it decides how often a
    resident gets a written answer. ``law_rows`` (lay questions outside the curated topics) then move
    the law tier's two thresholds (as a fallback, and before the entries), with the same out-of-scope
    constraint, and last the threshold above which any legal question gets the law tier. Among answer
    thresholds within ``RESIDENT_REWARD_SLACK`` of the residents' best, the one that leaves the best
    total reward with the law tier wins: the best for residents alone could use up the whole
    out-of-scope allowance on one more everyday message, leaving the law tier none.
    Returns (answer, ambiguous, law, law first, legal)."""
    if not rows:
        raise ValueError("no questions to choose thresholds on")
    near: dict[tuple[float, float], tuple[float, float]] = {}  # (answer, ambiguous) → (reward, law)
    for answer, band in ((a, b) for a in _GRID for b in AMBIGUOUS_BANDS):
        amb = round(max(0.0, answer - band), 3)
        for law in _GRID:
            value, rejection, wrong = _utility(rows, answer, amb, law)
            if rejection >= MIN_OOS_REJECTION and wrong <= MAX_WRONG and value > near.get((answer, amb), (-1e18,))[0]:
                near[(answer, amb)] = (value, law)
    if not near:
        raise ValueError(f"no thresholds reach {MIN_OOS_REJECTION:.0%} out-of-scope rejection with at most "
                         f"{MAX_WRONG:.0%} wrong answers on the tuning split: add content or negatives")
    best = max(value for value, _ in near.values())
    # Highest residents' reward first; equal rewards in grid order (the first found wins, as before).
    # Thresholds between the same two confidences route every question alike: one of each.
    confs = sorted(r.entry_conf for r in rows)
    seen: set[tuple[int, int]] = set()
    candidates = []
    for (answer, amb), (value, law) in sorted(near.items(), key=lambda kv: -kv[1][0]):
        routes = (bisect_left(confs, answer), bisect_left(confs, amb))
        if value >= best - RESIDENT_REWARD_SLACK and routes not in seen:
            seen.add(routes)
            candidates.append(((answer, amb), law))
    candidates = candidates[:MAX_CANDIDATES]
    if not law_rows:
        (answer, amb), law = candidates[0]
        return answer, amb, law, law, _legal_threshold(rows, answer, amb, law, law)
    choices = []
    for (answer, amb), law in candidates:
        law, first = _law_stage(rows, law_rows, answer, amb, law)
        legal = _legal_threshold([*rows, *law_rows], answer, amb, law, first)
        total = _utility([*rows, *law_rows], answer, amb, law, first, legal)[0]
        choices.append((total, (answer, amb, law, first, legal)))
    return max(choices, key=lambda c: c[0])[1]  # ties: the earlier (higher residents' reward)


def _law_stage(rows: Sequence[Outcomes], law_rows: Sequence[Outcomes], answer: float, amb: float,
               law: float) -> tuple[float, float]:
    """The law tier's fallback and law-first thresholds for given entry thresholds. The wrong-answer
    cap is the residents' (rows): lay questions only add their reward."""
    every = [*rows, *law_rows]
    _, (fallback, first) = max(
        ((value, (fallback, first)) for first in _GRID for fallback in _GRID if fallback <= first
         for value, rejection, _ in [_utility(every, answer, amb, fallback, first)]
         if rejection >= MIN_OOS_REJECTION and _utility(rows, answer, amb, fallback, first)[2] <= MAX_WRONG),
        default=(0.0, (law, law)))
    return fallback, first


def _legal_threshold(every: Sequence[Outcomes], answer: float, amb: float, law: float, first: float) -> float:
    """The threshold above which any legal question gets the law tier: off (1.01) unless some threshold
    pays more than none."""
    _, legal = max(((value, legal) for legal in (*_GRID, 1.01)
                    for value, rejection, _ in [_utility(every, answer, amb, law, first, legal)]
                    if rejection >= MIN_OOS_REJECTION), key=lambda vl: (vl[0], vl[1]))
    return legal


def oos_examples() -> list[DevItem]:
    """Our own out-of-scope messages: the dev set has few, and rejecting them is a hard requirement."""
    return [DevItem(text, ()) for text in read_everyday()]


def calibrate(kb: KnowledgeBase, items: Sequence[DevItem], stard: Sequence[DevItem] = ()) -> Calibration:
    """A new calibration from the tuning split of ``items`` and ``stard`` (the rest is ignored).

    The entry tier is fitted on resident questions only (STARD asks about matters no curated entry
    covers); the law tier and the thresholds on both."""
    resident = [i for i in items if split_of(i.q) == "tune"] + oos_examples()
    stard_tune = [i for i in stard if split_of(i.q) == "tune"]
    tune = resident + stard_tune
    feats = []
    for item in tune:
        a = kb.analyze(item.q)
        everyday = kb.everyday_overlap(a, leave_out=True)
        feats.append((item, kb.rank_entries(a, everyday=everyday), kb.rank_articles(a, everyday=everyday)))
    ex, ey, lx, ly = [], [], [], []
    for n, (item, er, lr) in enumerate(feats):
        if er.docs and n < len(resident):
            ex.append(er.features.vector())
            c = kb.entries()[er.docs[0]].citations[0]
            ey.append(int(c.key in item.cite))
        if lr.docs:
            lx.append(lr.features.vector())
            art = kb.articles[lr.docs[0]]
            ly.append(int(art.key in item.cite))
    ew, eb = fit_logistic(ex, ey)
    lw, lb = fit_logistic(lx, ly)
    # Legal question or chit-chat: every tuning message the law tier could answer, labelled by scope.
    gx = [kb.legal_features(kb.analyze(item.q), lr).vector() for item, _, lr in feats if lr.docs]
    gy = [int(item.in_scope) for item, _, lr in feats if lr.docs]
    gw, gb = fit_logistic(gx, gy)
    cal = replace(kb.calibration, entry_weights=ew, entry_bias=eb, law_weights=lw, law_bias=lb,
                  legal_weights=gw, legal_bias=gb)
    rows = _labels(kb, tune, cal)
    answer, amb, law, law_first, legal = choose_thresholds(rows[:len(resident)], rows[len(resident):])
    return replace(cal, answer_threshold=answer, ambiguous_threshold=amb, law_threshold=law,
                   law_first_threshold=law_first, legal_threshold=legal,
                   notes={"fitted_on": f"{len(resident)} questions: the tune split of knowledge/eval/resident.jsonl"
                                       " and knowledge/dict/oos_examples.txt; law tier and thresholds also"
                                       f" {len(stard_tune)} of the tune split of STARD dev",
                          "entries": str(len(kb.entries()))})


def threshold_table(kb: KnowledgeBase, items: Sequence[DevItem],
                    thresholds: Sequence[float] = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)) -> list[tuple[float, ...]]:
    """(answer threshold, top-1, wrong, ambiguous-or-law share, OOS rejection) on the tuning split, with
    the other thresholds as calibrated: the trade-off an operator chooses from."""
    tune = [i for i in items if split_of(i.q) == "tune"] + oos_examples()
    rows = _labels(kb, tune, kb.calibration)
    inside = [r for r in rows if r.in_scope] or rows
    cal = kb.calibration
    out: list[tuple[float, ...]] = []
    for t in thresholds:
        amb = min(t, cal.ambiguous_threshold)
        # Entry answers only: where the law tier answers first, the entry is not shown.
        shown = [r for r in inside if r.entry_conf >= t and not r.tie and not cal.law_first(r.entry_conf, r.law_conf)]
        right = sum(r.entry_right for r in shown) / len(inside)
        wrong = sum(not r.entry_right for r in shown) / len(inside)
        rest = sum(amb <= r.entry_conf < t for r in rows) / len(rows)
        _, rejection, _ = _utility(rows, t, amb, cal.law_threshold, cal.law_first_threshold)
        out.append((t, right, wrong, rest, rejection))
    return out
