"""Fixtures for the knowledge tests: the real law corpus, a small entry fixture, one tokenizer.

Building over the full corpus takes seconds, so the expensive objects are session-scoped.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.engine import KnowledgeBase
from knowledge.entries import Entry, load_entries
from knowledge.laws import LawCorpus
from knowledge.tokenizer import Tokenizer

ROOT = Path(__file__).resolve().parents[2]
LAWS = ROOT / "knowledge" / "data" / "laws"
FIXTURE_DIR = Path(__file__).resolve().parent / "data"
# The laws the fixture entries cite, plus one more so the article tier has distractors.
FIXTURE_LAWS = ("保障农民工工资支付条例", "消费者权益保护法", "民法典", "土地管理法", "劳动合同法")


@pytest.fixture(scope="session")
def corpus() -> LawCorpus:
    return LawCorpus.load(LAWS)


@pytest.fixture(scope="session")
def small_corpus(corpus: LawCorpus) -> LawCorpus:
    return LawCorpus([a for law in FIXTURE_LAWS for a in corpus.articles(law)])


@pytest.fixture(scope="session")
def tokenizer(tmp_path_factory: pytest.TempPathFactory) -> Tokenizer:
    tk = Tokenizer(cache_dir=tmp_path_factory.mktemp("kb-jieba-cache"))
    tk.warm_up()
    return tk


@pytest.fixture(scope="session")
def fixture_entries() -> list[Entry]:
    return load_entries(FIXTURE_DIR)


@pytest.fixture(scope="session")
def kb(fixture_entries: list[Entry], small_corpus: LawCorpus, tokenizer: Tokenizer) -> KnowledgeBase:
    return KnowledgeBase.build(fixture_entries, small_corpus, tokenizer=tokenizer)
