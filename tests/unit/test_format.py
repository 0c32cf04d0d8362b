"""Article numbers in Chinese, and paging of long answers on sentence boundaries."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.format import chinese_number, citation_text, split_pages


@pytest.mark.parametrize(
    ("n", "text"),
    [(1, "一"), (10, "十"), (15, "十五"), (20, "二十"), (25, "二十五"), (100, "一百"), (101, "一百零一"),
     (110, "一百一十"), (1079, "一千零七十九"), (1260, "一千二百六十"), (1001, "一千零一"), (500, "五百")],
)
def test_chinese_article_numbers(n: int, text: str) -> None:
    assert chinese_number(n) == text


def test_citation_text() -> None:
    assert citation_text("消费者权益保护法", 25) == "《消费者权益保护法》第二十五条"
    assert citation_text("刑法", 287, 2) == "《刑法》第二百八十七条之二"
    assert citation_text("刑法", 133, 1) == "《刑法》第一百三十三条之一"


@given(st.text(alphabet="法律条文。，！？；甲乙丙\n", min_size=0, max_size=3000), st.integers(20, 700))
def test_pages_are_bounded_and_lose_nothing(text: str, limit: int) -> None:
    pages = split_pages(text, limit)
    assert all(len(p) <= limit for p in pages)
    squeeze = lambda s: "".join(s.split())  # noqa: E731
    assert squeeze("".join(pages)) == squeeze(text)


def test_pages_break_after_sentences() -> None:
    text = "第一句话很短。" * 100
    pages = split_pages(text, 600)
    assert len(pages) == 2 and all(p.endswith("。") for p in pages)
