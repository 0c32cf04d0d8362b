"""Turning ranking features into a confidence in 0..1 that means "probability the answer is right".

A logistic model per tier, fitted by ``pufa kb eval --calibrate`` on the *tuning* part of the resident
dev set only (never the held-out third), and stored in knowledge/dict/calibration.toml so that a
content change can be followed by a re-fit without touching code.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import tomli_w

__all__ = ["CALIBRATION_FILE", "TIE_MARGIN", "Calibration", "Features", "LegalFeatures", "Route", "fit_logistic"]

# answer: the best entry; choose: numbered candidates; law: the law tier; none: "I don't know".
Route = Literal["answer", "choose", "law", "none"]

# Two entries with different answers scoring within this share of each other are a tie: the resident
# chooses, whatever the confidence. The confidence model is linear in the margin and a high score
# outweighed it (e.g. "法律援助要钱不" between 法律援助要不要钱 and 援助律师找我要钱). On the tune split,
# answers with a margin under 0.01 were right 4 times in 7, from 0.01 to 0.02 4 in 6, over 0.05 94 %;
# 0.02 also turned the commonest question of all ("老板拖欠我工资不给咋办", margin 0.013 between the
# wage-arrears entry and its siblings on complaints and the crime of refusing to pay) into a choice.
TIE_MARGIN = 0.01

# TOML, not JSON: the package data rules ship *.toml files.
CALIBRATION_FILE = Path(__file__).resolve().parent / "dict" / "calibration.toml"


@dataclass(frozen=True)
class Features:
    score: float  # top BM25 score / total idf of the query: comparable across query lengths
    coverage: float  # share of the query's idf found in the top document
    margin: float  # (top − second) / top: how clearly the top document wins
    n_terms: int  # distinct content words in the query
    known: float = 1.0  # share of the query's idf made of words the index has at all (low: off-topic)
    everyday: float = 0.0  # share of the query's idf found in the closest everyday (non-legal) message

    @property
    def tie(self) -> bool:
        return self.margin < TIE_MARGIN

    def vector(self) -> tuple[float, ...]:
        # log of the length: one- and two-word queries are far less certain than a full question
        return (self.score, self.coverage, self.margin, math.log1p(self.n_terms), self.known, self.everyday)


@dataclass(frozen=True)
class LegalFeatures:
    """Whether a message asks about law at all, whatever the best article: a long lay question about a
    matter no entry covers is plainly legal even when no article is a sure fit, while "转发" or
    "定期存款提前取有影响不" share a legal word and are not."""

    legal: float  # share of the message's idf made of legal words (the legal vocabulary, synonym targets)
    everyday: float  # as in Features: share found in the closest everyday message
    n_terms: int
    known: float  # share of the message's idf the law articles know
    law_score: float  # the best article's score / total idf (Features.score of the law tier)
    law_coverage: float

    def vector(self) -> tuple[float, ...]:
        return (self.legal, self.everyday, math.log1p(self.n_terms), self.known, self.law_score,
                self.law_coverage)


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, x))))


@dataclass(frozen=True)
class Calibration:
    entry_weights: tuple[float, ...] = (4.0, 6.0, 2.0, 0.0, 1.0, -4.0)
    entry_bias: float = -6.0
    law_weights: tuple[float, ...] = (2.0, 6.0, 2.0, 0.0, 1.0, -4.0)
    law_bias: float = -7.0
    answer_threshold: float = 0.6
    ambiguous_threshold: float = 0.35
    law_threshold: float = 0.5  # the law tier answers when no entry is confident enough
    law_first_threshold: float = 0.5  # … and before the entries when at least this and likelier right
    # The law tier also answers (when no entry is confident) a message surely about law, however
    # unsure its best article: the articles are shown as "may be related", with the referral.
    legal_weights: tuple[float, ...] = (6.0, -4.0, 1.0, 2.0, 1.0, 1.0)
    legal_bias: float = -6.0
    legal_threshold: float = 1.01  # off until fitted
    notes: dict[str, str] = field(default_factory=dict, compare=False)

    def entry_confidence(self, f: Features) -> float:
        return _sigmoid(self.entry_bias + sum(w * x for w, x in zip(self.entry_weights, f.vector(), strict=True)))

    def law_first(self, entry_conf: float, law_conf: float) -> bool:
        """Whether the law tier answers before the entries: it is sure enough and likelier right."""
        return law_conf >= self.law_first_threshold and law_conf > entry_conf

    def law_confidence(self, f: Features) -> float:
        return _sigmoid(self.law_bias + sum(w * x for w, x in zip(self.law_weights, f.vector(), strict=True)))

    def legal_confidence(self, f: LegalFeatures) -> float:
        """Probability that the message is a legal question (not chit-chat that shares a word)."""
        return _sigmoid(self.legal_bias + sum(w * x for w, x in zip(self.legal_weights, f.vector(), strict=True)))

    def route(self, entry_conf: float, law_conf: float, legal_conf: float, tie: bool = False) -> Route:
        """Which reply a message gets from its three confidences (KnowledgeBase.match; knowledge/fit.py
        weighs the same routes when it chooses the thresholds). ``tie``: the best entries are a tie
        (``TIE_MARGIN``)."""
        law_first = self.law_first(entry_conf, law_conf)
        if not law_first and entry_conf >= self.answer_threshold and not tie:
            return "answer"
        if not law_first and entry_conf >= self.ambiguous_threshold:
            return "choose"
        if law_first or law_conf >= self.law_threshold or legal_conf >= self.legal_threshold:
            return "law"
        return "none"

    @classmethod
    def load(cls, path: Path = CALIBRATION_FILE) -> Calibration:
        """The stored fit, or the defaults above when none has been made yet."""
        if not path.exists():
            return cls()
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        n = len(Features(0.0, 0.0, 0.0, 0).vector())
        for key in ("entry_weights", "law_weights"):
            # A fit from before a feature was added leaves that feature out (weight 0) until re-fitted.
            raw[key] = (tuple(raw[key]) + (0.0,) * n)[:n]
        # …and answers with the law tier before the entries, or for any legal question, only when
        # fitted for it.
        raw.setdefault("law_first_threshold", 1.01)
        raw.setdefault("legal_threshold", 1.01)
        return cls(**raw)

    def save(self, path: Path = CALIBRATION_FILE) -> None:
        header = "# Written by `python -m knowledge.evalrun --calibrate` (knowledge/fit.py); do not edit by hand.\n"
        path.write_text(header + tomli_w.dumps(asdict(self)), encoding="utf-8")


def _solve(a: list[list[float]], b: list[float]) -> list[float]:
    """Gauss-Jordan elimination with partial pivoting; the systems here are 5×5."""
    n = len(b)
    m = [[*row, b[i]] for i, row in enumerate(a)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(m[r][col]))
        m[col], m[pivot] = m[pivot], m[col]
        div = m[col][col] or 1e-12
        m[col] = [v / div for v in m[col]]
        for r in range(n):
            if r != col and m[r][col]:
                factor = m[r][col]
                m[r] = [v - factor * p for v, p in zip(m[r], m[col], strict=True)]
    return [m[r][n] for r in range(n)]


def fit_logistic(xs: Sequence[Sequence[float]], ys: Sequence[int], *, l2: float = 0.1,
                 steps: int = 30) -> tuple[tuple[float, ...], float]:
    """Logistic regression by Newton's method (IRLS) with a small L2 penalty (not on the bias).

    Exact in a few iterations for the handful of features used here; no numeric library needed."""
    if not xs:
        raise ValueError("nothing to fit")
    rows = [[*map(float, x), 1.0] for x in xs]
    dim = len(rows[0])
    beta = [0.0] * dim
    for _ in range(steps):
        grad = [l2 * beta[i] if i < dim - 1 else 0.0 for i in range(dim)]
        hess = [[(l2 if i == j and i < dim - 1 else 0.0) for j in range(dim)] for i in range(dim)]
        for x, y in zip(rows, ys, strict=True):
            p = _sigmoid(sum(bi * xi for bi, xi in zip(beta, x, strict=True)))
            w = max(p * (1 - p), 1e-9)
            for i in range(dim):
                grad[i] += (p - y) * x[i]
                for j in range(dim):
                    hess[i][j] += w * x[i] * x[j]
        step = _solve(hess, grad)
        beta = [bi - si for bi, si in zip(beta, step, strict=True)]
        if max(abs(si) for si in step) < 1e-6:
            break
    return tuple(beta[:-1]), beta[-1]
