"""Hardened parsing of WeChat's XML bodies and CDATA-safe rendering of replies.

WeChat XML is a flat ``<xml>`` of text elements, with a few shallow nested blocks in events
(MASSSENDJOBFINISH's CopyrightCheckResult, menu events' ScanCodeInfo). Anything else is hostile or
broken, so the parser refuses DTDs and entities outright and caps depth, element count and size
instead of trusting a general-purpose XML library's defaults.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from xml.parsers import expat

MAX_DEPTH = 6
MAX_ELEMENTS = 500
MAX_ATTRIBUTES = 0  # WeChat never sends attributes

XmlValue = str | dict[str, Any] | list[Any]

_DECL_ENCODING = re.compile(rb"^<\?xml[^>]*encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")
_FORBIDDEN = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.I)
# XML 1.0 cannot carry these control characters at all, not even inside CDATA.
_INVALID_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class XmlError(ValueError):
    """The body is not a WeChat XML document we are willing to read."""


def check_prologue(body: bytes) -> bytes:
    """Cheap byte-level checks done before any parsing (and before decryption in safe mode)."""
    if not body.strip():
        raise XmlError("empty body")
    if body.startswith(b"\xef\xbb\xbf"):
        body = body[3:]
    if _FORBIDDEN.search(body):
        raise XmlError("DTDs and entities are not accepted")
    if b"\x00" in body:
        raise XmlError("NUL byte")
    m = _DECL_ENCODING.match(body.lstrip())
    if m and m.group(1).lower().replace(b"_", b"-") not in {b"utf-8", b"utf8"}:
        raise XmlError("only UTF-8 is accepted")
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        raise XmlError("body is not valid UTF-8") from None
    return body


def parse(body: bytes) -> dict[str, XmlValue]:
    """Parse a WeChat XML document into ``{tag: text | nested dict | list}``.

    Repeated tags at the top level are refused: a message with two MsgTypes is ambiguous.
    """
    body = check_prologue(body)
    parser = expat.ParserCreate("UTF-8")
    stack: list[tuple[str, dict[str, Any], list[str]]] = []
    root: dict[str, Any] = {}
    count = 0
    done = False

    def refuse(*_: Any) -> Any:
        raise XmlError("DTDs and entities are not accepted")

    def start(tag: str, attrs: dict[str, str]) -> None:
        nonlocal count
        count += 1
        if done:
            raise XmlError("content after the root element")
        if count > MAX_ELEMENTS:
            raise XmlError("too many elements")
        if len(stack) >= MAX_DEPTH:
            raise XmlError("nested too deeply")
        if len(attrs) > MAX_ATTRIBUTES:
            raise XmlError("attributes are not expected")
        if not stack and tag != "xml":
            raise XmlError("root element must be <xml>")
        stack.append((tag, {}, []))

    def end(tag: str) -> None:
        nonlocal done
        name, children, texts = stack.pop()
        value: XmlValue = children if children else "".join(texts)
        if not stack:
            root.update(children)
            done = True
            return
        parent = stack[-1][1]
        if name in parent:
            if len(stack) == 1:
                raise XmlError(f"duplicated element {name}")
            existing = parent[name]
            parent[name] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            parent[name] = value

    def chars(data: str) -> None:
        if stack:
            stack[-1][2].append(data)

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.UnparsedEntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    try:
        parser.Parse(body, True)
    except XmlError:
        raise
    except (expat.ExpatError, ValueError, RecursionError) as exc:
        raise XmlError(f"malformed XML: {type(exc).__name__}") from None
    if not done:
        raise XmlError("no root element")
    return root


def cdata(text: str) -> str:
    """Wrap text in CDATA so that no content, not even ``]]>``, can end the section early."""
    clean = _INVALID_XML_CHARS.sub("", text)
    return "<![CDATA[" + clean.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def render(fields: Mapping[str, Any]) -> str:
    """Render ``<xml>`` with text fields in CDATA and ints bare, nested mappings and lists as WeChat does."""
    return "<xml>" + _render_items(fields) + "</xml>"


def _render_items(fields: Mapping[str, Any]) -> str:
    out: list[str] = []
    for tag, value in fields.items():
        if isinstance(value, Mapping):
            out.append(f"<{tag}>{_render_items(value)}</{tag}>")
        elif isinstance(value, list):
            out.append(f"<{tag}>" + "".join(f"<item>{_render_items(v)}</item>" for v in value) + f"</{tag}>")
        elif isinstance(value, int):
            out.append(f"<{tag}>{value}</{tag}>")
        else:
            out.append(f"<{tag}>{cdata(str(value))}</{tag}>")
    return "".join(out)
