"""The two systems pufa is compared with, on the same questions and the same law texts.

* keyword rules, as in the WeChat official-account backend: an entry answers when the message
  contains one of its keywords (first rule wins, in file order);
* plain jieba + BM25 over all article texts: jieba's default dictionary, no synonyms, no stopwords,
  no curated entries, the best article always answered.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from knowledge.engine import Citation, KnowledgeBase, Match
from knowledge.entries import Entry
from knowledge.index import Bm25Index
from knowledge.jieba_loader import jieba
from knowledge.laws import Cite

__all__ = ["BASELINES", "KeywordRules", "PlainBm25"]

_PUNCT = re.compile(r"^[\W_]+$")


def _none() -> Match:
    return Match("no_match", "none", None, 0.0, (), (), (), (), None)


class KeywordRules:
    def __init__(self, kb: KnowledgeBase, entries: Sequence[Entry]) -> None:
        # The entries as written (the knowledge base keeps their keywords only in its index).
        self.rules = [(kw, e) for e in entries if e.published and e.citations for kw in e.keywords if kw]

    def match(self, text: str) -> Match:
        for kw, e in self.rules:
            if kw in text:
                cites = tuple(Citation(c.law, c.article, c.sub) for c in e.citations)
                return Match("answered", "entry", e, 1.0, cites, (), (), (), None)
        return _none()

    def rank(self, text: str) -> list[Cite]:
        m = self.match(text)
        return [c.key for c in m.citations][:3]


class PlainBm25:
    def __init__(self, kb: KnowledgeBase, entries: Sequence[Entry] = ()) -> None:
        # A private tokenizer with jieba's stock dictionary: nothing of pufa's.
        self.jieba = jieba.Tokenizer()
        with self.jieba.get_dict_file() as f:
            self.jieba.FREQ, self.jieba.total = self.jieba.gen_pfdict(f)
        self.jieba.initialized = True
        self.articles = [a for a in kb.articles if a.sub == 0]
        docs = [{"text": self._words(a.text)} for a in self.articles]
        self.index = Bm25Index.build(docs, {"text": 1.0}, max_postings=10**9)

    def _words(self, text: str) -> list[str]:
        return [w for w in self.jieba.cut(text) if w.strip() and not _PUNCT.match(w)]

    def rank(self, text: str) -> list[Cite]:
        return [self.articles[h.doc].key for h in self.index.search(self._words(text), 3)]

    def match(self, text: str) -> Match:
        hits = self.index.search(self._words(text), 1)
        if not hits:
            return _none()
        art = self.articles[hits[0].doc]
        return Match("answered", "law", None, 1.0, (Citation(art.law, art.number, art.sub),), (art,), (), (), None)


BASELINES: dict[str, Callable[[KnowledgeBase, Sequence[Entry]], KeywordRules | PlainBm25]] = {
    "keyword rules (WeChat style)": KeywordRules,
    "plain jieba + BM25 (articles)": PlainBm25,
}
