"""The match helper process: the same answers as the loop, the server's own objects, and a fall
back to the loop when the child fails or a newer view takes over; the helper `pufa serve` preloads
before its own imports, adopted only when its snapshot fits."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings, load_settings, replace
from bot.knowledge_service import KnowledgeHolder, entries_dir, laws_dir
from bot.matchworker import MatchWorker, Preload, preload
from knowledge import snapshot
from knowledge.entries import load_entries
from knowledge.view import DeferredView

TEXTS = ["老板欠我工钱不给咋办", "离婚了娃儿归哪个", "邻居家狗咬了我咋办", "你好", "", "？？？" * 50]
# No curated entry covers it: answered with law articles (the law tier), so the match carries Articles.
LAW_TIER_TEXT = "公司股东会决议程序违法，股东可以请求法院撤销吗"


async def test_worker_answers_like_the_loop_with_the_views_own_objects(knowledge_view: Any) -> None:
    worker = MatchWorker(knowledge_view)
    try:
        assert await worker.ready()  # warmed up: from now on the child answers
        answers = await asyncio.gather(*(worker.match(t) for t in TEXTS * 5))
        for text, got in zip(TEXTS * 5, answers, strict=True):
            local = knowledge_view.match(text)
            assert got == local
            assert got.entry is local.entry  # resolved to the server's object, not a copy
            for a, b in zip(got.articles, local.articles, strict=True):
                assert a is b
        assert not worker.failed and worker.answered == len(TEXTS) * 5  # all by the child
    finally:
        worker.close()
    assert worker.pid < 0  # reaped


async def test_the_loop_answers_until_the_child_has_warmed_up(knowledge_view: Any) -> None:
    worker = MatchWorker(knowledge_view)
    try:
        first = await worker.match(TEXTS[0])  # the child is still matching every entry's question
        assert first == knowledge_view.match(TEXTS[0]) and worker.answered == 0
        assert await worker.ready()
        await worker.match(TEXTS[1])
        assert worker.answered == 1
    finally:
        worker.close()


async def test_a_dead_worker_falls_back_to_the_loop(knowledge_view: Any) -> None:
    worker = MatchWorker(knowledge_view)
    try:
        assert await worker.ready()
        first = await worker.match(TEXTS[0])
        os.kill(worker.pid, signal.SIGKILL)
        again = await asyncio.gather(*(worker.match(t) for t in TEXTS))
        assert again[0] == first
        assert [m.status for m in again] == [knowledge_view.match(t).status for t in TEXTS]
        assert worker.failed
    finally:
        worker.close()


async def test_holder_uses_a_worker_per_view_and_retires_the_old_one(knowledge_view: Any) -> None:
    base = load_settings(None, env={})
    settings = replace(base, knowledge=replace(base.knowledge, match_process=True, match_memory=0))
    holder = KnowledgeHolder(settings, None)
    holder.use(knowledge_view)
    holder.start_worker()
    old = holder._worker
    assert old is not None
    try:
        assert holder.matching == "warming"  # the loop answers until the child has warmed up
        assert (await holder.match(TEXTS[1])) == knowledge_view.match(TEXTS[1])
        assert await old.ready() and holder.matching == "helper"
        holder.use(knowledge_view)  # a reload installs a view (here the same one) with a new worker
        assert holder._worker is not old and holder._worker is not None
        assert old.pid < 0  # nothing was waiting: the old child stopped at once
        assert (await holder.match(TEXTS[2])) == knowledge_view.match(TEXTS[2])
        assert holder._worker is not None and await holder._worker.ready()
        os.kill(holder._worker.pid, signal.SIGKILL)
        assert (await holder.match(TEXTS[3])) == knowledge_view.match(TEXTS[3])
        assert holder.matching == "loop"  # the child died: /healthz says where matches run
    finally:
        holder.close()


def _settings_with_cache(cache: Path) -> Settings:
    base = load_settings(None, env={})
    return replace(base, knowledge=replace(base.knowledge, cache_dir=str(cache), match_process=True, match_memory=0))


def _snapshot_for_bundled_entries(view: Any, cache: Path, settings: Settings, key: str | None = None) -> None:
    """What a start (or `pufa kb import`) leaves in the cache: the built view under its key."""
    entries = load_entries(entries_dir(settings))
    snapshot.save(view, cache, key or snapshot.fingerprint(entries, [laws_dir(settings)]))


@dataclass
class Start:
    """A server's start with a helper preloaded from the snapshot in the cache (``pufa serve``)."""

    settings: Settings
    helper: Preload
    holder: KnowledgeHolder


@pytest.fixture
async def start(knowledge_view: Any, tmp_path: Path) -> AsyncIterator[Start]:
    settings = _settings_with_cache(tmp_path)
    _snapshot_for_bundled_entries(knowledge_view, tmp_path, settings)
    helper = preload(str(tmp_path))
    assert helper is not None
    holder = KnowledgeHolder(settings, None)
    yield Start(settings, helper, holder)
    holder.close()


async def test_a_preloaded_helper_answers_from_the_start_and_the_server_loads_no_index(
        knowledge_view: Any, start: Start) -> None:
    holder = start.holder
    view = await holder.load(preload=start.helper)
    assert isinstance(view, DeferredView) and holder.matching == "helper"  # no warm-up to wait for
    texts = [*TEXTS, LAW_TIER_TEXT]
    for text in texts:
        assert await holder.match(text) == knowledge_view.match(text)
    assert holder._worker is not None and holder._worker.answered == len(texts)
    # The menu and the numbered choices come from the entries the server read itself …
    assert view.topics() == knowledge_view.topics()
    some = knowledge_view.topics()[0][2][0]
    assert view.entry(some.id) == some
    # … and the full text of an article (原文) from the law corpus, loaded on its own:
    assert view.article("民法典", 1079) == knowledge_view.article("民法典", 1079)
    assert not view.loaded  # the server never loaded its own copy of the index


async def test_the_staff_pages_analysis_loads_the_index_once_and_a_helper_forked_from_it_takes_over(
        knowledge_view: Any, start: Start) -> None:
    holder = start.holder
    deferred = await holder.load(preload=start.helper)
    holder.start_worker()  # as the app does once the heap is frozen
    adopted = holder._worker
    own = await holder.own_index()  # what the hit test and the unanswered page call
    assert not isinstance(own, DeferredView) and holder.current is own
    assert own.kb.rank_citations(LAW_TIER_TEXT) == knowledge_view.kb.rank_citations(LAW_TIER_TEXT)
    assert adopted is not None and adopted.pid < 0  # the preloaded helper was retired …
    assert holder._worker is not None and holder._worker is not adopted  # … for one sharing this copy
    assert await holder._worker.ready()
    assert await holder.match(LAW_TIER_TEXT) == knowledge_view.match(LAW_TIER_TEXT)
    assert await holder.own_index() is own  # once
    assert not deferred.loaded


async def test_a_preloaded_helper_with_another_snapshot_is_not_used(knowledge_view: Any, tmp_path: Path) -> None:
    settings = _settings_with_cache(tmp_path)
    _snapshot_for_bundled_entries(knowledge_view, tmp_path, settings, key="0" * 32)  # other entries' snapshot
    helper = preload(str(tmp_path))
    assert helper is not None
    holder = KnowledgeHolder(settings, None)
    assert await holder._adopt(helper, load_entries(entries_dir(settings))) is None
    with pytest.raises(ChildProcessError):
        os.waitpid(helper.pid, os.WNOHANG)  # stopped and reaped
    assert holder.matching == "loop" and holder._view is None


async def test_when_the_preloaded_helper_dies_the_server_loads_its_own_copy(
        knowledge_view: Any, start: Start) -> None:
    view = await start.holder.load(preload=start.helper)
    assert isinstance(view, DeferredView)
    os.kill(start.helper.pid, signal.SIGKILL)
    answers = [await start.holder.match(t) for t in TEXTS]
    assert answers == [knowledge_view.match(t) for t in TEXTS]
    assert start.holder.matching == "loop" and view.loaded


def test_no_preloaded_helper_without_a_snapshot(tmp_path: Path) -> None:
    assert preload(str(tmp_path)) is None
    assert preload("") is None


async def test_a_preloaded_helper_exits_when_the_server_goes_before_adopting_it(start: Start) -> None:
    helper = start.helper
    helper.sock.close()  # what the server's death does to its end
    for _ in range(400):  # it may still be loading: it notices when it next reads or writes
        pid, _status = os.waitpid(helper.pid, os.WNOHANG)
        if pid:
            return
        await asyncio.sleep(0.05)
    os.kill(helper.pid, signal.SIGKILL)
    raise AssertionError("the helper outlived its server")
