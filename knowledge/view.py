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

    def article(self, law: str, number: int, sub: int = 0) -> Article | None:
        return self.corpus.get(law, number, sub)


class DeferredView(KnowledgeView):
    """The server's view while a preloaded helper process answers the matches: the entries (for the
    menu and the numbered choices) at hand, the law corpus and the index loaded on first use.

    The corpus (the full text of an article, ``原文``) loads in under a tenth of a second. The index
    takes the better part of a second (jieba's dictionary, unpickled in one call that holds the GIL)
    and would be a second copy beside the helper's: the staff pages that analyse with it load it
    the way a reload does, off the loop, and hand matching to a helper forked from it
    (``KnowledgeHolder.own_index``); only matching after the helper died loads it here, once.
    """

    def __init__(self, entries: Iterable[Entry], load_full: Callable[[], KnowledgeView],
                 load_corpus: Callable[[], LawCorpus]) -> None:
        # Not the parent's __init__: there is no index or corpus until they are needed.
        self._entries = answering_entries(entries)
        self._topics = topics_of(self._entries)
        self._by_id = MappingProxyType({e.id: e for e in self._entries})
        self._load_full = load_full
        self._load_corpus = load_corpus
        self._full: KnowledgeView | None = None
        self._own_corpus: LawCorpus | None = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        """Whether this process holds the index (not only the helper)."""
        return self._full is not None

    def full(self) -> KnowledgeView:
        if self._full is None:
            with self._lock:
                if self._full is None:
                    view = self._load_full()
                    # Long-lived, like a start's or a reload's index: the cyclic collector skips them.
                    gc.freeze()
                    self._full = view
        return self._full

    @property
    def kb(self) -> KnowledgeBase:
        return self.full().kb

    @property
    def corpus(self) -> LawCorpus:
        if self._full is not None:
            return self._full.corpus
        if self._own_corpus is None:
            with self._lock:
                if self._own_corpus is None:
                    self._own_corpus = self._load_corpus()
        return self._own_corpus

    def match(self, text: str) -> Match:
        return self.full().match(text)

    def topics(self) -> Topics:
        return self._topics

    def entry(self, entry_id: str) -> Entry | None:
        return self._by_id.get(entry_id)

    def warm_up(self) -> None:
        self.full().warm_up()
