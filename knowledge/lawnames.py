"""Law names: the short form used everywhere (民法典, 消费者权益保护法, 婚姻家庭编解释一 …).

Content writers, residents and datasets spell the same law many ways (《中华人民共和国劳动合同法》,
劳动合同法, 消法); everything is compared by the short name returned here.
"""

from __future__ import annotations

import re
from pathlib import Path

# Judicial interpretations have long titles; these short names are what entries cite.
JUDICIAL_SHORT: dict[str, str] = {
    "最高人民法院关于审理民间借贷案件适用法律若干问题的规定": "民间借贷规定",
    "最高人民法院关于适用民法典婚姻家庭编的解释(一)": "婚姻家庭编解释一",
    "最高人民法院关于适用民法典婚姻家庭编的解释(二)": "婚姻家庭编解释二",
}

# Common abbreviations and lay names → short name.
ALIASES: dict[str, str] = {
    "消法": "消费者权益保护法", "消保法": "消费者权益保护法", "消费者权益法": "消费者权益保护法",
    "消费者保护法": "消费者权益保护法",
    "劳合法": "劳动合同法", "劳动仲裁法": "劳动争议调解仲裁法", "劳动争议仲裁法": "劳动争议调解仲裁法",
    "治安法": "治安管理处罚法", "治安处罚法": "治安管理处罚法",
    "道交法": "道路交通安全法", "交通安全法": "道路交通安全法", "交通法": "道路交通安全法",
    "村委会组织法": "村民委员会组织法", "村组法": "村民委员会组织法",
    "土地承包法": "农村土地承包法", "承包法": "农村土地承包法",
    "反诈法": "反电信网络诈骗法", "反电诈法": "反电信网络诈骗法",
    "反家暴法": "反家庭暴力法",
    "妇女法": "妇女权益保障法", "妇女权益法": "妇女权益保障法", "妇女保障法": "妇女权益保障法",
    "老年法": "老年人权益保障法", "老年人法": "老年人权益保障法", "老年人权益法": "老年人权益保障法",
    "未保法": "未成年人保护法", "预防未成年人犯罪": "预防未成年人犯罪法",
    "食安法": "食品安全法", "个保法": "个人信息保护法", "个人信息法": "个人信息保护法",
    "工资支付条例": "保障农民工工资支付条例", "农民工工资条例": "保障农民工工资支付条例",
    "农民工工资支付条例": "保障农民工工资支付条例",
    "信访条例": "信访工作条例", "工伤条例": "工伤保险条例", "调解法": "人民调解法",
    "社保法": "社会保险法", "电商法": "电子商务法", "产品法": "产品质量法", "安全法": "安全生产法",
    "民间借贷司法解释": "民间借贷规定", "民间借贷解释": "民间借贷规定",
    "婚姻家庭编解释(一)": "婚姻家庭编解释一", "婚姻家庭编解释(二)": "婚姻家庭编解释二",
    "婚姻家庭编司法解释一": "婚姻家庭编解释一", "婚姻家庭编司法解释二": "婚姻家庭编解释二",
    "民法典婚姻家庭编解释一": "婚姻家庭编解释一", "民法典婚姻家庭编解释二": "婚姻家庭编解释二",
    "婚姻法解释一": "婚姻家庭编解释一", "婚姻法解释二": "婚姻家庭编解释二",
}

_PREFIX = "中华人民共和国"
_DATE_SUFFIX = re.compile(r"\(\d{4}-\d{2}-\d{2}\)$")
# 民法典合同编 / 民法典·侵权责任编 are still the one law 民法典.
_CODE_PART = re.compile(r"^民法典[·・]?(总则|物权|合同|人格权|婚姻家庭|继承|侵权责任|附则)编?$")


def normalize_law_name(name: str) -> str:
    """Strip 《》, spaces and 中华人民共和国; map aliases and judicial titles to the short name."""
    s = re.sub(r"[\s\u3000《》〈〉<>\"“”]", "", name)
    s = s.replace("（", "(").replace("）", ")")
    s = _DATE_SUFFIX.sub("", s)
    s = s.replace(_PREFIX, "")
    if s in JUDICIAL_SHORT:
        return JUDICIAL_SHORT[s]
    if _CODE_PART.match(s):
        return "民法典"
    return ALIASES.get(s, s)


def law_name_from_path(path: Path) -> str:
    """``民法典/合同编.md`` → 民法典; ``社会法/劳动法(2018-12-29).md`` → 劳动法."""
    if path.parent.name == "民法典":
        return "民法典"
    return normalize_law_name(path.stem)
