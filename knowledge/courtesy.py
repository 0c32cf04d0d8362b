"""Courtesies: greetings, thanks, forms of address and particles.

Elderly residents write to the account as to a person ("谢谢老师", "你好呀 小助手"). A message made only
of courtesies is small talk (handlers/commands.py); courtesies around a question are not part of it
(老师 in "谢谢老师，老板欠我工钱" is not a question about teachers), so the engine drops them. So are
emoji: WeChat sends its own as bracketed codes ("[强]", "[抱拳]", "[玫瑰]"), and a thumbs-up after an
answer is a courtesy too, not a question about 强制.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["courtesy_kind", "strip_courtesy"]

_GREETINGS = ("你好", "您好", "在吗", "在不在", "有人吗", "hi", "hello", "喂", "早上好", "上午好", "中午好",
              "下午好", "晚上好", "早安")
_FAREWELLS = ("晚安", "再见", "拜拜", "bye", "先这样", "就这样")
_THANKS = ("谢谢", "感谢", "多谢", "谢了", "辛苦了", "辛苦", "费心了", "麻烦你了", "麻烦了", "好的", "知道了",
           "明白了", "晓得了", "懂了", "收到")
_ADDRESS = ("老师", "师傅", "律师", "领导", "同志", "小助手", "助手", "机器人", "大哥", "大姐", "阿姨", "叔叔",
            "小姐姐", "美女", "帅哥", "你们", "您", "你", "哈", "啊", "呀", "哦", "噢", "嗯", "哟", "啦", "了",
            "的", "哈哈", "嘿", "呢", "哇")
# Longest first, so 你好 is read before 你.
_COURTESY_PARTS = sorted([*((w, "greeting") for w in _GREETINGS), *((w, "thanks") for w in _THANKS),
                          *((w, "farewell") for w in _FAREWELLS),
                          *((w, "address") for w in _ADDRESS)], key=lambda p: -len(p[0]))
# Punctuation, emoji and spaces; digits are content ("你好 12348" is a question about the hotline).
_FIRST_CHARS = frozenset(part[0] for part, _ in _COURTESY_PARTS)
_NOISE = re.compile(r"[^\w]|_", re.UNICODE)
# Runs between punctuation or spaces; an ASCII dot is not a separator ("3.5万").
_SEPARATORS = " \t\n,，。!！?？;；:：~～、…"
_SEGMENT = re.compile(f"[^{re.escape(_SEPARATORS)}]+")
# WeChat's emoji as text: a bracketed word of one to four characters ([微笑], [强], [OK], [666]).
_EMOJI_CODE = re.compile(r"\[[\u4e00-\u9fffA-Za-z0-9]{1,4}\]")


def _is_emoji_only(text: str) -> bool:
    """Only emoji, WeChat emoji codes, punctuation and spaces, and at least one emoji."""
    rest = _EMOJI_CODE.sub("", text)
    if _NOISE.sub("", rest):
        return False
    return rest != text or any(unicodedata.category(ch) in ("So", "Sk") for ch in rest)


def courtesy_kind(text: str) -> str | None:
    """"thanks", "farewell" or "greeting" when the text is made only of courtesies, forms of address and
    particles ("🙏 谢谢老师", "你好呀 小助手", "麻烦你了 律师", "晚安"), "emoji" when only of emoji ("👍",
    "[强][抱拳]"), else None."""
    if _is_emoji_only(text):
        return "emoji"
    rest = _NOISE.sub("", _EMOJI_CODE.sub("", text.lower()))
    kinds: set[str] = set()
    i = 0
    while i < len(rest):
        if rest[i] not in _FIRST_CHARS:  # most text: no courtesy starts here, skip the list
            return None
        for part, kind in _COURTESY_PARTS:
            if rest.startswith(part, i):
                i += len(part)
                kinds.add(kind)
                break
        else:
            return None
    for kind in ("thanks", "farewell", "greeting"):
        if kind in kinds:
            return kind
    return None


def strip_courtesy(text: str) -> str:
    """The text without its segments (between punctuation or spaces) that are only courtesies, the
    rest left as it was; the text itself when nothing else is left."""
    drop = [m.span() for m in _SEGMENT.finditer(text)
            if (_NOISE.sub("", m.group()) or _EMOJI_CODE.search(m.group())) and courtesy_kind(m.group()) is not None]
    if not drop:
        return text
    kept, pos = [], 0
    for start, end in drop:
        kept.append(text[pos:start])
        pos = end
    kept.append(text[pos:])
    rest = "".join(kept).strip(_SEPARATORS)
    return rest if _NOISE.sub("", rest) else text
