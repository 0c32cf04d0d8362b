"""Resident commands: 继续, a digit, 原文, 留言/人工, 菜单 and short greetings."""

from __future__ import annotations

import re
from typing import Any

from bot.dispatch import Context, Outcome, Router
from bot.wechat.replies import TextReply
from handlers import texts
from handlers.answers import contacts_for, entry_outcome, paged, topic_list_outcome, topic_menu, topic_named
from handlers.format import citation_text, contacts_lines
from knowledge.courtesy import courtesy_kind
from knowledge.safety import detect_urgent

router = Router("commands")

_CONTINUE = {"继续", "继续看", "下一页", "下一段", "接着说", "还有呢", "后面呢"}
_ORIGINAL = {"原文", "法条原文", "看原文", "条文", "法条"}
_MENU = {"菜单", "帮助", "目录", "分类", "?", "？", "help", "menu"}
# 人工, 我要找人工, 转人工客服, 找工作人员, 联系真人 …
_HUMAN = re.compile(r"^(?:我|要|想|请|麻烦|帮我)*(?:找|转|联系|接|叫)?(?:个)?"
                    r"(?:人工|真人|工作人员|客服)(?:客服|服务)?$")
# 司法所电话多少, 法律援助中心在哪里, 你们的联系方式: a short question about how to reach the office.
_CONTACT_ASK = re.compile(r"电话|号码|联系方式|地址|在哪|咋个?联系|怎么联系|怎样联系")
_OFFICES = re.compile(r"司法所|法律援助|援助中心|调解委员会|调委会|你们|工作人员|镇政府")
# 2, 二, 第2个, 选1, 我要看第三个, a voice "二。": a choice among the numbered questions shown last.
_CN_NUMBERS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_CHOICE = re.compile(r"^(?:我)?(?:选|要|看|要看)?(?:第)?(?P<n>[0-9]{1,2}|[一二两三四五六七八九十])"
                     r"(?:个|条|项|号)?(?:问题)?$")
# 你多少岁了, 你是谁, 你叫啥名字, 你是机器人吗, 你是不是真人: a question about pufa itself, not about
# law (多少岁 alone read as a question about the age of marriage or of work).
_ABOUT_BOT = re.compile(r"^(?:请问|问下|那)?(?:你|您)(?:今年|到底|究竟)?(?:是不是|是|叫|有)?"
                        r"(?:多少岁|几岁|多大|谁|哪个|哪位|啥子?|什么|什么名字|啥名字|名字|机器人|真人|人|男的|女的|"
                        r"男的还是女的|ai|人工智能|自动回复)(?:不是|不|没得|没)?(?:啊|呀|哦|嘛|吗|了|呢|哟|撒)*$")
_LEAVE = re.compile(r"^\s*(留言|留个言|我要留言)[\s:：,，]*(?P<body>.*)$", re.S)
_FULLWIDTH = str.maketrans("０１２３４５６７８９", "0123456789")
_PUNCT = re.compile(r"[\s。！!？?，,、~～…\.]+$")


def _plain(ctx: Context) -> str:
    return ctx.message.text.strip().lower() if ctx.message.msg_type in {"text", "voice"} else ""


def _command_word(ctx: Context) -> str:
    return _PUNCT.sub("", _plain(ctx))


def is_continue(ctx: Context) -> bool:
    return _command_word(ctx) in _CONTINUE


def is_original(ctx: Context) -> bool:
    return _command_word(ctx) in _ORIGINAL


def is_menu(ctx: Context) -> bool:
    return _plain(ctx) in _MENU or _command_word(ctx) in _MENU


def choice(ctx: Context) -> bool | dict[str, Any]:
    m = _CHOICE.match(_command_word(ctx).translate(_FULLWIDTH))
    if m is None:
        return False
    n = m.group("n")
    return {"number": int(n) if n.isdigit() else _CN_NUMBERS[n]}


def leave_message(ctx: Context) -> bool | dict[str, Any]:
    if ctx.message.msg_type not in {"text", "voice"}:
        return False
    m = _LEAVE.match(ctx.message.text)
    if m:
        return {"body": m.group("body").strip()}
    return False


def is_human(ctx: Context) -> bool:
    return _HUMAN.match(_command_word(ctx)) is not None


def is_contact_request(ctx: Context) -> bool:
    """A short question only about how to reach the office ("司法所电话多少"); never a message in danger
    ("刚才有个电话说是你们司法所的，要我转账" is a scam, answered by the knowledge base's warning)."""
    word = _command_word(ctx)
    return (len(word) <= 12 and _CONTACT_ASK.search(word) is not None and _OFFICES.search(word) is not None
            and detect_urgent(word) is None)


def is_topic_name(ctx: Context) -> bool | dict[str, Any]:
    key = topic_named(ctx, _command_word(ctx))
    return {"topic_key": key} if key else False


def small_talk(ctx: Context) -> bool | dict[str, Any]:
    kind = courtesy_kind(_plain(ctx))
    if kind == "thanks":
        return {"reply": texts.THANKS}
    if kind == "greeting":
        return {"reply": texts.GREETING}
    if kind == "farewell":
        return {"reply": texts.FAREWELL}
    if kind == "emoji":
        return {"reply": texts.EMOJI}
    if _ABOUT_BOT.match(_command_word(ctx)):
        return {"reply": texts.ABOUT_BOT.format(office=ctx.services.settings.town.office)}
    return False


@router.on(is_continue)
async def next_page(ctx: Context) -> Outcome:
    conv = ctx.conversation
    if not conv.pages:
        return Outcome(TextReply(texts.NOTHING_TO_CONTINUE), kind="command")
    if conv.page_pos >= len(conv.pages):
        return Outcome(TextReply(texts.NO_MORE), kind="command")
    page = conv.pages[conv.page_pos]
    conv.page_pos += 1
    conv.changed = True
    more = conv.page_pos < len(conv.pages)
    return Outcome(TextReply(page + ("\n" + texts.MORE_HINT if more else "")), kind="command")


@router.on(choice)
async def choose(ctx: Context, number: int) -> Outcome:
    cands = ctx.conversation.candidates
    if not cands:
        return Outcome(TextReply(texts.NO_CANDIDATES), kind="command")
    if not 1 <= number <= len(cands):
        wrong = texts.BAD_CHOICE_ONE if len(cands) == 1 else texts.BAD_CHOICE
        return Outcome(TextReply(wrong.format(n=number, max=len(cands))), kind="command")
    entry = ctx.services.knowledge.entry(cands[number - 1])
    if entry is None:
        return Outcome(TextReply(texts.NO_CANDIDATES), kind="command")
    # A pick is a command, not a second question (docs/reports.md): the question was counted when asked.
    return entry_outcome(ctx, entry, 1.0, kind="command")


@router.on(is_original)
async def original(ctx: Context) -> Outcome:
    cited = ctx.conversation.last_citation
    if cited is None:
        return Outcome(TextReply(texts.NO_ORIGINAL), kind="command")
    law, number, sub = cited
    article = ctx.services.knowledge.article(law, number, sub)
    if article is None:
        label = citation_text(law, number, sub)
        return Outcome(TextReply(texts.ARTICLE_NOT_FOUND.format(label=label)), kind="command")
    return Outcome(paged(ctx, f"{citation_text(law, number, sub)}\n{article.text}"), kind="command")


@router.on(leave_message)
async def leave(ctx: Context, body: str) -> Outcome:
    if not body:
        return Outcome(TextReply(texts.LEAVE_MESSAGE_EMPTY), kind="command")
    office = ctx.services.settings.town.office
    # "Call now" lists only the contacts with a number (the town's own may not be configured yet).
    callable_now = [c for c in contacts_for(ctx, ()) if c.phone]
    ack = texts.LEAVE_MESSAGE_ACK.format(office=office) + "\n" + contacts_lines(callable_now)
    return Outcome(TextReply(ack), kind="command", leave_message=body[:2000])


@router.on(is_human)
async def human(ctx: Context) -> Outcome:
    office = ctx.services.settings.town.office
    return Outcome(TextReply(texts.HUMAN_PROMPT.format(office=office)), kind="command")


@router.on(is_contact_request)
async def contacts(ctx: Context) -> Outcome:
    return Outcome(TextReply(texts.CONTACTS + "\n" + contacts_lines(ctx.services.settings.contacts)),
                   kind="command")


@router.on(is_menu)
async def menu(ctx: Context) -> Outcome:
    return Outcome(TextReply(topic_menu(ctx)), kind="command")


@router.on(is_topic_name)
async def topic(ctx: Context, topic_key: str) -> Outcome | None:
    return topic_list_outcome(ctx, topic_key)


@router.on(small_talk)
async def chat(ctx: Context, reply: str) -> Outcome:
    return Outcome(TextReply(reply), kind="command")
