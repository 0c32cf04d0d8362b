"""Urgent danger in a message: violence happening now, a scam in progress, self-harm.

The caller puts emergency numbers first, whatever the match score. Patterns look for the present
tense and immediacy (正在、拿刀、要我转账), so that questions about the past or about the law
("离婚后打官司", "被打了怎么赔") are not flagged.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["CATEGORIES", "detect_urgent"]

CATEGORIES = ("violence", "fraud", "self_harm")

_PERSON = r"(?:他|她|老公|丈夫|男人|老婆|媳妇|前夫|对象|男朋友|老汉儿?|爸|儿子|邻居|有人|那个人|他们|一群人)"
_PATTERNS: dict[str, list[re.Pattern[str]]] = {
    "self_harm": [re.compile(p) for p in (
        r"不想活", r"活不下去", r"想死", r"去死了?算了", r"自杀", r"轻生", r"寻短见", r"跳楼|跳河|跳江",
        r"喝农药|吃安眠药|割腕|上吊", r"结束(?:自己的)?生命", r"一死了之",
    )],
    "violence": [re.compile(p) for p in (
        rf"{_PERSON}?(?:正在|在|又在|还在|一直在)(?:打|揍|捶|砍|掐|踢)(?:我|人|娃|孩子|老人|我妈|我爸)",
        rf"{_PERSON}(?:拿|提|举|操|拿起|拿着)(?:了|起|着)?(?:刀|菜刀|斧头|棍子|棒子|铁棍|锄头|枪|砖头|农药|汽油)",
        r"(?:要|想|扬言|说要)(?:杀|砍|弄死|打死|烧死)(?:我|我们|人|全家)",
        r"(?:被|把我)(?:关|锁)(?:起来|在屋|在家)", r"救命", r"快来人", r"掐(?:我|住我)(?:脖子)?",
        r"(?:打|砍|捅)(?:得|了)?(?:我)?(?:流血|出血|头破血流)", r"我(?:现在|正)?(?:在)?被(?:打|砍|追打|殴打)",
    )],
    "fraud": [re.compile(p) for p in (
        r"安全账户",
        r"(?:让|要|叫|喊|催)(?:我|我妈|我爸|老人)?(?:马上|赶紧|立刻|先)?(?:转账|转钱|汇款|打钱|交保证金|充值)",
        r"(?:要|问|让|叫)(?:我)?(?:说|发|报|提供|给)?(?:个|一下)?(?:他)?(?:验证码|短信码)",
        r"(?:正在|在)(?:跟|和)?(?:对方|客服|警察|公安)?(?:视频|通话|打电话).{0,12}(?:转账|验证码|银行卡)",
        r"屏幕共享|共享屏幕", r"(?:让|要)(?:我)?(?:下载|装).{0,8}(?:app|软件|会议)",
        r"冒充.{0,6}(?:公检法|警察|公安).{0,10}(?:转|汇|钱)", r"(?:冻结|涉嫌洗钱).{0,10}(?:转|账户|钱)",
    )],
}
# Reported past events or questions about the law ("以前被打过", "打官司") are not an emergency.
_NOT_NOW = re.compile(r"打官司|打电话问|以前|去年|前年|上个月|几年前|小时候")


def _normalize(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text[:2000])).lower()


def detect_urgent(text: str) -> str | None:
    """The first matching category ("self_harm", "violence", "fraud"), or None."""
    norm = _normalize(text)
    if not norm:
        return None
    for category in ("self_harm", "violence", "fraud"):
        for pattern in _PATTERNS[category]:
            m = pattern.search(norm)
            if m is None:
                continue
            if category == "violence" and _NOT_NOW.search(norm) and "正在" not in norm:
                continue
            return category
    return None
