"""`pufa kb check`: every citation must point at an existing article that still contains its quote.

Laws get renumbered (治安管理处罚法 2025, 村民委员会组织法 2025); this is what catches an entry that
now cites the wrong article.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from knowledge.entries import Entry
from knowledge.laws import LawCorpus, article_label

__all__ = ["MAX_ANSWER_HAN", "MAX_CITATIONS", "PAGE_BREAK", "Problem", "check_citations", "han_count"]

MAX_CITATIONS = 3
MAX_ANSWER_HAN = 500
# A line holding only "---" splits a long answer into pages that each stay under the limit.
PAGE_BREAK = re.compile(r"\n\s*---\s*\n")
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Problem:
    entry_id: str
    source: str
    kind: str  # unknown_law | missing_article | quote_not_found | no_quote | too_many_citations | answer_too_long
    message: str
    ref: str = ""  # the citation concerned, as residents read it: 《民法典》第一千零七十九条


def han_count(text: str) -> int:
    return len(_HAN.findall(text))


def _norm(text: str) -> str:
    # NFKC folds full-width/half-width punctuation; whitespace (line breaks between paragraphs) is dropped.
    return _SPACE.sub("", unicodedata.normalize("NFKC", text))


def _entry_problems(entry: Entry, corpus: LawCorpus) -> Iterable[Problem]:
    def problem(kind: str, message: str, ref: str = "") -> Problem:
        return Problem(entry.id, entry.source, kind, message, ref)

    if len(entry.citations) > MAX_CITATIONS:
        yield problem("too_many_citations", f"{len(entry.citations)} citations (at most {MAX_CITATIONS})")
    for c in entry.citations:
        ref = f"{c.law} {article_label(c.article, c.sub)}"
        shown = f"《{c.law}》{article_label(c.article, c.sub)}"
        if not corpus.has_law(c.law):
            yield problem("unknown_law", f"{ref}: law '{c.law}' is not in knowledge/data/laws", shown)
            continue
        article = corpus.get(c.law, c.article, c.sub)
        if article is None:
            yield problem("missing_article", f"{ref}: no such article", shown)
        elif not c.quote.strip():
            yield problem("no_quote", f"{ref}: quote is empty", shown)
        elif _norm(c.quote) not in _norm(article.text):
            yield problem("quote_not_found", f"{ref}: quote not in the article text: {c.quote!r}", shown)
    pages = PAGE_BREAK.split(entry.answer)
    longest = max(han_count(p) for p in pages)
    if longest > MAX_ANSWER_HAN:
        what = "answer" if len(pages) == 1 else "an answer page"
        yield problem("answer_too_long", f"{what} has {longest} 汉字 (limit {MAX_ANSWER_HAN}; split with ---)")


def check_citations(entries: Iterable[Entry], corpus: LawCorpus) -> list[Problem]:
    """All problems, in entry order. An empty list means the content is consistent with the laws."""
    return [p for e in entries for p in _entry_problems(e, corpus)]
