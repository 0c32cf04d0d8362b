"""The knowledge base as the platform sees it: built off the event loop, swapped atomically.

``knowledge/`` is pure and synchronous. Here it is loaded (entries from the database when they have
been imported, else the bundled files), built in a worker thread, and replaced as a whole on
reload, so answering never waits for a rebuild and never sees half an index.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections import OrderedDict
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.db.models import KbEntry
from bot.matchworker import MatchWorker, Preload
from knowledge import snapshot
from knowledge.entries import Entry, entry_from_dict, load_entries
from knowledge.laws import LawCorpus
from knowledge.match import Match
from knowledge.view import DeferredView, KnowledgeView

log = logging.getLogger("pufa.knowledge")

# How long the server waits for a preloaded match helper to say which snapshot it loaded (about a
# second; it is usually done before the server asks). Past this the server loads its own.
PRELOAD_WAIT = 10.0

PACKAGE_DATA = Path(__file__).resolve().parent.parent / "knowledge" / "data"


def entries_dir(settings: Settings) -> Path:
    return Path(settings.knowledge.entries_dir) if settings.knowledge.entries_dir else PACKAGE_DATA / "entries"


def laws_dir(settings: Settings) -> Path:
    return Path(settings.knowledge.laws_dir) if settings.knowledge.laws_dir else PACKAGE_DATA / "laws"


def load_corpus(settings: Settings) -> LawCorpus:
    # The bundled local regulations are the town's own province's (重庆市禁毒条例), cited by answers.
    return LawCorpus.load(laws_dir(settings), include_local=True)


def build_view(entries: list[Entry], corpus: LawCorpus, cache_dir: str) -> KnowledgeView:
    # Imported here: a start whose preloaded helper answers never needs the engine (numpy, jieba).
    from knowledge.engine import KnowledgeBase
    from knowledge.tokenizer import Tokenizer

    tokenizer = Tokenizer(cache_dir=cache_dir)
    return KnowledgeView(KnowledgeBase.build(entries, corpus, tokenizer=tokenizer), corpus)


def own_copy(entries: list[Entry], settings: Settings, key: str) -> KnowledgeView:
    """The server's own copy of the index an adopted helper loaded: that snapshot by its key, else built
    (not saved: a newer snapshot, of an import meanwhile, must not be replaced by this one)."""
    view = snapshot.load(settings.knowledge.cache_dir, key)
    return view if isinstance(view, KnowledgeView) else build_view(entries, load_corpus(settings),
                                                                   settings.knowledge.cache_dir)


def snapshot_view(entries: list[Entry], settings: Settings) -> KnowledgeView:
    """The view for these entries from the snapshot in the cache directory, else built (and saved).

    A start with the snapshot skips the index build (the better part of the cold start); the key
    covers the entries, the law files and the ``knowledge`` package, so a change rebuilds.
    """
    cache_dir = settings.knowledge.cache_dir
    if not cache_dir:
        return build_view(entries, load_corpus(settings), cache_dir)
    key = snapshot.fingerprint(entries, [laws_dir(settings)])
    view = snapshot.load(cache_dir, key)
    if isinstance(view, KnowledgeView):
        return view
    view = build_view(entries, load_corpus(settings), cache_dir)
    view.match("你好")  # jieba is ready before pickling, so the copy needs no warm-up either
    snapshot.save(view, cache_dir, key)
    return view


async def entries_from_db(sessions: async_sessionmaker[AsyncSession]) -> list[Entry]:
    async with sessions() as session:
        rows = (await session.execute(select(KbEntry))).scalars().all()
    return [entry_from_dict(row_to_dict(r)) for r in rows]


def row_to_dict(row: KbEntry) -> dict[str, Any]:
    return {
        "id": row.id, "topic_key": row.topic_key, "topic": row.topic, "question": row.question,
        "similar": list(row.similar), "keywords": list(row.keywords), "answer": row.answer,
        "citations": list(row.citations), "tags": list(row.tags), "contacts": list(row.contacts),
        "status": row.status, "reviewed": row.reviewed,
    }


class KnowledgeHolder:
    def __init__(self, settings: Settings, sessions: async_sessionmaker[AsyncSession] | None) -> None:
        self.settings = settings
        self.sessions = sessions
        self._view: KnowledgeView | None = None
        self._memory: OrderedDict[str, Match] | None = None
        self._worker: MatchWorker | None = None
        self._workers_on = False

    def _install(self, view: KnowledgeView, worker: MatchWorker | None = None) -> None:
        # One assignment each, no await between them: a request sees the old pair or the new one.
        old_worker = self._worker
        self._view = view
        # Residents ask the same things in the same words (greetings, menu words, forwarded
        # questions); a match is a pure function of the text and the immutable view, so a remembered
        # one is exact, and a reload starts a new memory ([knowledge] match_memory distinct texts).
        self._memory = OrderedDict() if self.settings.knowledge.match_memory > 0 else None
        self._worker = worker or (self._new_worker(view) if self._workers_on else None)
        if old_worker is not None:
            old_worker.retire()

    def _new_worker(self, view: KnowledgeView) -> MatchWorker | None:
        if not self.settings.knowledge.match_process:
            return None
        # Frozen first: the collector would otherwise write to the index's pages in either process
        # and each would get its own copy of them.
        gc.freeze()
        try:
            return MatchWorker(view)
        except OSError as exc:
            log.warning("no match worker (%s): matching in the server's loop", exc)
            return None

    def start_worker(self) -> None:
        """From now on matches run in a helper process ([knowledge] match_process), this view's and
        every reloaded one's; called once the long-lived heap is frozen."""
        self._workers_on = True
        if self._view is not None and self._worker is None:
            self._worker = self._new_worker(self._view)

    @property
    def matching(self) -> str:
        """Where matches run now: "helper" (the helper process), "warming" (it is starting or warming
        up; the loop answers meanwhile) or "loop" (no helper, or it failed)."""
        worker = self._worker
        if worker is None or worker.failed:
            return "loop"
        return "helper" if worker.serving else "warming"

    @property
    def current(self) -> KnowledgeView:
        if self._view is None:
            raise RuntimeError("knowledge base not loaded yet")
        return self._view

    def use(self, view: KnowledgeView) -> None:
        self._install(view)

    async def load(self, preload: Preload | None = None) -> KnowledgeView:
        """Load (or reload) the knowledge base; ``preload``: a match helper started with the process
        (``pufa serve``), adopted if it loaded the snapshot of these entries, else discarded."""
        loop = asyncio.get_running_loop()
        entries: list[Entry] = []
        if self.sessions is not None:
            entries = await entries_from_db(self.sessions)
        if not entries:
            entries = await loop.run_in_executor(None, load_entries, entries_dir(self.settings))
            log.info("knowledge base: %d entries from the bundled files", len(entries))
        if preload is not None:
            adopted = await self._adopt(preload, entries)
            if adopted is not None:
                return adopted
        # Built (or loaded from the snapshot) outside the answering thread, so answers continue
        # from the old view meanwhile.
        view = await loop.run_in_executor(None, snapshot_view, entries, self.settings)
        view.match("你好")  # warm-up: jieba loads its dictionary on first use
        self._install(view)
        return view

    async def _adopt(self, preload: Preload, entries: list[Entry]) -> KnowledgeView | None:
        loop = asyncio.get_running_loop()
        owned = False  # once a MatchWorker owns the helper, it stops it
        try:
            key = await loop.run_in_executor(None, snapshot.fingerprint, entries, [laws_dir(self.settings)])
            loaded = await preload.loaded_key(PRELOAD_WAIT)
            if loaded != key or not self.settings.knowledge.match_process:
                log.info("preloaded match helper not used (it loaded %s)", "another snapshot" if loaded else "none")
                return None
            # Matches go to the helper, which loaded the snapshot while the server was importing the
            # rest; the server keeps the entries and loads the rest only when needed (DeferredView).
            settings = self.settings
            view = DeferredView(entries, lambda: own_copy(entries, settings, key), lambda: load_corpus(settings))
            worker = MatchWorker(view, adopt=preload)
            owned = True
            if not await worker.ready():
                worker.close()
                return None
            self._install(view, worker)
            return view
        finally:
            if not owned:
                preload.discard()

    async def own_index(self) -> KnowledgeView:
        """The current view with its index in this process (the staff pages analyse with it). After a
        start whose preloaded helper answers, loaded now as a reload loads it, off the loop, and a
        helper forked from it takes over the matching: one shared copy, not two."""
        view = self.current
        if isinstance(view, DeferredView) and not view.loaded:
            return await self.load()
        return view

    async def match(self, text: str) -> Match:
        # Matching takes ~0.2 ms (docs/benchmarks.md) for the ≤500 characters handlers pass in. Under
        # load it was the largest item of the loop's CPU (py-spy), and a thread would hold the same
        # GIL: so it runs in a helper process when there is one (bot.matchworker), else on the loop,
        # which costs less than a hand-off to a thread. Index builds stay off the loop. Repeated
        # texts are remembered.
        view, memory, worker = self._view, self._memory, self._worker
        if view is None:
            raise RuntimeError("knowledge base not loaded yet")
        if memory is not None:
            found = memory.get(text)
            if found is not None:
                memory.move_to_end(text)
                return found
        result = await worker.match(text) if worker is not None else view.match(text)
        if memory is not None:  # this view's memory, even if a reload came meanwhile
            memory[text] = result
            if len(memory) > self.settings.knowledge.match_memory:
                memory.popitem(last=False)
        return result

    def close(self) -> None:
        """Stop the match worker; builds run in the loop's default executor."""
        self._workers_on = False
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.close()
