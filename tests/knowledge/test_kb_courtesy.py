"""Courtesies around a question are not part of it; a message of courtesies alone is small talk."""

from __future__ import annotations

import pytest

from knowledge.courtesy import courtesy_kind, strip_courtesy


@pytest.mark.parametrize(("text", "kind"), [
    ("🙏🙏 谢谢老师", "thanks"), ("麻烦你了 律师！", "thanks"), ("你好呀 小助手", "greeting"), ("在吗？", "greeting"),
    ("老师", None), ("老师打学生犯法不", None), ("谢谢 我老公打我", None), ("", None),
    # Emoji, WeChat's bracketed ones too; punctuation alone is not an emoji, a bracketed number in a
    # question is not one either.
    ("👍", "emoji"), ("[强][强][强]", "emoji"), ("🌹 [玫瑰]！", "emoji"), ("[抱拳] 谢谢老师", "thanks"),
    ("。。。", None), ("？？？", None), ("[强] 老板欠我工钱", None), ("[2024]号文件说的啥", None),
])
def test_courtesy_kind(text: str, kind: str | None) -> None:
    assert courtesy_kind(text) == kind


@pytest.mark.parametrize(("text", "question"), [
    ("谢谢老师，老板欠我工钱不给咋办", "老板欠我工钱不给咋办"),
    ("你好 请问离婚要带啥子", "请问离婚要带啥子"),
    ("老公打我咋办？谢谢了", "老公打我咋办"),
    ("谢谢！彩礼 3.5万 要退吗？", "彩礼 3.5万 要退吗"),
    ("老师打学生犯法不", "老师打学生犯法不"),
    ("谢谢老师", "谢谢老师"),  # nothing else: left for the small-talk handler
    ("😂😂", "😂😂"),
    ("[强] 老板欠我工钱", "老板欠我工钱"),
])
def test_strip_courtesy(text: str, question: str) -> None:
    assert strip_courtesy(text) == question


@pytest.mark.parametrize(("text", "question"), [
    ("12348 是干啥的", "12348 是干啥的"),
    ("彩礼 3.5万 要退吗", "彩礼 3.5万 要退吗"),
    ("你好 12348", "12348"),
])
def test_numbers_are_content(text: str, question: str) -> None:
    assert strip_courtesy(text) == question
    assert courtesy_kind(text) is None
