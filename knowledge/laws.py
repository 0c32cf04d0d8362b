"""Law texts: parse the LawRefBook-style markdown files into articles and look them up.

File format (see knowledge/data/laws/SOURCES.md): ``# title``, history lines, ``<!-- INFO END -->``,
``##``/``###``/``####`` headings, one article per line ``第X条 正文`` (Chinese numeral, ``条之一``
variants in 刑法); the following paragraphs belong to the same article.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from knowledge.lawnames import law_name_from_path, normalize_law_name

__all__ = ["Article", "Cite", "LawCorpus", "article_label", "cite_fields", "cite_key", "cn_to_int",
           "normalize_law_name", "parse_article_ref", "parse_law_file", "sub_suffix"]

# (law, number) for an ordinary article, (law, number, sub) for 第X条之一/之二: a sub-article never
# compares equal to its parent (the evaluation sets and the `pufa ask` contract key articles by integer).
Cite = tuple[str, int] | tuple[str, int, int]


def cite_key(law: str, number: int, sub: int = 0) -> Cite:
    return (law, number) if not sub else (law, number, sub)


_ARTICLE_REF = re.compile(r"^第?([0-9]+|[零〇一二三四五六七八九十百千两]+)条?(?:之([1-9]|[一二三四五六七八九]))?$")


def parse_article_ref(text: str) -> tuple[int, int]:
    """"1079", "第1079条", "287之二", "二百八十七条之二" → (number, sub); ValueError otherwise."""
    m = _ARTICLE_REF.match(text.strip())
    if m is None:
        raise ValueError(f"not an article number: {text!r}")
    number = cn_to_int(m[1])
    if number <= 0:
        raise ValueError(f"not an article number: {text!r}")
    return number, cn_to_int(m[2]) if m[2] else 0


def cite_fields(law: str, number: int, sub: int = 0) -> dict[str, str | int]:
    """A citation as JSON and TOML write it: ``sub`` only for an inserted article, so that every
    ordinary article reads exactly as before sub-articles were citable."""
    return {"law": law, "article": number, **({"sub": sub} if sub else {})}


def sub_suffix(sub: int) -> str:
    """之一 for sub 1 (第十七条之一), "" for an ordinary article."""
    return f"之{_SUB_CN[sub]}" if sub else ""


def article_label(number: int, sub: int = 0) -> str:
    """第17条, 第17条之一 (staff-facing: check reports, the staff pages)."""
    return f"第{number}条{sub_suffix(sub)}"

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
           "八": 8, "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000}
_NUMERAL = "零〇一二三四五六七八九十百千两"
_ARTICLE = re.compile(rf"^第([{_NUMERAL}0-9]+)条(?:之([{_NUMERAL}]+))?[ \u3000]+(\S.*)$")
_HEADING = re.compile(r"^(#{2,4})\s+(.+?)\s*$")
_FILE_DATE = re.compile(r"\((\d{4})-(\d{2})-(\d{2})\)")
_HISTORY_DATE = re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日")
_INFO_END = "<!-- INFO END -->"
_SUB_CN = " 一二三四五六七八九十"


def cn_to_int(text: str) -> int:
    """``一千零七十九`` → 1079, ``十一`` → 11, ``一百零八`` → 108; ASCII digits pass through."""
    if text.isdigit() and text.isascii():
        return int(text)
    total, current = 0, 0
    for ch in text:
        if ch in _DIGITS:
            current = _DIGITS[ch]
        elif ch in _UNITS:
            # A leading 十 (十一) means one ten.
            total += (current or 1) * _UNITS[ch]
            current = 0
        else:
            raise ValueError(f"not a Chinese numeral: {text!r}")
    return total + current


@dataclass(frozen=True)
class Article:
    """One article. ``sub`` is 1 for 第十七条之一 (0 for ordinary articles)."""

    law: str
    number: int
    text: str
    version: date
    chapter: str
    sub: int = 0

    @property
    def label(self) -> str:
        """第17条, 第17条之一 — Arabic numbers as citations are shown to residents."""
        return article_label(self.number, self.sub)

    @property
    def key(self) -> Cite:
        return cite_key(self.law, self.number, self.sub)


def _version(path: Path, history: list[str]) -> date:
    m = _FILE_DATE.search(path.name)
    if m:
        return date(int(m[1]), int(m[2]), int(m[3]))
    # The newest event (amendment, 施行) is the text's version; history lines are not always sorted.
    dates = [date(int(h[1]), int(h[2]), int(h[3])) for h in map(_HISTORY_DATE.match, history) if h]
    return max(dates, default=date(1970, 1, 1))


def parse_law_file(path: Path, law: str | None = None) -> list[Article]:
    """Parse one file. Text before the first article (preambles, 序言) is not an article."""
    lines = path.read_text(encoding="utf-8").splitlines()
    law = law or law_name_from_path(path)
    try:
        body_start = lines.index(_INFO_END) + 1
    except ValueError:
        body_start = 0
    history = [ln.strip() for ln in lines[:body_start] if _HISTORY_DATE.match(ln.strip())]
    version = _version(path, history)
    # 民法典 part files carry the part name as a second "# 合同编" title: keep it in the chapter path.
    part = ""
    titles = [ln[2:].strip() for ln in lines[:body_start] if ln.startswith("# ")]
    if len(titles) > 1:
        part = titles[-1]
    headings: dict[int, str] = {}
    articles: list[Article] = []
    current: tuple[int, int, list[str], str] | None = None

    def flush() -> None:
        if current is not None:
            num, sub, paras, chapter = current
            articles.append(Article(law, num, "\n".join(paras), version, chapter, sub))

    for raw in lines[body_start:]:
        line = raw.strip()
        if not line:
            continue
        h = _HEADING.match(line)
        if h:
            level = len(h[1])
            headings = {k: v for k, v in headings.items() if k < level}
            headings[level] = re.sub(r"[\s\u3000]+", " ", h[2])
            # Articles never span a heading: text under 附件/附则 headings is not part of the last article.
            flush()
            current = None
            continue
        a = _ARTICLE.match(line)
        if a:
            flush()
            chapter = " ".join([part, *(headings[k] for k in sorted(headings))]).strip()
            current = (cn_to_int(a[1]), cn_to_int(a[2]) if a[2] else 0, [a[3].strip()], chapter)
        elif current is not None:
            current[2].append(line)
    flush()
    return articles


class LawCorpus:
    """All articles, by (law, number, sub). Immutable after ``load``."""

    def __init__(self, articles: Iterable[Article], titles: dict[str, str] | None = None) -> None:
        self._by_key: dict[tuple[str, int, int], Article] = {}
        for art in articles:
            self._by_key[(art.law, art.number, art.sub)] = art
        self._laws = sorted({law for law, _, _ in self._by_key})
        self.titles: dict[str, str] = dict(titles or {})

    @classmethod
    def load(cls, directory: Path | str, *, include_local: bool = False) -> LawCorpus:
        """Every ``*.md`` under ``directory`` except SOURCES.md.

        Local regulations (``DLC/``, e.g. 重庆市禁毒条例) are skipped unless ``include_local``: the
        project brief limits answers to national laws, regulations and judicial interpretations.
        """
        root = Path(directory)
        articles: list[Article] = []
        titles: dict[str, str] = {}
        for path in sorted(root.rglob("*.md")):
            if path.name == "SOURCES.md":
                continue
            if not include_local and path.relative_to(root).parts[0] == "DLC":
                continue
            law = law_name_from_path(path)
            titles.setdefault(law, path.read_text(encoding="utf-8").split("\n", 1)[0].lstrip("# ").strip())
            articles.extend(parse_law_file(path, law))
        if not articles:
            raise ValueError(f"no law articles found under {root}")
        # 民法典's part files have different history lines; one law has one version (the newest).
        newest: dict[str, date] = {}
        for art in articles:
            newest[art.law] = max(newest.get(art.law, art.version), art.version)
        articles = [a if a.version == newest[a.law] else replace(a, version=newest[a.law]) for a in articles]
        return cls(articles, titles)

    def get(self, law: str, number: int, sub: int = 0) -> Article | None:
        return self._by_key.get((normalize_law_name(law), number, sub))

    def has_law(self, law: str) -> bool:
        return normalize_law_name(law) in self._laws

    def laws(self) -> list[str]:
        return list(self._laws)

    def articles(self, law: str | None = None) -> Iterator[Article]:
        wanted = normalize_law_name(law) if law else None
        for art in self._by_key.values():
            if wanted is None or art.law == wanted:
                yield art

    def __len__(self) -> int:
        return len(self._by_key)
