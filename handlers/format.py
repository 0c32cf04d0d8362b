"""Formatting helpers shared by the handlers: law citations, next-step contacts and paging."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from bot.config import Contact
from handlers import texts
from knowledge.laws import sub_suffix

_DIGITS = "零一二三四五六七八九"
_UNITS = ((1000, "千"), (100, "百"), (10, "十"))
_SENTENCE_END = re.compile(r"(?<=[。！？；!?;\n])")


def chinese_number(n: int) -> str:
    """1079 -> 一千零七十九; 10 -> 十; 15 -> 十五 (the way article numbers are written)."""
    if n <= 0:
        return str(n)
    if n >= 10000:
        return str(n)
    out: list[str] = []
    rest = n
    zero = False
    for value, unit in _UNITS:
        d, rest = divmod(rest, value)
        if d:
            if zero:
                out.append("零")
            out.append(_DIGITS[d] + unit)
            zero = False
        elif out:
            zero = True
    if rest:
        if zero:
            out.append("零")
        out.append(_DIGITS[rest])
    s = "".join(out)
    return s[1:] if s.startswith("一十") else s


def citation_text(law: str, article: int, sub: int = 0) -> str:
    """《刑法》第二百八十七条之二: how residents see a citation."""
    return f"《{law}》第{chinese_number(article)}条{sub_suffix(sub)}"


def citations_line(citations: Iterable[tuple[str, int] | tuple[str, int, int]],
                   prefix: str = texts.CITATION_PREFIX) -> str:
    """``citations``: (law, article) or (law, article, sub)."""
    parts = [citation_text(*c) for c in citations]
    return prefix + "、".join(parts) if parts else ""


def contacts_lines(contacts: Sequence[Contact]) -> str:
    lines = []
    for c in contacts:
        phone = f"（电话{c.phone}）" if c.phone and c.phone not in c.name else ""
        lines.append(f"· {c.name}{phone}")
    return "\n".join(lines)


def split_pages(text: str, limit: int) -> list[str]:
    """Split on sentence ends so that each page is at most ``limit`` characters.

    WeChat truncates passive replies around 2048 bytes (≈600 汉字), so long answers continue
    with "继续". A sentence longer than a page is cut hard rather than dropped.
    """
    text = text.strip()
    if len(text) <= limit:
        return [text] if text else []
    pages: list[str] = []
    current = ""
    for sentence in _SENTENCE_END.split(text):
        while len(sentence) > limit:
            if current:
                pages.append(current)
                current = ""
            pages.append(sentence[:limit])
            sentence = sentence[limit:]
        if len(current) + len(sentence) > limit:
            pages.append(current)
            current = sentence
        else:
            current += sentence
    if current.strip():
        pages.append(current)
    return [p.strip() for p in pages if p.strip()]
