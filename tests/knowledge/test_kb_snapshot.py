"""The persisted index snapshot: a loaded copy answers exactly like the build, and any change of
the build's inputs, or a damaged file, means a rebuild rather than a stale or broken index."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path
from types import MappingProxyType

from knowledge import snapshot
from knowledge.engine import KnowledgeBase
from knowledge.entries import Entry

QUESTIONS = ("老板欠我工钱不给咋办", "网上买的东西不想要了能退吗", "承包地被村里收回了", "你好", "xyz")


def test_loaded_copy_answers_like_the_build(kb: KnowledgeBase, tmp_path: Path) -> None:
    snapshot.save(kb, tmp_path, "k1")
    copy = snapshot.load(tmp_path, "k1")
    assert isinstance(copy, KnowledgeBase) and copy is not kb
    for q in QUESTIONS:
        assert copy.match(q) == kb.match(q)


def test_proxies_and_locks_survive(tmp_path: Path) -> None:
    obj = {"view": MappingProxyType({"a": 1}), "lock": threading.Lock(), "rlock": threading.RLock()}
    snapshot.save(obj, tmp_path, "k")
    copy = snapshot.load(tmp_path, "k")
    assert copy["view"] == {"a": 1} and isinstance(copy["view"], MappingProxyType)
    with copy["lock"], copy["rlock"]:  # fresh, unheld locks
        pass


def test_key_follows_content_and_files(fixture_entries: list[Entry], tmp_path: Path) -> None:
    laws = tmp_path / "laws"
    laws.mkdir()
    (laws / "a.md").write_text("第一条 原文", encoding="utf-8")
    key = snapshot.fingerprint(fixture_entries, [laws])
    assert snapshot.fingerprint(list(fixture_entries), [laws]) == key
    edited = [dataclasses.replace(fixture_entries[0], answer="改过的答案"), *fixture_entries[1:]]
    assert snapshot.fingerprint(edited, [laws]) != key
    (laws / "a.md").write_text("第一条 修改后的原文", encoding="utf-8")
    assert snapshot.fingerprint(fixture_entries, [laws]) != key


def test_damaged_or_missing_snapshot_is_ignored(tmp_path: Path) -> None:
    assert snapshot.load(tmp_path, "nope") is None
    snapshot.path_for(tmp_path, "bad").write_bytes(b"not a pickle")
    assert snapshot.load(tmp_path, "bad") is None


def test_new_snapshot_replaces_older_ones(tmp_path: Path) -> None:
    snapshot.save([1], tmp_path, "old")
    snapshot.save([2], tmp_path, "new")
    assert snapshot.load(tmp_path, "old") is None
    assert snapshot.load(tmp_path, "new") == [2]
