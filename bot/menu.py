"""The official account's custom menu (自定义菜单), built from the knowledge base's topics.

Turning on server configuration switches off the menu set in WeChat's backend, so pufa sets it
through the API. Each topic button sends a CLICK with key ``TOPIC_<topic_key>``, which
handlers/events.py answers with the topic's question list.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from handlers.events import TOPIC_PREFIX

# WeChat's limits (menu/create): 1–3 buttons of ≤ 16 bytes, each with 1–5 sub-buttons of ≤ 60 bytes.
MAX_BUTTONS = 3
MAX_SUB_BUTTONS = 5
LEAVE_MESSAGE_KEY = "LEAVE_MESSAGE"

# (button name, topic keys or the leave-message key), in the order residents see them.
LAYOUT: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("打工种地", ("labor", "land", "village", "contract", "traffic")),
    ("家庭邻里", ("marriage", "inheritance", "elderly", "neighbour", "domestic_violence")),
    ("防骗求助", ("fraud", "consumer", "legal_aid", "mediation", LEAVE_MESSAGE_KEY)),
)


def build_menu(topics: Sequence[tuple[str, str, Any]]) -> dict[str, Any]:
    """The menu/create body; topics missing from the knowledge base are left out."""
    names = {key: name for key, name, _ in topics}
    buttons = []
    for title, keys in LAYOUT[:MAX_BUTTONS]:
        subs = []
        for key in keys:
            if key == LEAVE_MESSAGE_KEY:
                subs.append({"type": "click", "name": "留言找工作人员", "key": LEAVE_MESSAGE_KEY})
            elif key in names:
                subs.append({"type": "click", "name": names[key], "key": TOPIC_PREFIX + key})
        if subs:
            buttons.append({"name": title, "sub_button": subs[:MAX_SUB_BUTTONS]})
    return {"button": buttons}
