"""Matching a resident's message: curated entries, or the law articles when they are likelier right or
no entry is confident enough, else no match (docs/knowledge-format.md, "How a message is answered").

``KnowledgeBase.build`` does all the work once; ``match`` only reads, so a rebuilt instance can be
swapped in while the old one keeps answering.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from knowledge.calibration import Calibration, Features, LegalFeatures
from knowledge.courtesy import strip_courtesy
from knowledge.entries import Entry, Topics, answerable, answering_entries, topics_of
from knowledge.index import DENSE_SCAN_MAX, Bm25Builder, Bm25Index, top_k_vector
from knowledge.laws import Article, Cite, LawCorpus
from knowledge.match import CHAT_TIER, Candidate, Citation, Match
from knowledge.memory import release_free_memory
from knowledge.safety import detect_urgent
from knowledge.termcache import AnalysisCache
from knowledge.tokenizer import Analysis, Tokenizer

__all__ = ["EVERYDAY_FILE", "Candidate", "Citation", "KnowledgeBase", "Match", "Ranked", "read_everyday"]

# Field weights: how people ask (question, similar phrasings) counts most, then the curated keywords,
# then the answer text, which also talks about neighbouring matters. Measured in docs/evaluation.md.
ENTRY_WEIGHTS = {"question": 3.0, "similar": 3.0, "keywords": 2.0, "topic": 0.5, "answer": 0.4}
# The similar phrasings are alternatives, not one long text: their number says how many ways an entry
# is asked, not that it is verbose. Normalised by length, an entry with many phrasings lost to one
# with few on the very words of its own phrasing ("法律援助要钱不", one of 14 phrasings).
ENTRY_FIELD_B = {"similar": 0.0}
ARTICLE_WEIGHTS = {"text": 1.0, "chapter": 0.6, "lay": 1.2}
BIGRAM_WEIGHT = 0.3  # character bigrams only nudge: they rescue typos, they must not outvote words
LAY_MAX_TERMS = 1000  # resident phrasings indexed with one article (bounded for huge content sets)
# Postings read per query (see knowledge/index.py): bounds the latency at any number of entries.
ENTRY_BUDGET, ARTICLE_BUDGET = 2500, 4000
# Only the rarest words of a long message count: its everyday words only cost time (no measurable
# change in ranking on the dev set or STARD).
ENTRY_MAX_TERMS, ARTICLE_MAX_TERMS = 40, 24
LAW_TIER_MAX = 3
# A scam in progress ("对方让我转账") is answered from the anti-fraud entries when one of them scores near
# the best entry, whichever ranks first: after "stop the transfer" a resident must not read how to
# recover money sent by mistake.
URGENT_TOPICS = {"fraud": "fraud"}
# …"near" meaning within this share of the best score: "老板让我先交保证金才能上班" (urgent by its
# words) stays with the labour entry that scores far above any scam entry.
URGENT_TOPIC_NEAR = 0.85
# An entry also scores by how well the query matches the article it cites first: the law text and the
# resident phrasings indexed with it (measured in docs/evaluation.md).
ENTRY_ARTICLE_WEIGHT = 0.25
# A resident's story is full of everyday words that are rare in the entries (从来不, 今年, 意思): by
# their idf alone they outweighed the legal words and pulled in entries that happen to share them
# ("厂里从来不给我们交社保" → an online-dating scam entry). Words outside the legal signal vocabulary
# (``legal_signal``) count this much (measured in docs/evaluation.md).
EVERYDAY_TERM_WEIGHT = 0.6
LAW_TIER_RELATIVE = 0.7  # further articles only when close to the best one
# A written answer offers up to MAX_ALTERNATIVES other entries scoring at least this share of it, each
# resting on another article first. Measured on the ninth session's tune split: 0.8 lists them under 3
# answers in 10 and 45 % of the wrong answers list the right one (0.7: half the answers, 63 %); on
# questions written by people who never saw the entries, 31–35 % (docs/evaluation.md, tenth session).
ALTERNATIVE_RATIO = 0.8
MAX_ALTERNATIVES = 2
# Below this chance of being a legal question at all (``legal_confidence``, as the model scored it), a
# message that gets no match is chit-chat (CHAT_TIER: weather, crops, phones), listed apart for staff.
# Set far below what any legal question in the dev set scored (the lowest no_match among them: 0.027,
# "擦了下车能私了不"); half the everyday messages that share a word with an entry score under it.
CHAT_LEGAL_CONFIDENCE = 0.01
# Everyday messages (not about law), written for pufa: an index of them tells chit-chat that shares a
# word with some entry from a legal question (a confidence feature), and they are the out-of-scope
# negatives the confidence model is fitted with (knowledge/fit.py).
EVERYDAY_FILE = Path(__file__).resolve().parent / "dict" / "oos_examples.txt"
EVERYDAY_CLOSEST = 3  # everyday messages whose overlap is measured (everyday_overlap)
_UNSET: Any = object()  # "compute the article scores here" (None means: no article scores)


@dataclass(frozen=True)
class Ranked:
    """One tier's ranking of a query, with the features its confidence is computed from."""

    docs: tuple[int, ...]
    scores: tuple[float, ...]
    features: Features


def _contains(index: Bm25Index, doc: int, term: str) -> bool:
    return index.contains(term, doc)


def read_everyday(path: Path = EVERYDAY_FILE) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    return list(dict.fromkeys(ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")))


class KnowledgeBase:
    def __init__(self, entries: Sequence[Entry], articles: Sequence[Article], tokenizer: Tokenizer,
                 entry_words: Bm25Index, entry_grams: Bm25Index, article_words: Bm25Index,
                 calibration: Calibration, signal_words: frozenset[str] = frozenset(),
                 everyday: Bm25Index | None = None,
                 everyday_groups: Mapping[frozenset[str], tuple[int, ...]] | None = None) -> None:
        self._entries = answering_entries(entries)
        self._articles = tuple(articles)
        self._by_id = MappingProxyType({e.id: e for e in self._entries})
        self._first_cite = tuple(e.citations[0].key for e in self._entries)
        where = {art.key: i for i, art in enumerate(articles)}
        self._first_article = tuple(where.get(c, -1) for c in self._first_cite)
        # -1 (not in the corpus) indexes the 0 appended to the article scores in rank_entries.
        self._first_article_vec = np.array([len(articles) if i < 0 else i for i in self._first_article],
                                           dtype=np.intp)
        self.tokenizer = tokenizer
        self._entry_words = entry_words
        self._entry_grams = entry_grams
        self._article_words = article_words
        self.calibration = calibration
        self._signal = signal_words
        self._everyday = everyday
        # Everyday messages by their set of words, for leaving a message (and its near-copies) out.
        self._everyday_groups = MappingProxyType(dict(everyday_groups or {}))
        self._topics = topics_of(self._entries)

    @classmethod
    def build(cls, entries: Iterable[Entry], corpus: LawCorpus, *, tokenizer: Tokenizer | None = None,
              calibration: Calibration | None = None, cache_dir: str | Path | None = None,
              everyday: Sequence[str] | None = None) -> KnowledgeBase:
        """Index the published entries, all law articles and the everyday messages (default: the
        bundled knowledge/dict/oos_examples.txt)."""
        kb = cls._build(entries, corpus, tokenizer=tokenizer, calibration=calibration, cache_dir=cache_dir,
                        everyday=read_everyday() if everyday is None else everyday)
        release_free_memory()  # the build's scratch is garbage now; don't keep its peak
        return kb

    @classmethod
    def _build(cls, entries: Iterable[Entry], corpus: LawCorpus, *, tokenizer: Tokenizer | None,
               calibration: Calibration | None, cache_dir: str | Path | None,
               everyday: Sequence[str]) -> KnowledgeBase:
        tk = tokenizer or Tokenizer(cache_dir=cache_dir)
        tk.warm_up()
        cache = AnalysisCache(tk)
        analyze = cache.analyze
        published = [e for e in entries if answerable(e)]
        words, grams = Bm25Builder(ENTRY_WEIGHTS, field_b=ENTRY_FIELD_B), Bm25Builder({"grams": 1.0})
        lay: dict[Cite, list[str]] = {}
        for e in published:
            q, sims = analyze(e.question), [analyze(s) for s in e.similar]
            asked = [*q.words, *(w for s in sims for w in s.words)]
            kws = [w for k in e.keywords for w in analyze(k).words]
            words.add({"question": q.words, "similar": asked[len(q.words):], "keywords": kws,
                       "topic": analyze(e.topic).words, "answer": analyze(e.answer).words})
            grams.add({"grams": [g for a in (q, *sims) for g in a.bigrams]})
            # The ways residents ask about an article describe it in their words: index them with it.
            for c in e.citations:
                bucket = lay.setdefault(c.key, [])
                bucket.extend((asked + kws)[: LAY_MAX_TERMS - len(bucket)])
        articles = sorted(corpus.articles(), key=lambda a: a.sub > 0)
        laws = Bm25Builder(ARTICLE_WEIGHTS)
        for a in articles:
            laws.add({"text": analyze(a.text).words, "chapter": analyze(f"{a.law} {a.chapter}").words,
                      "lay": lay.get(a.key, [])})
        daily = Bm25Builder({"text": 1.0})
        groups: dict[frozenset[str], list[int]] = {}
        for i, text in enumerate(everyday):
            said = analyze(text).words
            daily.add({"text": said})
            groups.setdefault(frozenset(said), []).append(i)
        cache.save()
        signal = tk.legal_words | {w for e in published for k in e.keywords for w in analyze(k).words}
        return cls(published, articles, tk, words.finish(), grams.finish(), laws.finish(),
                   calibration or Calibration.load(), frozenset(signal),
                   daily.finish() if everyday else None, {k: tuple(v) for k, v in groups.items()})

    def with_calibration(self, calibration: Calibration) -> KnowledgeBase:
        """The same indexes with another confidence model (a new object: this one is not changed)."""
        return KnowledgeBase(self._entries, self._articles, self.tokenizer, self._entry_words,
                             self._entry_grams, self._article_words, calibration, self._signal,
                             self._everyday, self._everyday_groups)

    # -- read-only API -------------------------------------------------------------------------

    def topics(self) -> Topics:
        """(topic_key, topic, published entries) in file order, for the menu."""
        return self._topics

    def entry(self, entry_id: str) -> Entry | None:
        return self._by_id.get(entry_id)

    def entries(self) -> tuple[Entry, ...]:
        return self._entries

    @property
    def articles(self) -> tuple[Article, ...]:
        return self._articles

    def analyze(self, text: str) -> Analysis:
        """A resident's message as matching sees it: courtesies around the question dropped."""
        return self.tokenizer.analyze(strip_courtesy(text), fix_slips=True)

    def legal_signal(self, a: Analysis) -> bool:
        """Whether the message has at least one word of the legal vocabulary, of the synonym targets or
        of the entries' keywords. Greetings, weather, farming and shopping questions have none: without
        this they were answered whenever one everyday word (辛苦, 聪明) occurred in one entry's phrasing."""
        signal = self._signal
        return not signal or any(w in signal for w in a.words)

    def _term_weight(self, term: str) -> float:
        return 1.0 if not self._signal or term in self._signal else EVERYDAY_TERM_WEIGHT

    def everyday_overlap(self, a: Analysis, leave_out: bool = False) -> float:
        """Share of the message's weight (by the entries' idf) found in an everyday message (weather,
        farming, phones, shopping, small talk), the most among the ``EVERYDAY_CLOSEST`` closest by BM25:
        "手机内存满了咋个清理" shares 手机 with an entry's keywords but all of itself with "手机没声音了".
        ``leave_out``: ignore everyday messages with exactly the message's words (fitting on the examples
        themselves, knowledge/fit.py)."""
        daily = self._everyday
        if daily is None or not a.words:
            return 0.0
        scores = daily.scores(a.words, 2000)
        if leave_out:
            for doc in self._everyday_groups.get(frozenset(a.words), ()):
                scores.pop(doc, None)
        if not scores:
            return 0.0
        # The best of the closest few, not of the closest one alone: an everyday message sharing one rare
        # word ("法院那条街堵车不") outscored one sharing all the rest ("几点上班") and so made
        # "法院上班几点下班" look less everyday the more everyday messages were added.
        closest = heapq.nlargest(EVERYDAY_CLOSEST, scores, key=scores.__getitem__)
        return max(self._entry_words.idf_share(a.words, partial(_contains, daily, doc)) for doc in closest)

    def law_tier_confidence(self, a: Analysis, everyday: float | None = None,
                            article_scores: Any = _UNSET) -> tuple[Ranked | None, float]:
        """The article ranking and its confidence; (None, 0) when the law tier may not answer."""
        if not self.legal_signal(a):
            return None, 0.0
        laws = self.rank_articles(a, everyday=everyday, article_scores=article_scores)
        return laws, (self.calibration.law_confidence(laws.features) if laws.docs else 0.0)

    def legal_features(self, a: Analysis, laws: Ranked) -> LegalFeatures:
        """What tells a question about law from chit-chat sharing a word (``legal_confidence``)."""
        legal = self._article_words.idf_share(a.words, self._signal.__contains__)
        f = laws.features
        return LegalFeatures(legal, f.everyday, f.n_terms, f.known, f.score, f.coverage)

    def legal_confidence(self, a: Analysis, laws: Ranked | None) -> float:
        if laws is None or not laws.docs:
            return 0.0
        return self.calibration.legal_confidence(self.legal_features(a, laws))

    def law_tier_articles(self, laws: Ranked) -> list[Article]:
        """The articles a law-tier answer shows: the best one and those close to it."""
        top = laws.scores[0] if laws.scores else 0.0
        return [self._articles[d] for d, s in zip(laws.docs, laws.scores, strict=True)
                if s >= LAW_TIER_RELATIVE * top][:LAW_TIER_MAX]

    def article_scores(self, a: Analysis) -> tuple[Any, Any] | None:
        """BM25 of every law article for the query, as (scores, documents that score) (None: no query
        word is in any article). Both tiers use it: computed once per message."""
        return self._article_words.vector(a.words, ARTICLE_BUDGET, ARTICLE_MAX_TERMS)

    def rank_entries(self, a: Analysis, k: int = 5, everyday: float | None = None,
                     article_scores: Any = _UNSET) -> Ranked:
        found = self._entry_words.vector(a.words, ENTRY_BUDGET, ENTRY_MAX_TERMS, self._term_weight)
        # Bigrams are the fallback for words the entries do not know (typos, unusual words).
        if a.bigrams and any(w not in self._entry_words for w in a.words):
            grams = self._entry_grams.vector(a.bigrams, ENTRY_BUDGET // 2)
            if grams is not None:
                gram_scores, gram_hit = grams
                gram_scores *= BIGRAM_WEIGHT
                if found is None:
                    found = grams
                else:
                    both = found[0] + gram_scores
                    found = (both, np.flatnonzero(both) if len(both) <= DENSE_SCAN_MAX
                             else np.union1d(found[1], gram_hit))
        if ENTRY_ARTICLE_WEIGHT and found is not None:
            arts = self.article_scores(a) if article_scores is _UNSET else article_scores
            if arts is not None:
                # Each entry that scores gets a share of the score of the article it cites first (an
                # entry whose article is not in the corpus points at the extra 0 at the end).
                scores, hit = found
                scores[hit] += ENTRY_ARTICLE_WEIGHT * np.append(arts[0], 0.0)[self._first_article_vec[hit]]
        ev = self.everyday_overlap(a) if everyday is None else everyday
        return self._ranked(self._entry_words, a, found, k, self._first_cite, ev)

    def rank_articles(self, a: Analysis, k: int = 5, everyday: float | None = None,
                      article_scores: Any = _UNSET) -> Ranked:
        scores = self.article_scores(a) if article_scores is _UNSET else article_scores
        ev = self.everyday_overlap(a) if everyday is None else everyday
        return self._ranked(self._article_words, a, scores, k, None, ev)

    @staticmethod
    def _ranked(index: Bm25Index, a: Analysis, scores: tuple[Any, Any] | None, k: int,
                same: Sequence[Cite] | None, everyday: float) -> Ranked:
        best = [] if scores is None else [(d, s) for s, d in top_k_vector(*scores, k)]
        if not best:
            return Ranked((), (), Features(0.0, 0.0, 0.0, len(set(a.words)), index.known(a.words), everyday))
        total_idf = sum(index.term_idf(t) for t in dict.fromkeys(a.words)) or 1.0
        top_doc, top = best[0]
        # The runner-up that matters gives a different answer: two entries citing the same article
        # first are not a real ambiguity.
        rivals = [s for d, s in best[1:] if same is None or same[d] != same[top_doc]]
        second = rivals[0] if rivals else 0.0
        features = Features(score=top / total_idf, coverage=index.coverage(a.words, top_doc),
                            margin=(top - second) / top if top > 0 else 0.0, n_terms=len(set(a.words)),
                            known=index.known(a.words), everyday=everyday)
        return Ranked(tuple(d for d, _ in best), tuple(s for _, s in best), features)

    def match(self, text: str) -> Match:
        """Never raises on any string; see the module docstring for the tiers."""
        urgent = detect_urgent(text)
        a = self.analyze(text)
        if not a.words or not self.legal_signal(a):
            return self._no_match(a, urgent, 0.0, legal=0.0)  # not one word of the legal vocabulary
        cal = self.calibration
        everyday = self.everyday_overlap(a)
        arts = self.article_scores(a)
        ranked = self.rank_entries(a, everyday=everyday, article_scores=arts)
        conf = cal.entry_confidence(ranked.features) if ranked.docs else 0.0
        if urgent in URGENT_TOPICS:
            ranked = self._topic_first(ranked, URGENT_TOPICS[urgent])
        laws, law_conf = self.law_tier_confidence(a, everyday, arts)
        # Both confidences estimate the chance that the tier's first article is right: when the law
        # articles are the likelier answer (questions about matters no entry covers, which still share
        # words with some entry), the curated entries give way.
        route = cal.route(conf, law_conf, 0.0, ranked.features.tie)
        legal: float | None = None  # not scored
        if route == "none":
            # The legal-question model only decides between the law tier and no match: computed only
            # for the messages that reach that choice, not on every match.
            legal = self.legal_confidence(a, laws)
            route = cal.route(conf, law_conf, legal, ranked.features.tie)
            if laws is None or not laws.docs:
                legal = None  # 0 by default, not by the model
        if route == "law" and self._agrees(ranked, laws) and conf >= cal.ambiguous_threshold and \
                not ranked.features.tie:
            # The law tier would show an article the best entry cites: its written answer says it in
            # plain words, with what to do next.
            route = "answer"
        if route == "answer":
            e = self._entries[ranked.docs[0]]
            cites = tuple(Citation(c.law, c.article, c.sub) for c in e.citations)
            return Match("answered", "entry", e, conf, cites, (), (), a.keywords, urgent,
                         self._alternatives(ranked))
        if route == "choose" and ranked.docs:
            cands = tuple(Candidate(self._entries[d].id, self._entries[d].question, round(s, 3))
                          for d, s in zip(ranked.docs[:3], ranked.scores[:3], strict=True))
            # The article each candidate rests on, in the candidates' order: the reply names them so
            # the resident sees the legal basis before choosing.
            firsts = dict.fromkeys(Citation(*self._first_cite[d]) for d in ranked.docs[:3])
            return Match("ambiguous", "entry", None, conf, tuple(firsts), (), cands, a.keywords, urgent)
        if route == "law" and laws is not None and laws.docs:
            chosen = self.law_tier_articles(laws)
            cites = tuple(Citation(art.law, art.number, art.sub) for art in chosen)
            return Match("answered", "law", None, law_conf, cites, tuple(chosen), (), a.keywords, urgent)
        return self._no_match(a, urgent, max(conf, law_conf), legal)

    @staticmethod
    def _no_match(a: Analysis, urgent: str | None, score: float, legal: float | None) -> Match:
        """No match; chit-chat when the message's chance of being a legal question is known and tiny
        (someone in danger never is)."""
        chat = urgent is None and legal is not None and legal < CHAT_LEGAL_CONFIDENCE
        return Match("no_match", CHAT_TIER if chat else "none", None, score, (), (), (), a.keywords, urgent)

    def _alternatives(self, ranked: Ranked) -> tuple[Candidate, ...]:
        """The entries after the first that score near it and rest on other articles, one per article."""
        seen = {self._first_cite[ranked.docs[0]]}
        out: list[Candidate] = []
        for d, s in zip(ranked.docs[1:], ranked.scores[1:], strict=True):
            if len(out) == MAX_ALTERNATIVES:
                break
            # Not sorted after _topic_first moved an anti-fraud entry up: each is judged on its own.
            if s >= ALTERNATIVE_RATIO * ranked.scores[0] and self._first_cite[d] not in seen:
                seen.add(self._first_cite[d])
                out.append(Candidate(self._entries[d].id, self._entries[d].question, round(s, 3)))
        return tuple(out)

    def _topic_first(self, ranked: Ranked, topic_key: str) -> Ranked:
        """The ranking with its best entry of ``topic_key`` moved to the front, if it scores near the best."""
        for n, d in enumerate(ranked.docs):
            if self._entries[d].topic_key == topic_key:
                if n == 0 or ranked.scores[n] < URGENT_TOPIC_NEAR * ranked.scores[0]:
                    return ranked
                order = (n, *(i for i in range(len(ranked.docs)) if i != n))
                return Ranked(tuple(ranked.docs[i] for i in order), tuple(ranked.scores[i] for i in order),
                              ranked.features)
        return ranked

    def _agrees(self, ranked: Ranked, laws: Ranked | None) -> bool:
        """Whether the law tier's best article is one the best entry cites."""
        return bool(ranked.docs) and laws is not None and bool(laws.docs) and \
            self._articles[laws.docs[0]].key in {c.key for c in self._entries[ranked.docs[0]].citations}

    def search_articles(self, text: str, k: int = 3) -> list[Article]:
        """The best articles for a text, whatever their confidence (the law tier's ranking)."""
        ranked = self.rank_articles(self.analyze(text), k)
        return [self._articles[d] for d in ranked.docs]

    def rank_citations(self, text: str, k: int = 3) -> list[Cite]:
        """Articles for a text, best first: the article an answered entry cites first, then the article
        ranking. Only an entry confident enough to be answered, and only its first citation (the one
        that governs the question): its further citations and a merely ambiguous entry's citations
        pushed better articles out of the first three (measured on STARD, docs/evaluation.md)."""
        a = self.analyze(text)
        out: list[Cite] = []
        if a.words:
            ranked = self.rank_entries(a)
            if ranked.docs and not ranked.features.tie and \
                    self.calibration.entry_confidence(ranked.features) >= self.calibration.answer_threshold:
                out.append(self._first_cite[ranked.docs[0]])
            out += [self._articles[d].key for d in self.rank_articles(a, k).docs]
        return list(dict.fromkeys(out))[:k]
