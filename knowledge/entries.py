"""Curated entries: load the topic TOML files (docs/knowledge-format.md) and write them back.

Loading collects every problem in every file before failing, so a content writer sees all mistakes
at once, each with its file and entry id.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from knowledge.lawnames import normalize_law_name
from knowledge.laws import Cite, cite_key

__all__ = ["STATUSES", "CitationRef", "Entry", "EntryError", "dump_topic", "entry_from_dict", "load_entries"]

STATUSES = ("draft", "published")
_LIST_FIELDS = ("similar", "keywords", "tags", "contacts")


class EntryError(ValueError):
    """Bad content; ``problems`` holds one readable line per mistake."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class CitationRef:
    law: str
    article: int
    quote: str = ""
    sub: int = 0  # 2 for 第二百八十七条之二 (刑法's inserted articles)

    @property
    def key(self) -> Cite:
        return cite_key(self.law, self.article, self.sub)


@dataclass(frozen=True)
class Entry:
    id: str
    topic_key: str
    topic: str
    question: str
    answer: str
    citations: tuple[CitationRef, ...]
    similar: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    contacts: tuple[str, ...] = ()
    status: str = "published"
    reviewed: date | None = None
    # Where the entry came from (file name), for error messages only.
    source: str = field(default="", compare=False)

    @property
    def published(self) -> bool:
        return self.status == "published"


def _str_list(raw: Mapping[str, Any], key: str, where: str, problems: list[str]) -> tuple[str, ...]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append(f"{where}: '{key}' must be a list of strings")
        return ()
    return tuple(v.strip() for v in value if v.strip())


def _reviewed(value: Any, where: str, problems: list[str]) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        problems.append(f"{where}: 'reviewed' is not a date: {value!r}")
        return None


def _entry(raw: Mapping[str, Any], topic_key: str, topic: str, where: str, problems: list[str]) -> Entry | None:
    before = len(problems)
    for key in ("id", "question", "answer"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            problems.append(f"{where}: missing or empty '{key}'")
    status = raw.get("status", "")
    if status not in STATUSES:
        problems.append(f"{where}: bad status {status!r} (use {' | '.join(STATUSES)})")
    cites: list[CitationRef] = []
    raw_cites = raw.get("citations")
    if not isinstance(raw_cites, list) or not raw_cites:
        problems.append(f"{where}: 'citations' must be a non-empty list")
        raw_cites = []
    for i, c in enumerate(raw_cites, 1):
        if not isinstance(c, Mapping) or not isinstance(c.get("law"), str):
            problems.append(f"{where}: citation {i} needs law = \"...\"")
            continue
        art = c.get("article")
        if isinstance(art, bool) or not isinstance(art, int) or art <= 0:
            problems.append(f"{where}: citation {i} ({c['law']}) needs an integer article")
            continue
        quote = c.get("quote", "")
        if not isinstance(quote, str):
            problems.append(f"{where}: citation {i} quote must be a string")
            continue
        sub = c.get("sub", 0)
        if isinstance(sub, bool) or not isinstance(sub, int) or not 0 <= sub <= 9:
            problems.append(f"{where}: citation {i} sub must be 1–9 (第X条之一 … 之九), or left out")
            continue
        cites.append(CitationRef(normalize_law_name(c["law"]), art, quote, sub))
    lists = {key: _str_list(raw, key, where, problems) for key in _LIST_FIELDS}
    reviewed = _reviewed(raw.get("reviewed"), where, problems)
    if len(problems) > before:
        return None
    return Entry(id=raw["id"].strip(), topic_key=topic_key, topic=topic, question=raw["question"].strip(),
                 answer=raw["answer"].strip(), citations=tuple(cites), status=status, reviewed=reviewed,
                 source=where.split(" ")[0], **lists)


def entry_from_dict(raw: Mapping[str, Any]) -> Entry:
    """One entry from a flat mapping (a database row): needs topic_key and topic as well."""
    problems: list[str] = []
    where = f"entry {raw.get('id', '?')}"
    entry = _entry(raw, str(raw.get("topic_key", "")), str(raw.get("topic", "")), where, problems)
    if entry is None:
        raise EntryError(problems)
    return entry


def load_topic_file(path: Path, problems: list[str]) -> list[Entry]:
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        problems.append(f"{path.name}: not valid TOML: {exc}")
        return []
    topic, topic_key = doc.get("topic"), doc.get("topic_key")
    if not isinstance(topic, str) or not isinstance(topic_key, str) or not topic_key.isascii():
        problems.append(f"{path.name}: needs topic = \"...\" and an ASCII topic_key = \"...\"")
        return []
    out: list[Entry] = []
    raw_entries = doc.get("entries", [])
    if not isinstance(raw_entries, list):
        problems.append(f"{path.name}: 'entries' must be [[entries]] tables")
        return []
    for i, raw in enumerate(raw_entries, 1):
        where = f"{path.name} entry {raw.get('id', f'#{i}') if isinstance(raw, Mapping) else f'#{i}'}"
        if not isinstance(raw, Mapping):
            problems.append(f"{where}: not a table")
            continue
        entry = _entry(raw, topic_key, topic, where, problems)
        if entry is not None:
            out.append(entry)
    return out


def load_entries(directory: Path | str) -> list[Entry]:
    """All entries (drafts too) from ``directory/*.toml``, sorted by file then file order."""
    problems: list[str] = []
    entries: list[Entry] = []
    for path in sorted(Path(directory).glob("*.toml")):
        entries.extend(load_topic_file(path, problems))
    seen: dict[str, str] = {}
    for e in entries:
        if e.id in seen:
            problems.append(f"{e.source} entry {e.id}: duplicate id (also in {seen[e.id]})")
        seen.setdefault(e.id, e.source)
    if problems:
        raise EntryError(problems)
    return entries


def _s(value: str) -> str:
    # JSON string escapes (\" \\ \n \uXXXX) are all valid TOML basic-string escapes; JSON leaves DEL
    # (U+007F) raw, which TOML forbids.
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def _multiline(value: str) -> str:
    if "\\" in value or '"""' in value or any((ord(ch) < 32 or ord(ch) == 127) and ch != "\n" for ch in value):
        return _s(value)
    return f'"""\n{value}\n"""'


def _list(values: Iterable[str], indent: bool) -> str:
    items = [_s(v) for v in values]
    if not indent or not items:
        return "[" + ", ".join(items) + "]"
    return "[\n" + "".join(f"  {item},\n" for item in items) + "]"


def dump_topic(topic: str, topic_key: str, entries: Iterable[Entry]) -> str:
    """The TOML text of one topic file, in the hand-written layout of docs/knowledge-format.md."""
    out = [f"topic = {_s(topic)}", f"topic_key = {_s(topic_key)}"]
    for e in entries:
        cites = "".join(
            f"  {{ law = {_s(c.law)}, article = {c.article}, {f'sub = {c.sub}, ' if c.sub else ''}"
            f"quote = {_s(c.quote)} }},\n" for c in e.citations
        )
        out += [
            "",
            "[[entries]]",
            f"id = {_s(e.id)}",
            f"question = {_s(e.question)}",
            f"similar = {_list(e.similar, True)}",
            f"keywords = {_list(e.keywords, False)}",
            f"answer = {_multiline(e.answer)}",
            f"citations = [\n{cites}]",
            f"tags = {_list(e.tags, False)}",
            f"contacts = {_list(e.contacts, False)}",
            f"status = {_s(e.status)}",
        ]
        if e.reviewed is not None:
            out.append(f"reviewed = {e.reviewed.isoformat()}")
    return "\n".join(out) + "\n"


def answerable(entry: Entry) -> bool:
    """Whether an entry is served: published, with an article to cite."""
    return entry.published and bool(entry.citations)


def answering_entries(entries: Iterable[Entry]) -> tuple[Entry, ...]:
    """The entries as answering keeps them: the served ones, without their phrasings and keywords,
    which live on in the index only (at 100k entries they were a sixth of the serving process's
    memory; bench/kb_bench.py)."""
    return tuple(replace(e, similar=(), keywords=()) if e.similar or e.keywords else e
                 for e in entries if answerable(e))


Topics = tuple[tuple[str, str, tuple[Entry, ...]], ...]


def topics_of(entries: Iterable[Entry]) -> Topics:
    """(topic_key, topic, entries) in the entries' order, for the menu."""
    topics: dict[str, tuple[str, list[Entry]]] = {}
    for e in entries:
        topics.setdefault(e.topic_key, (e.topic, []))[1].append(e)
    return tuple((k, name, tuple(es)) for k, (name, es) in topics.items())
