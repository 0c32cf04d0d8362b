"""A BM25F inverted index with precomputed impacts.

Each document has several fields (question, similar phrasings, keywords, answer …), each with a
weight. The per-(term, document) BM25F contribution does not depend on the query, so it is computed
once at build time and a query only sums impacts.

Speed and memory:
- postings live in two flat ``array``s for the whole index (documents by impact, their impacts), each
  term owning one slice of them: per-term arrays cost ~200 bytes of object overhead each, which at 100k
  entries was most of the index (most bigrams occur once). Membership (``contains``) scans the term's
  slice (in numpy when long): it is asked only for the top document of a query, and a sorted copy for bisection cost a
  third of the postings' memory;
- a term's postings are sorted by impact, best first;
- a query reads at most ``budget`` postings in all, shared between its terms: a term found in
  thousands of documents cannot decide the best match on its own, and its weakest postings are
  the ones skipped (score-at-a-time, as in impact-ordered indexes);
- the builder streams documents: only a sample is buffered to estimate the average field lengths;
- a query adds up its terms' slices in numpy (one vectorised add per term into a dense score vector):
  the per-posting Python loop was most of a query's time (bench/kb_bench.py). The sums are the same
  float64 additions in the same order; only ties across the k-th place may resolve differently.
"""

from __future__ import annotations

import heapq
import math
from array import array
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["DENSE_SCAN_MAX", "Bm25Builder", "Bm25Index", "Hit", "top_k", "top_k_vector"]

Doc = Mapping[str, Sequence[str]]
DENSE_SCAN_MAX = 30_000  # documents; see Bm25Index.vector (measured at 10k and 100k, bench/kb_bench.py)


@dataclass(frozen=True)
class Hit:
    doc: int
    score: float


class Bm25Index:
    """Immutable after build; safe to query from several threads."""

    def __init__(self, terms: dict[str, int], bounds: array[int], docs: array[int], impacts: array[float],
                 idf: array[float], n_docs: int) -> None:
        self._terms = terms  # term → its number; term i owns postings bounds[i]:bounds[i + 1]
        self._bounds = bounds
        self._docs = docs  # per term: documents by impact, best first
        self._impacts = impacts
        self._idf = idf  # by term number
        self.n_docs = n_docs
        # A query word no document has is as informative as the rarest known word.
        self.default_idf = math.log(1.0 + (n_docs + 0.5) / 0.5)
        self._views: tuple[Any, Any] | None = None  # numpy views of the postings, made on first use

    def __getstate__(self) -> dict[str, Any]:
        # The numpy views point into the arrays' buffers: the snapshot keeps only the arrays.
        return {**self.__dict__, "_views": None}

    def _postings(self) -> tuple[Any, Any]:
        views = self._views
        if views is None:  # two threads may both make them: the same read-only views, no harm
            views = self._views = (np.frombuffer(self._docs, dtype=np.int32),
                                   np.frombuffer(self._impacts, dtype=np.float32))
        return views

    @classmethod
    def build(cls, docs: Iterable[Doc], weights: Mapping[str, float], **options: float) -> Bm25Index:
        builder = Bm25Builder(weights, **options)  # type: ignore[arg-type]
        for doc in docs:
            builder.add(doc)
        return builder.finish()

    def __contains__(self, term: str) -> bool:
        return term in self._terms

    def term_idf(self, term: str) -> float:
        tid = self._terms.get(term)
        return self.default_idf if tid is None else self._idf[tid]

    def vector(self, terms: Iterable[str], budget: int = 8000, max_terms: int = 24,
               weight: Callable[[str], float] | None = None) -> tuple[Any, Any] | None:
        """(scores, hit): summed impacts for every document (a float64 numpy vector, 0 where no term
        occurs) and the documents that score (sorted; finding them in the vector costs more than the
        whole query at 100k documents), or None when no query term is known. Each distinct query term
        counts once.

        Rare terms first, at most ``max_terms`` of them (a long story's commonest words add nothing
        but time); each term reads its share of the remaining budget of postings. ``weight``: a
        factor per query term (default 1 for every term)."""
        ids = self._terms
        idf = self._idf
        known = sorted((t for t in dict.fromkeys(terms) if t in ids), key=lambda t: -idf[ids[t]])[:max_terms]
        if not known:
            return None
        left = budget
        bounds = self._bounds
        all_docs, all_impacts = self._postings()
        acc = np.zeros(self.n_docs, dtype=np.float64)
        touched = []
        for i, term in enumerate(known):
            tid = ids[term]
            lo = bounds[tid]
            n = min(bounds[tid + 1] - lo, max(1, left // (len(known) - i)))
            left -= n
            docs = all_docs[lo:lo + n]
            # A document occurs once in a term's postings, so the fancy-indexed add is exact.
            factor = 1.0 if weight is None else weight(term)
            acc[docs] += all_impacts[lo:lo + n] if factor == 1.0 else factor * all_impacts[lo:lo + n]
            touched.append(docs)
        # The same documents either way (every impact is positive): scanning a short vector is
        # cheaper than sorting the touched postings, sorting them is cheaper for a long one.
        if self.n_docs <= DENSE_SCAN_MAX:
            return acc, np.flatnonzero(acc)
        return acc, np.unique(np.concatenate(touched))

    def scores(self, terms: Iterable[str], budget: int = 8000, max_terms: int = 24) -> dict[int, float]:
        """:meth:`vector` as {document: score} for the documents that score."""
        found = self.vector(terms, budget, max_terms)
        if found is None:
            return {}
        acc, hit = found
        return dict(zip(hit.tolist(), acc[hit].tolist(), strict=True))

    def contains(self, term: str, doc: int) -> bool:
        tid = self._terms.get(term)
        if tid is None:
            return False
        lo, hi = self._bounds[tid], self._bounds[tid + 1]
        if hi - lo <= 16:  # most terms: a short slice is quicker to scan than to hand to numpy
            return doc in self._docs[lo:hi]
        # `in` on an array slice compares element by element as Python ints (≈0.1 ms for a term in
        # thousands of documents, asked for every word of a long question): compare in numpy.
        return bool((self._postings()[0][lo:hi] == doc).any())

    def idf_share(self, terms: Iterable[str], keep: Callable[[str], bool]) -> float:
        """Share of the query's idf (by this index, each distinct term once) made of terms ``keep``
        accepts."""
        unique = list(dict.fromkeys(terms))
        total = sum(self.term_idf(t) for t in unique)
        return sum(self.term_idf(t) for t in unique if keep(t)) / total if total else 0.0

    def coverage(self, terms: Iterable[str], doc: int) -> float:
        """Share of the query's idf found in ``doc``: how much of the question it answers."""
        return self.idf_share(terms, lambda t: self.contains(t, doc))

    def known(self, terms: Iterable[str]) -> float:
        """Share of the query's idf made of words found in any document."""
        return self.idf_share(terms, self._terms.__contains__)

    def search(self, terms: Iterable[str], k: int = 10) -> list[Hit]:
        return [Hit(doc, score) for score, doc in top_k(self.scores(terms), k)]


def top_k(scores: dict[int, float], k: int) -> list[tuple[float, int]]:
    """The k best (score, doc) pairs; ties go to the higher doc id. No key function: it stays in C."""
    return heapq.nlargest(k, zip(scores.values(), scores.keys(), strict=True))


def top_k_vector(vector: Any, hit: Any, k: int) -> list[tuple[float, int]]:
    """:func:`top_k` of a dense score vector over the documents ``hit`` that score, without a Python
    loop over them: partition, then order only the k. A tie across the k-th place may keep another of
    the tied documents than :func:`top_k` would (none of the evaluation's replies changed)."""
    if k <= 0:
        return []
    if len(hit) > k:
        hit = hit[np.argpartition(vector[hit], len(hit) - k)[len(hit) - k:]]
    return sorted(zip(vector[hit].tolist(), hit.tolist(), strict=True), reverse=True)


class Bm25Builder:
    """Adds documents one at a time; ``finish`` computes idf and impacts."""

    SAMPLE = 2000  # documents buffered to estimate the average length of each field

    def __init__(self, weights: Mapping[str, float], *, k1: float = 1.2, b: float = 0.75,
                 field_b: Mapping[str, float] | None = None, max_postings: int = 5000) -> None:
        """``field_b``: length normalisation per field where it differs from ``b``."""
        self.weights = {f: w for f, w in weights.items() if w > 0}
        self.k1, self.b, self.max_postings = k1, b, max_postings
        self._b = {f: (field_b or {}).get(f, b) for f in self.weights}
        self._buffer: list[Doc] = []
        self._avg: dict[str, float] | None = None
        self._docs: dict[str, array[int]] = defaultdict(lambda: array("i"))
        self._tf: dict[str, array[float]] = defaultdict(lambda: array("f"))
        self._n = 0

    def add(self, doc: Doc) -> None:
        if self._avg is None:
            self._buffer.append(doc)
            if len(self._buffer) >= self.SAMPLE:
                self._flush()
        else:
            self._index(doc)

    def _flush(self) -> None:
        n = max(1, len(self._buffer))
        self._avg = {f: max(1.0, sum(len(d.get(f, ())) for d in self._buffer) / n) for f in self.weights}
        buffered, self._buffer = self._buffer, []
        for doc in buffered:
            self._index(doc)

    def _index(self, doc: Doc) -> None:
        assert self._avg is not None
        tf: dict[str, float] = defaultdict(float)
        for f, weight in self.weights.items():
            terms = doc.get(f, ())
            if terms:
                b = self._b[f]
                norm = 1.0 - b + b * len(terms) / self._avg[f]
                for term, count in Counter(terms).items():
                    tf[term] += weight * count / norm
        for term, value in tf.items():
            self._docs[term].append(self._n)
            self._tf[term].append(value)
        self._n += 1

    def finish(self) -> Bm25Index:
        if self._avg is None:
            self._flush()
        n, k1 = self._n, self.k1
        terms: dict[str, int] = {}
        bounds, docs_out, impacts_out = array("q", [0]), array("i"), array("f")
        idf = array("d")
        for term in list(self._docs):
            # Popped as we go: the builder's per-term arrays are freed while the flat ones grow.
            docs, values = self._docs.pop(term), self._tf.pop(term)
            w = math.log(1.0 + (n - len(docs) + 0.5) / (len(docs) + 0.5))
            impacts = [w * v * (k1 + 1) / (v + k1) for v in values]
            order = sorted(range(len(docs)), key=impacts.__getitem__, reverse=True)[: self.max_postings]
            terms[term] = len(terms)
            idf.append(w)
            docs_out.extend(docs[i] for i in order)
            impacts_out.extend(impacts[i] for i in order)
            bounds.append(len(docs_out))
        return Bm25Index(terms, bounds, docs_out, impacts_out, idf, n)
