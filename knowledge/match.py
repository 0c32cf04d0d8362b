"""What a match returns: plain data, without the engine (numpy, jieba), so that a process that only
receives matches (the server, from its match helper: bot/matchworker.py) need not import it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from knowledge.entries import Entry
from knowledge.laws import Article

__all__ = ["Candidate", "Citation", "Match"]


@dataclass(frozen=True)
class Citation:
    law: str
    article: int


@dataclass(frozen=True)
class Candidate:
    entry_id: str
    question: str
    score: float


@dataclass(frozen=True)
class Match:
    status: Literal["answered", "ambiguous", "no_match"]
    tier: Literal["entry", "law", "none"]
    entry: Entry | None
    score: float
    citations: tuple[Citation, ...]
    articles: tuple[Article, ...]
    candidates: tuple[Candidate, ...]
    keywords: tuple[str, ...]
    urgent: str | None
