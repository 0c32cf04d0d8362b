from __future__ import annotations

from dataclasses import replace

from knowledge.baselines import KeywordRules
from knowledge.engine import Citation, KnowledgeBase, Match
from knowledge.entries import Entry
from knowledge.evaluate import DevItem, load_dev, render_markdown, score_resident, score_stard, split_of

from .conftest import ROOT


def test_split_is_deterministic_and_about_a_third() -> None:
    questions = [f"问题{i}" for i in range(600)]
    held = [q for q in questions if split_of(q) == "heldout"]
    assert 150 < len(held) < 250
    assert [split_of(q) for q in questions] == [split_of(q) for q in questions]
    assert split_of(" 问题1 ") == split_of("问题1")


def _answer(law: str, article: int) -> Match:
    return Match("answered", "entry", None, 0.9, (Citation(law, article),), (), (), (), None)


NONE = Match("no_match", "none", None, 0.0, (), (), (), (), None)


def test_score_resident_counts() -> None:
    items = [DevItem("甲", (("民法典", 1),)), DevItem("乙", (("民法典", 2),)), DevItem("丙", (("民法典", 3),)),
             DevItem("丁", ()), DevItem("戊", ())]
    replies = {"甲": _answer("民法典", 1), "乙": _answer("民法典", 9), "丙": NONE, "丁": NONE, "戊": _answer("刑法", 1)}
    s = score_resident("x", items, replies.__getitem__)
    assert (s.n, s.n_in_scope) == (5, 3)
    assert abs(s.top1 - 1 / 3) < 1e-9 and abs(s.wrong - 1 / 3) < 1e-9 and s.oos_rejection == 0.5
    assert "| x | 5 (3) | 33.3% |" in render_markdown(type("R", (), {"resident": (s,), "stard": ()})())  # type: ignore[arg-type]


def test_score_stard() -> None:
    items = [DevItem("a", (("民法典", 1),)), DevItem("b", (("民法典", 2),))]
    ranks = {"a": [("民法典", 1)], "b": [("民法典", 5), ("民法典", 6), ("民法典", 2)]}
    s = score_stard("s", items, ranks.__getitem__)
    assert (s.hit1, s.hit3) == (0.5, 1.0)


def test_keyword_baseline(kb: KnowledgeBase, fixture_entries: list[Entry]) -> None:
    rules = KeywordRules(kb, fixture_entries)
    assert rules.match("我遇到讨薪的事").entry.id == "fixture-wage-arrears"  # type: ignore[union-attr]
    assert rules.match("今天天气好").status == "no_match"


def test_dev_files_parse() -> None:
    items = load_dev(ROOT / "knowledge" / "eval" / "resident.jsonl")
    assert items and all(isinstance(i.q, str) for i in items)
    assert any(not i.in_scope for i in items)
    assert all(law and not law.startswith("最高人民法院") for i in items for law, _ in i.cite)



def test_pufas_law_tier_replies_are_counted_apart_but_a_baselines_article_answers_are_not(kb: KnowledgeBase) -> None:
    items = [DevItem("甲", (("民法典", 1),)), DevItem("乙", (("民法典", 2),))]
    law = Match("answered", "law", None, 0.3, (Citation("民法典", 9),), (), (), (), None)
    replies = {"甲": _answer("民法典", 1), "乙": law}
    ours = score_resident("pufa", items, replies.__getitem__, kb)
    baseline = score_resident("bm25", items, replies.__getitem__)
    assert (ours.wrong, ours.law_wrong, ours.law_tier) == (0.0, 0.5, 0.5)  # hedged: "may be related"
    assert (baseline.wrong, baseline.law_wrong, baseline.law_tier) == (0.5, 0.0, 0.0)  # a plain answer


def test_a_wrong_answer_offering_the_right_one_below_is_counted_apart(kb: KnowledgeBase) -> None:
    from knowledge.engine import Candidate

    items = [DevItem("甲", (("民法典", 1067),)), DevItem("乙", (("民法典", 1067),))]
    elder = Candidate("fixture-elder-support", "子女不赡养老人怎么办？", 1.0)  # rests on 民法典 1067
    divorce = Candidate("fixture-divorce", "想离婚，对方不同意怎么办？", 1.0)
    replies = {"甲": replace(_answer("民法典", 1079), alternatives=(divorce, elder)),
               "乙": replace(_answer("民法典", 1079), alternatives=(divorce,))}
    s = score_resident("pufa", items, replies.__getitem__, kb)
    assert (s.top1, s.wrong, s.wrong_offered) == (0.0, 1.0, 0.5)
