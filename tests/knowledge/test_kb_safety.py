from __future__ import annotations

import pytest

from knowledge.safety import CATEGORIES, detect_urgent


@pytest.mark.parametrize(("text", "category"), [
    ("他正在打我", "violence"), ("老公拿刀要砍我", "violence"), ("救命 他拿着菜刀", "violence"),
    ("我老公又在打我了", "violence"), ("他说要杀我全家", "violence"),
    ("对方让我转账到安全账户", "fraud"), ("客服要我说验证码", "fraud"), ("他们要我马上转账", "fraud"),
    ("对方让我开屏幕共享", "fraud"),
    ("我不想活了", "self_harm"), ("活不下去了 想喝农药", "self_harm"), ("我想自杀", "self_harm"),
    ("我被人打了，流了好多血", "violence"), ("他要我的验证码", "fraud"), ("我被骗转了5000块", "fraud"),
    ("刚才把钱转给他了", "fraud"), ("我刚汇了两万过去", "fraud"), ("家里着火了", "fire"),
    ("山上起火了", "fire"), ("孩子被人拐走了", "missing_child"), ("娃儿不见了", "missing_child"),
    # A past word does not silence a call for help happening now.
    ("老公打了我好久 救命", "violence"), ("他打我好久了，我在流血", "violence"),
    ("多年的邻居今天把我锁在屋里 救命", "violence"),
])
def test_urgent(text: str, category: str) -> None:
    assert category in CATEGORIES
    assert detect_urgent(text) == category


@pytest.mark.parametrize("text", [
    "离婚后打官司", "被打了怎么赔", "老公以前打过我能离婚吗", "验证码是什么", "转账记录能当证据吗",
    "打工的工资不给", "安全生产法", "孩子打游戏", "借钱不还怎么办", "他打电话骂我", "", "   ", "😀",
    "去年被骗了5000 能追回来吗", "被骗了怎么办", "以前家里着过火 保险赔不赔", "流血了怎么赔", "刚转了学",
    "我刚转正", "手机丢了", "离婚了孩子归哪个", "我女儿丢了工作公司不赔", "儿子丢了手机怎么办",
    "孩子被带走了 离婚判给我的", "去年家里失火了 保险不赔",
])
def test_not_urgent(text: str) -> None:
    assert detect_urgent(text) is None
