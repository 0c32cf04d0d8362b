"""What a handler may answer, and how it is rendered as a passive reply."""

from __future__ import annotations

from dataclasses import dataclass

from bot.wechat import xmlcodec


@dataclass(frozen=True)
class TextReply:
    content: str


@dataclass(frozen=True)
class Article:
    title: str
    description: str = ""
    url: str = ""
    picurl: str = ""


@dataclass(frozen=True)
class NewsReply:
    articles: tuple[Article, ...]


Reply = TextReply | NewsReply


def render(reply: Reply, *, to_user: str, from_user: str, create_time: int) -> str:
    """A passive reply XML; ``to_user`` is the resident, ``from_user`` the official account."""
    head = {"ToUserName": to_user, "FromUserName": from_user, "CreateTime": create_time}
    if isinstance(reply, TextReply):
        return xmlcodec.render({**head, "MsgType": "text", "Content": reply.content})
    items = [
        {"Title": a.title, "Description": a.description, "PicUrl": a.picurl, "Url": a.url}
        for a in reply.articles
    ]
    return xmlcodec.render({**head, "MsgType": "news", "ArticleCount": len(items), "Articles": items})
