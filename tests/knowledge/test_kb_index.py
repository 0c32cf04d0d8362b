"""The inverted index: what a query sums, whichever way the scoring documents are found."""

from __future__ import annotations

import math
import random

import pytest

from knowledge import index as index_module
from knowledge.index import Bm25Index, top_k, top_k_vector

WORDS = [f"w{i}" for i in range(40)]


def corpus(n: int, seed: int = 5) -> list[dict[str, list[str]]]:
    rng = random.Random(seed)
    return [{"text": rng.choices(WORDS, k=rng.randint(1, 12)), "title": rng.choices(WORDS, k=2)} for _ in range(n)]


def brute_force(docs: list[dict[str, list[str]]], query: list[str], weights: dict[str, float]) -> dict[int, float]:
    """BM25F written out directly, without budgets (every posting kept)."""
    avg = {f: max(1.0, sum(len(d[f]) for d in docs) / len(docs)) for f in weights}
    out: dict[int, float] = {}
    for term in dict.fromkeys(query):
        having = [i for i, d in enumerate(docs) if any(term in d[f] for f in weights)]
        if not having:
            continue
        idf = math.log(1.0 + (len(docs) - len(having) + 0.5) / (len(having) + 0.5))
        for i in having:
            tf = sum(w * docs[i][f].count(term) / (0.25 + 0.75 * len(docs[i][f]) / avg[f]) for f, w in weights.items())
            out[i] = out.get(i, 0.0) + idf * tf * 2.2 / (tf + 1.2)
    return out


@pytest.mark.parametrize("dense_scan_max", [10**9, 0])
def test_scores_are_bm25f_whichever_way_documents_are_found(monkeypatch: pytest.MonkeyPatch,
                                                            dense_scan_max: int) -> None:
    monkeypatch.setattr(index_module, "DENSE_SCAN_MAX", dense_scan_max)
    weights = {"text": 1.0, "title": 2.0}
    docs = corpus(300)
    idx = Bm25Index.build(docs, weights, max_postings=10**6)
    for query in (["w1"], ["w3", "w7", "w3"], ["w0", "w39", "nope"], WORDS[:12]):
        got = idx.scores(query, budget=10**6, max_terms=100)
        want = brute_force(docs, query, weights)
        assert got.keys() == want.keys()
        assert all(math.isclose(got[d], want[d], rel_tol=1e-5) for d in want)
        scores, hit = idx.vector(query, budget=10**6, max_terms=100)  # type: ignore[misc]
        assert top_k_vector(scores, hit, 5) == top_k(got, 5)
    assert idx.vector(["nope"]) is None and idx.scores(["nope"]) == {}


def test_a_field_without_length_normalisation_does_not_penalise_many_phrasings() -> None:
    from knowledge.index import Bm25Builder

    # Doc 0 is asked in many ways, doc 1 in one; both have the query's word once in "similar".
    docs = [{"similar": ["asked", *(f"other{i}" for i in range(30))]}, {"similar": ["asked", "x"]},
            {"similar": ["y"]}]

    def scores(**options: object) -> dict[int, float]:
        builder = Bm25Builder({"similar": 1.0}, **options)  # type: ignore[arg-type]
        for d in docs:
            builder.add(d)
        return builder.finish().scores(["asked"])

    normalised = scores()
    assert normalised[0] < normalised[1]  # the long field's one occurrence weighs less
    flat = scores(field_b={"similar": 0.0})
    assert flat[0] == pytest.approx(flat[1])


def test_a_query_term_weight_scales_that_terms_share_of_every_score() -> None:
    docs = corpus(200)
    idx = Bm25Index.build(docs, {"text": 1.0, "title": 2.0}, max_postings=10**6)
    query = ["w1", "w2"]
    w1, w2 = idx.scores(["w1"], budget=10**6), idx.scores(["w2"], budget=10**6)
    halved, _ = idx.vector(query, budget=10**6, weight=lambda t: 0.5 if t == "w1" else 1.0)  # type: ignore[misc]
    for d in set(w1) | set(w2):
        assert halved[d] == pytest.approx(0.5 * w1.get(d, 0.0) + w2.get(d, 0.0))
