"""Courtesies: greetings, thanks, forms of address and particles.

Elderly residents write to the account as to a person ("谢谢老师", "你好呀 小助手"). A message made only
of courtesies is small talk (handlers/commands.py); courtesies around a question are not part of it
(老师 in "谢谢老师，老板欠我工钱" is not a question about teachers), so the engine drops them.
"""

from __future__ import annotations

import re

__all__ = ["courtesy_kind", "strip_courtesy"]

_GREETINGS = ("你好", "您好", "在吗", "在不在", "有人吗", "hi", "hello", "喂", "早上好", "上午好", "中午好",
              "下午好", "晚上好", "早安", "晚安", "再见", "拜拜")
_THANKS = ("谢谢", "感谢", "多谢", "谢了", "辛苦了", "辛苦", "费心了", "麻烦你了", "麻烦了", "好的", "知道了",
           "明白了", "晓得了", "懂了", "收到")
_ADDRESS = ("老师", "师傅", "律师", "领导", "同志", "小助手", "助手", "机器人", "大哥", "大姐", "阿姨", "叔叔",
            "小姐姐", "美女", "帅哥", "你们", "您", "你", "哈", "啊", "呀", "哦", "噢", "嗯", "哟", "啦", "了",
            "的", "哈哈", "嘿", "呢", "哇")
# Longest first, so 你好 is read before 你.
_COURTESY_PARTS = sorted([*((w, "greeting") for w in _GREETINGS), *((w, "thanks") for w in _THANKS),
                          *((w, "address") for w in _ADDRESS)], key=lambda p: -len(p[0]))
_NOT_WORD = re.compile(r"[^\w]|_|\d", re.UNICODE)
_SEGMENTS = re.compile(r"[\s,，。.!！?？;；:：~～、…]+")

def courtesy_kind(text: str) -> str | None:
    """"thanks" or "greeting" when the text is made only of courtesies, forms of address and particles
    ("🙏 谢谢老师", "你好呀 小助手", "麻烦你了 律师"), else None."""
    rest = _NOT_WORD.sub("", text.lower())
    kinds: set[str] = set()
    while rest:
        for part, kind in _COURTESY_PARTS:
            if rest.startswith(part):
                rest = rest[len(part):]
                kinds.add(kind)
                break
        else:
            return None
    if "thanks" in kinds:
        return "thanks"
    return "greeting" if "greeting" in kinds else None


def strip_courtesy(text: str) -> str:
    """The text without its segments (between punctuation or spaces) that are only courtesies; the
    text itself when nothing else is left."""
    kept = [seg for seg in _SEGMENTS.split(text) if seg and _NOT_WORD.sub("", seg) and courtesy_kind(seg) is None]
    return " ".join(kept) if kept else text
