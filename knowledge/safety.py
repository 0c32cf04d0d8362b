"""Urgent danger in a message: violence happening now, a scam in progress or just done (the money can
still be stopped), self-harm, a fire, a child taken or missing.

The caller puts emergency numbers first, whatever the match score. Patterns look for the present
tense and immediacy (正在、拿刀、要我转账), so that questions about the past or about the law
("离婚后打官司", "被打了怎么赔") are not flagged.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["CATEGORIES", "detect_urgent"]

CATEGORIES = ("violence", "fraud", "self_harm", "fire", "missing_child")

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
        # Bleeding now: call 120 whatever the question after it.
        r"(?:流|出)(?:了)?(?:好多|很多|一地|一身|满脸|满头)(?:的)?血|血流不止|(?:在|还在)(?:流血|出血)",
    )],
    "fire": [re.compile(p) for p in (
        r"(?:着|起|失)火了|火烧起来|烧起来了|火灾(?:了|啦)",
        r"(?:房子|屋|家里|厨房|山上|林子)(?:里|头)?(?:着火|起火|失火)",
    )],
    "missing_child": [re.compile(p) for p in (
        # Not 被带走: "孩子被他爸带走了" is a custody question.
        r"(?:孩子|娃儿?|娃娃|小孩|儿子|女儿|闺女|孙子|孙女|外孙)(?:被人?|让人)(?:拐|抱|抢|骗)(?:走|跑)",
        r"(?:孩子|娃儿?|娃娃|小孩|儿子|女儿|闺女|孙子|孙女|外孙)被(?:陌生人|坏人|人贩子)带走",
        # The child itself, not "女儿丢了工作" or "儿子丢了手机": nothing after it but the end or a stop.
        r"(?:孩子|娃儿?|娃娃|小孩|儿子|女儿|闺女|孙子|孙女|外孙)(?:不见了|找不到了|丢了|走丢了)(?:$|[，。,.!?！？;；])",
        r"有人(?:拐|抢|抱)(?:走)?(?:了)?(?:我(?:家)?的?)?(?:孩子|娃|小孩)",
    )],
    "fraud": [re.compile(p) for p in (
        r"安全账户",
        r"(?:让|要|叫|喊|催)(?:我|我妈|我爸|老人)?(?:马上|赶紧|立刻|先)?(?:转账|转钱|汇款|打钱|交保证金|充值)",
        r"(?:要|问|让|叫)(?:我)?(?:说|发|报|提供|给)?(?:个|一下)?(?:他)?(?:的|手机上的|收到的)?(?:验证码|短信码)",
        r"(?:正在|在)(?:跟|和)?(?:对方|客服|警察|公安)?(?:视频|通话|打电话).{0,12}(?:转账|验证码|银行卡)",
        r"屏幕共享|共享屏幕", r"(?:让|要)(?:我)?(?:下载|装).{0,8}(?:app|软件|会议)",
        r"冒充.{0,6}(?:公检法|警察|公安).{0,10}(?:转|汇|钱)", r"(?:冻结|涉嫌洗钱).{0,10}(?:转|账户|钱)",
        # Just sent: the sooner it is reported, the likelier the bank can still stop it.
        r"(?:刚刚?|刚才)(?:被骗|把钱(?:转|汇)|(?:转|汇)(?:了|过去|出去)?[0-9一二两三四五六七八九十几百千万]+(?:块|元|万))",
        r"被骗(?:着|得)?(?:转|汇|打|充)(?:了|过去|出去|走)",
    )],
}
# Reported past events or questions about the law ("以前被打过", "打官司") are not an emergency.
_NOT_NOW = re.compile(r"打官司|打电话问|以前|去年|前年|上个月|几年前|小时候|那年|当年")
# …unless the message says it is happening now, whatever else it tells.
_NOW = re.compile(r"正在|救命|快来人|(?:在|还在)(?:流血|出血)|血流不止")
# Categories a past event can be (a lost child is urgent whenever it is said).
_NOW_ONLY = ("violence", "fraud", "fire")


def _normalize(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text[:2000])).lower()


def detect_urgent(text: str) -> str | None:
    """The first matching category (CATEGORIES), or None."""
    norm = _normalize(text)
    if not norm:
        return None
    for category in ("self_harm", "fire", "violence", "missing_child", "fraud"):
        for pattern in _PATTERNS[category]:
            m = pattern.search(norm)
            if m is None:
                continue
            if category in _NOW_ONLY and _NOT_NOW.search(norm) and not _NOW.search(norm):
                continue
            return category
    return None
