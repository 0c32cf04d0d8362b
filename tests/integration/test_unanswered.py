"""未答问题 lists what has no written answer: no match, and questions only the law tier answered."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from admin.unanswered import unanswered_groups
from bot.db.base import utcnow
from bot.db.models import InboundMessage


async def test_law_tier_replies_are_listed_with_the_unmatched_ones_but_not_chit_chat(engine: AsyncEngine) -> None:
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    rows = [  # (text, outcome, tier, keywords)
        ("开矿要办啥子证", "answered", "law", ["开矿", "证"]),
        ("火星上的土豆怎么种", "no_match", "none", ["火星", "土豆"]),
        ("老板欠我工钱不给咋办", "answered", "entry", ["老板", "工钱"]),
        ("离婚娃儿归哪个", "ambiguous", "entry", ["离婚", "娃儿"]),
        ("今天天气咋样", "no_match", "chat", ["天气"]),
    ]
    async with sessions() as s, s.begin():
        for n, (text, outcome, tier, keywords) in enumerate(rows):
            s.add(InboundMessage(account="a", dedup_key=f"k{n}", openid_hash="h", msg_type="text", text=text,
                                 received_at=utcnow(), state="done", outcome=outcome, tier=tier, keywords=keywords))
    listed = {example for g in await unanswered_groups(sessions) for example in g["examples"]}
    assert listed == {"开矿要办啥子证", "火星上的土豆怎么种"}
    # Chit-chat is grouped apart (folded on the page): a legal question without a legal word is not lost.
    chat = {example for g in await unanswered_groups(sessions, chat=True) for example in g["examples"]}
    assert chat == {"今天天气咋样"}
