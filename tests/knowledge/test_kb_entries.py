from __future__ import annotations

import tomllib
from collections import defaultdict
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from knowledge.entries import CitationRef, Entry, EntryError, dump_topic, entry_from_dict, load_entries

from .conftest import FIXTURE_DIR, ROOT

GOOD = (FIXTURE_DIR / "fixture.toml").read_text(encoding="utf-8")


def test_fixture_loads(fixture_entries: list[Entry]) -> None:
    ids = [e.id for e in fixture_entries]
    assert ids[0] == "fixture-wage-arrears" and len(ids) == 6
    first = fixture_entries[0]
    assert first.topic_key == "fixture" and first.topic == "测试"
    assert first.citations == (CitationRef("保障农民工工资支付条例", 3, "农民工有按时足额获得工资的权利"),)
    assert first.reviewed == date(2026, 11, 28) and first.published
    assert not fixture_entries[-1].published and fixture_entries[-1].reviewed is None


def _write(tmp_path: Path, name: str, text: str) -> Path:
    (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def test_duplicate_id_names_both_files(tmp_path: Path) -> None:
    _write(tmp_path, "a.toml", GOOD)
    _write(tmp_path, "b.toml", GOOD.replace('topic_key = "fixture"', 'topic_key = "other"'))
    with pytest.raises(EntryError) as err:
        load_entries(tmp_path)
    assert "b.toml entry fixture-wage-arrears: duplicate id (also in a.toml)" in str(err.value)


@pytest.mark.parametrize(("old", "new", "message"), [
    ('question = "买到假货怎么办？"\n', "", "fixture-fake-goods: missing or empty 'question'"),
    ('status = "published"\nreviewed = 2026-11-28\n\n[[entries]]\nid = "fixture-divorce"',
     'status = "live"\nreviewed = 2026-11-28\n\n[[entries]]\nid = "fixture-divorce"',
     "fixture-fake-goods: bad status 'live'"),
    ("article = 55,", 'article = "55",', "fixture-fake-goods: citation 1 (消费者权益保护法) needs an integer article"),
    ('keywords = ["假货", "假冒", "退一赔三"]', 'keywords = "假货"', "fixture-fake-goods: 'keywords' must be a list"),
])
def test_bad_entries_are_reported_with_file_and_id(tmp_path: Path, old: str, new: str, message: str) -> None:
    assert old in GOOD
    _write(tmp_path, "bad.toml", GOOD.replace(old, new, 1))
    with pytest.raises(EntryError) as err:
        load_entries(tmp_path)
    assert any(p.startswith("bad.toml entry ") and message in p for p in err.value.problems), err.value.problems


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    _write(tmp_path, "broken.toml", GOOD + "\n[[entries]\n")
    with pytest.raises(EntryError, match=r"broken\.toml: not valid TOML"):
        load_entries(tmp_path)


def _round_trip(tmp_path: Path, topic: str, key: str, entries: list[Entry]) -> list[Entry]:
    _write(tmp_path, f"{key}.toml", dump_topic(topic, key, entries))
    return load_entries(tmp_path)


def test_round_trip_fixture(tmp_path: Path, fixture_entries: list[Entry]) -> None:
    text = dump_topic("测试", "fixture", fixture_entries)
    assert '[[entries]]\nid = "fixture-wage-arrears"' in text and 'answer = """\n' in text
    assert _round_trip(tmp_path, "测试", "fixture", fixture_entries) == fixture_entries


def test_round_trip_every_content_file(tmp_path: Path) -> None:
    entries = load_entries(ROOT / "knowledge" / "data" / "entries")
    by_topic: dict[tuple[str, str], list[Entry]] = defaultdict(list)
    for e in entries:
        by_topic[(e.topic, e.topic_key)].append(e)
    for (topic, key), group in by_topic.items():
        out = tmp_path / key
        out.mkdir()
        assert _round_trip(out, topic, key, group) == group, key


text_st = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40).filter(
    lambda s: s.strip() == s and s != "")


@settings(max_examples=60, deadline=None)
@given(question=text_st, answer=text_st, quote=st.text(max_size=20), similar=st.lists(text_st, max_size=3))
def test_round_trip_any_text(tmp_path_factory: pytest.TempPathFactory, question: str, answer: str,
                             quote: str, similar: list[str]) -> None:
    entry = Entry(id="t-x", topic_key="t", topic="题", question=question, answer=answer,
                  citations=(CitationRef("民法典", 1, quote),), similar=tuple(similar), status="draft")
    text = dump_topic("题", "t", [entry])
    doc = tomllib.loads(text)
    raw = doc["entries"][0]
    assert raw["question"] == question and raw["answer"].strip() == answer
    assert raw["citations"][0]["quote"] == quote and raw["similar"] == similar


def test_entry_from_dict_database_row() -> None:
    e = entry_from_dict({"id": "x-1", "topic_key": "x", "topic": "题", "question": "问", "answer": "答",
                         "citations": [{"law": "《中华人民共和国劳动法》", "article": 50, "quote": "工资"}],
                         "status": "published", "reviewed": "2026-11-28", "similar": ["问问"]})
    assert e.citations[0].law == "劳动法" and e.reviewed == date(2026, 11, 28) and e.similar == ("问问",)
    with pytest.raises(EntryError):
        entry_from_dict({"id": "x-2", "question": "问", "answer": "答", "citations": [], "status": "published"})


def test_sub_article_citation_loads_and_round_trips(tmp_path: Path) -> None:
    # 刑法 第二百八十七条之二 (帮信罪) is what a card-selling answer must be able to cite.
    raw = {"id": "x-3", "topic_key": "x", "topic": "题", "question": "问", "answer": "答", "status": "published",
           "citations": [{"law": "刑法", "article": 287, "sub": 2, "quote": "支付结算等帮助"},
                         {"law": "刑法", "article": 287, "quote": "利用计算机实施"}]}
    e = entry_from_dict(raw)
    assert [(c.article, c.sub) for c in e.citations] == [(287, 2), (287, 0)]
    assert e.citations[0].key == ("刑法", 287, 2) and e.citations[1].key == ("刑法", 287)
    text = dump_topic("题", "x", [e])
    assert "article = 287, sub = 2, quote" in text and "article = 287, quote" in text
    assert _round_trip(tmp_path, "题", "x", [e]) == [e]
    for bad in (0.5, -1, 10, True, "二"):
        with pytest.raises(EntryError, match="sub must be"):
            entry_from_dict({**raw, "citations": [{"law": "刑法", "article": 287, "sub": bad, "quote": "x"}]})
