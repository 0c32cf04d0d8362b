"""What the service answers from: one immutable knowledge base and the law corpus behind it.

Pure, without the database or the web server, so that the match helper process can load a snapshot
of it (``knowledge/snapshot.py``) without importing them (bot/matchworker.py's preloaded helper).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterable
from types import MappingProxyType
from typing import TYPE_CHECKING

from knowledge.entries import Entry, Topics, answering_entries, topics_of
from knowledge.laws import Article, LawCorpus
from knowledge.match import Match

if TYPE_CHECKING:  # a server whose helper answers never needs the engine (numpy, jieba) itself
    from knowledge.engine import KnowledgeBase


class KnowledgeView:
    """One immutable build: the index and the law corpus behind it."""

    def __init__(self, kb: KnowledgeBase, corpus: LawCorpus) -> None:
        self._kb = kb
        self._corpus = corpus

    @property
    def kb(self) -> KnowledgeBase:
        return self._kb

    @property
    def corpus(self) -> LawCorpus:
        return self._corpus

    def match(self, text: str) -> Match:
        return self.kb.match(text)

    def topics(self) -> Topics:
        return self.kb.topics()

    def entry(self, entry_id: str) -> Entry | None:
        return self.kb.entry(entry_id)

    def warm_up(self) -> None:
        """Match every entry's question once (what the match helper does before it serves)."""
        for e in self.kb.entries():
            self.kb.match(e.question)

    def article(self, law: str, number: int) -> Article | None:
        return self.corpus.get(law, number)


class DeferredView(KnowledgeView):
    """The server's view while a preloaded helper process answers the matches: the entries (for the
    menu and the numbered choices) at hand, the index and the corpus loaded on first use.

    Loading them takes the better part of a second (most of it jieba's dictionary, unpickled in one
    call that holds the GIL), so a start whose helper has them answers without: only what needs them
    — the full text of an article, the staff's hit test, matching after the helper failed — pays it,
    once.
    """

    def __init__(self, entries: Iterable[Entry], load: Callable[[], KnowledgeView]) -> None:
        # Not the parent's __init__: there is no index or corpus until they are needed.
        self._entries = answering_entries(entries)
        self._topics = topics_of(self._entries)
        self._by_id = MappingProxyType({e.id: e for e in self._entries})
        self._load = load
        self._full: KnowledgeView | None = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._full is not None

    def full(self) -> KnowledgeView:
        if self._full is None:
            with self._lock:
                if self._full is None:
                    view = self._load()
                    # Long-lived, like the start's own view (bot/app.py): the cyclic collector skips them.
                    gc.freeze()
                    self._full = view
        return self._full

    @property
    def kb(self) -> KnowledgeBase:
        return self.full().kb

    @property
    def corpus(self) -> LawCorpus:
        return self.full().corpus

    def match(self, text: str) -> Match:
        return self.full().match(text)

    def topics(self) -> Topics:
        return self._topics

    def entry(self, entry_id: str) -> Entry | None:
        return self._by_id.get(entry_id)

    def warm_up(self) -> None:
        self.full().warm_up()
