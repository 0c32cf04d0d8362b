from __future__ import annotations

from dataclasses import replace

from knowledge.check import check_citations
from knowledge.entries import CitationRef, Entry
from knowledge.laws import LawCorpus


def kinds(entries: list[Entry], corpus: LawCorpus) -> list[tuple[str, str]]:
    return [(p.entry_id, p.kind) for p in check_citations(entries, corpus)]


def test_fixture_is_clean(fixture_entries: list[Entry], corpus: LawCorpus) -> None:
    assert check_citations(fixture_entries, corpus) == []


def test_planted_problems_are_found(fixture_entries: list[Entry], corpus: LawCorpus) -> None:
    good = fixture_entries[0]
    planted = [
        replace(good, id="missing", citations=(CitationRef("民法典", 1261, "x"),)),
        replace(good, id="renumbered", citations=(CitationRef("治安管理处罚法", 43, "殴打他人的"),)),
        replace(good, id="unknown-law", citations=(CitationRef("婚姻法", 32, "感情确已破裂"),)),
        replace(good, id="many", citations=(good.citations[0],) * 4),
        replace(good, id="long", answer="长" * 501),
        replace(good, id="empty-quote", citations=(CitationRef("民法典", 1079, " "),)),
    ]
    assert kinds(planted, corpus) == [
        ("missing", "missing_article"), ("renumbered", "quote_not_found"), ("unknown-law", "unknown_law"),
        ("many", "too_many_citations"), ("long", "answer_too_long"), ("empty-quote", "no_quote"),
    ]
    problem = check_citations(planted[:1], corpus)[0]
    assert problem.source == "fixture.toml" and "第1261条" in problem.message


def test_quotes_match_across_whitespace_and_width(fixture_entries: list[Entry], corpus: LawCorpus) -> None:
    quote = "调解无效的，应当准予离婚。\n有下列情形之一"
    e = replace(fixture_entries[2], citations=(CitationRef("民法典", 1079, quote),))
    assert check_citations([e], corpus) == []
    e = replace(e, citations=(CitationRef("民法典", 1079, "调解无效的, 应当准予离婚"),))
    assert check_citations([e], corpus) == []


def test_long_answer_with_pages_is_fine(fixture_entries: list[Entry], corpus: LawCorpus) -> None:
    paged = replace(fixture_entries[0], answer="长" * 400 + "\n---\n" + "页" * 400)
    assert check_citations([paged], corpus) == []
    assert kinds([replace(paged, answer="长" * 400 + "页" * 400)], corpus) == [(paged.id, "answer_too_long")]


def test_bundled_content_cites_existing_articles() -> None:
    # What `pufa kb check` runs on the bundled files (with local regulations, as the service loads them).
    from knowledge.entries import load_entries

    from .conftest import LAWS, ROOT

    corpus = LawCorpus.load(LAWS, include_local=True)
    problems = check_citations(load_entries(ROOT / "knowledge" / "data" / "entries"), corpus)
    assert [p for p in problems if p.kind in ("unknown_law", "missing_article")] == []


def test_sub_article_citations_are_checked_against_their_own_text(fixture_entries: list[Entry],
                                                                  corpus: LawCorpus) -> None:
    good = fixture_entries[0]
    helping = replace(good, id="helping", citations=(CitationRef("刑法", 287, "支付结算等帮助", sub=2),))
    parent = replace(good, id="parent", citations=(CitationRef("刑法", 287, "支付结算等帮助"),))
    absent = replace(good, id="absent", citations=(CitationRef("刑法", 287, "支付结算等帮助", sub=9),))
    assert kinds([helping, parent, absent], corpus) == [("parent", "quote_not_found"), ("absent", "missing_article")]
    assert "第287条之九" in check_citations([absent], corpus)[0].message
