"""Reply rendering is CDATA-safe; hostile XML is refused before it can do harm."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.wechat import replies, xmlcodec

_XML_CHARS = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")


def _reparse(body: str) -> ET.Element:
    return ET.fromstring(body)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=_XML_CHARS, max_size=400))
def test_any_reply_text_reparses_to_one_msgtype_and_same_content(text: str) -> None:
    body = replies.render(replies.TextReply(text), to_user="oUser", from_user="gh_x", create_time=1)
    root = _reparse(body)
    assert [e.text for e in root.findall("MsgType")] == ["text"]
    expected = xmlcodec._INVALID_XML_CHARS.sub("", text).replace("\r\n", "\n").replace("\r", "\n")
    assert (root.findtext("Content") or "") == expected


def test_cdata_terminator_in_text_does_not_inject_a_second_msgtype() -> None:
    evil = "a]]><MsgType>news</MsgType><![CDATA[b"
    body = replies.render(replies.TextReply(evil), to_user="o", from_user="g", create_time=1)
    root = _reparse(body)
    assert [e.text for e in root.findall("MsgType")] == ["text"]
    assert root.findtext("Content") == evil


def test_news_reply_renders_articles() -> None:
    reply = replies.NewsReply((replies.Article("标题<&>", "描述]]>", "http://x/?a=1&b=2"),))
    root = _reparse(replies.render(reply, to_user="o", from_user="g", create_time=1))
    assert root.findtext("MsgType") == "news"
    assert root.findtext("ArticleCount") == "1"
    assert root.find("Articles/item/Title").text == "标题<&>"  # type: ignore[union-attr]
    assert root.find("Articles/item/Description").text == "描述]]>"  # type: ignore[union-attr]


def test_parse_flat_and_nested() -> None:
    body = (
        b"<xml><ToUserName><![CDATA[gh]]></ToUserName><MsgType>event</MsgType>"
        b"<CopyrightCheckResult><Count>1</Count><ResultList><item><ArticleIdx>1</ArticleIdx></item>"
        b"</ResultList></CopyrightCheckResult></xml>"
    )
    fields = xmlcodec.parse(body)
    assert fields["ToUserName"] == "gh"
    assert fields["CopyrightCheckResult"]["ResultList"]["item"]["ArticleIdx"] == "1"  # type: ignore[index]


@pytest.mark.parametrize(
    "body",
    [
        b'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "b">]><xml><A>&a;</A></xml>',
        b"<xml><A>1</A><A>2</A></xml>",
        b"<notxml><A>1</A></notxml>",
        b"<xml>" + b"<a>" * 50 + b"</a>" * 50 + b"</xml>",
        b"<xml><A>\xff\xfe</A></xml>",
        b'<?xml version="1.0" encoding="GBK"?><xml><A>1</A></xml>',
        b"<xml><A>1</A>",
        b"",
        b"<xml><A x='1'>1</A></xml>",
    ],
)
def test_parse_refuses(body: bytes) -> None:
    with pytest.raises(xmlcodec.XmlError):
        xmlcodec.parse(body)
