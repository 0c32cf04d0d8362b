"""What a match returns: plain data, without the engine (numpy, jieba), so that a process that only
receives matches (the server, from its match helper: bot/matchworker.py) need not import it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from knowledge.entries import Entry
from knowledge.laws import Article, Cite, cite_key

__all__ = ["CHAT_TIER", "Candidate", "Citation", "Match"]

# The tier of a no_match that is not about law at all: no word of the legal vocabulary, or one the
# legal-question model scored as chit-chat (knowledge/engine.py, CHAT_LEGAL_CONFIDENCE).
CHAT_TIER: Literal["chat"] = "chat"


@dataclass(frozen=True)
class Citation:
    law: str
    article: int
    sub: int = 0  # 2 for 第二百八十七条之二

    @property
    def key(self) -> Cite:
        return cite_key(self.law, self.article, self.sub)


@dataclass(frozen=True)
class Candidate:
    entry_id: str
    question: str
    score: float


@dataclass(frozen=True)
class Match:
    status: Literal["answered", "ambiguous", "no_match"]
    tier: Literal["entry", "law", "none", "chat"]  # "chat": CHAT_TIER
    entry: Entry | None
    score: float
    citations: tuple[Citation, ...]
    articles: tuple[Article, ...]
    candidates: tuple[Candidate, ...]
    keywords: tuple[str, ...]
    urgent: str | None
    # With a written answer: the next-best entries resting on another article, offered below the
    # answer ("上面没说到您的事？"), so that a resident whose story the ranking misread reaches the right
    # answer with one digit (knowledge/engine.py, ALTERNATIVE_RATIO).
    alternatives: tuple[Candidate, ...] = ()
