"""Resident commands: 继续, a digit, 原文, 留言/人工, 菜单 and short greetings."""

from __future__ import annotations

import re
from typing import Any

from bot.dispatch import Context, Outcome, Router
from bot.wechat.replies import TextReply
from handlers import texts
from handlers.answers import contacts_for, entry_outcome, paged, topic_list_outcome, topic_menu
from handlers.format import citation_text, contacts_lines

router = Router("commands")

_CONTINUE = {"继续", "继续看", "下一页", "下一段", "接着说", "还有呢", "后面呢"}
_ORIGINAL = {"原文", "法条原文", "看原文", "条文", "法条"}
_MENU = {"菜单", "帮助", "目录", "分类", "?", "？", "help", "menu"}
_HUMAN = {"人工", "转人工", "人工服务", "找人工", "客服", "工作人员"}
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
_LEAVE = re.compile(r"^\s*(留言|留个言|我要留言)[\s:：,，]*(?P<body>.*)$", re.S)
_FULLWIDTH = str.maketrans("１２３４５６７８９", "123456789")
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
    word = _command_word(ctx).translate(_FULLWIDTH)
    if len(word) == 1 and word.isdigit() and word != "0" and ctx.conversation.candidates:
        return {"number": int(word)}
    return False


def leave_message(ctx: Context) -> bool | dict[str, Any]:
    if ctx.message.msg_type not in {"text", "voice"}:
        return False
    m = _LEAVE.match(ctx.message.text)
    if m:
        return {"body": m.group("body").strip()}
    return False


def is_human(ctx: Context) -> bool:
    return _command_word(ctx) in _HUMAN


def is_topic_name(ctx: Context) -> bool | dict[str, Any]:
    word = _command_word(ctx)
    if not word or len(word) > 12:
        return False
    for key, name, _ in ctx.services.knowledge.topics():
        if word == name.lower():
            return {"topic_key": key}
    return False


def _courtesy_kind(text: str) -> str | None:
    """"thanks" or "greeting" when the message is made only of courtesies, forms of address and
    particles ("🙏 谢谢老师", "你好呀 小助手", "麻烦你了 律师"), else None. Elderly residents address
    the account as a person; 老师 or 律师 alone must not be read as a question about teachers."""
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


def small_talk(ctx: Context) -> bool | dict[str, Any]:
    kind = _courtesy_kind(_plain(ctx))
    if kind == "thanks":
        return {"reply": texts.THANKS}
    if kind == "greeting":
        return {"reply": texts.GREETING}
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
    if number > len(cands):
        return Outcome(TextReply(texts.BAD_CHOICE.format(n=number, max=len(cands))), kind="command")
    entry = ctx.services.knowledge.entry(cands[number - 1])
    if entry is None:
        return Outcome(TextReply(texts.NO_CANDIDATES), kind="command")
    return entry_outcome(ctx, entry, 1.0, kind="answered")


@router.on(is_original)
async def original(ctx: Context) -> Outcome:
    cited = ctx.conversation.last_citation
    if cited is None:
        return Outcome(TextReply(texts.NO_ORIGINAL), kind="command")
    law, number = cited
    article = ctx.services.knowledge.article(law, number)
    if article is None:
        return Outcome(TextReply(texts.ARTICLE_NOT_FOUND.format(law=law, article=number)), kind="command")
    return Outcome(paged(ctx, f"{citation_text(law, number)}\n{article.text}"), kind="command")


@router.on(leave_message)
async def leave(ctx: Context, body: str) -> Outcome:
    if not body:
        return Outcome(TextReply(texts.LEAVE_MESSAGE_EMPTY), kind="command")
    office = ctx.services.settings.town.office
    ack = texts.LEAVE_MESSAGE_ACK.format(office=office) + "\n" + contacts_lines(contacts_for(ctx, ()))
    return Outcome(TextReply(ack), kind="command", leave_message=body[:2000])


@router.on(is_human)
async def human(ctx: Context) -> Outcome:
    office = ctx.services.settings.town.office
    return Outcome(TextReply(texts.HUMAN_PROMPT.format(office=office)), kind="command")


@router.on(is_menu)
async def menu(ctx: Context) -> Outcome:
    return Outcome(TextReply(topic_menu(ctx)), kind="command")


@router.on(is_topic_name)
async def topic(ctx: Context, topic_key: str) -> Outcome | None:
    return topic_list_outcome(ctx, topic_key)


@router.on(small_talk)
async def chat(ctx: Context, reply: str) -> Outcome:
    return Outcome(TextReply(reply), kind="command")
