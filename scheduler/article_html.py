"""Article HTML from the post editor, reduced to a whitelist before it is stored.

The editor (admin/static/post.js) is a contenteditable area, so the browser hands us whatever it
produced — including what was pasted from a web page or Word. Only simple article markup survives:
paragraphs, headings, bold/italic, lists, quotes, line breaks, links and images with http(s)
addresses. Everything else goes: script/style (with their content), event handler and style
attributes, ``javascript:``/``data:`` URLs, comments. The parser re-serialises from scratch (escaping
all text and attribute values and closing what it opened), so malformed input cannot smuggle markup
through. A body without any ``<`` is plain text and is left to ``channels.wechat.article``.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

ALLOWED = {"p", "br", "b", "strong", "i", "em", "u", "h2", "h3", "h4", "ul", "ol", "li", "a", "blockquote", "img"}
VOID = {"br", "img"}
# Elements whose content is code or chrome, not article text.
DROP_CONTENT = {"script", "style", "iframe", "object", "embed", "template", "noscript", "svg", "math", "head",
                "title", "textarea", "select", "button"}
# Block wrappers pasted from elsewhere become paragraphs, so the text keeps its line structure.
RENAME = {"div": "p", "h1": "h2", "h5": "h4", "h6": "h4"}
ATTRIBUTES = {"a": ("href",), "img": ("src", "alt")}
URL_SCHEMES = {"a": ("http://", "https://", "mailto:", "tel:"), "img": ("http://", "https://")}
_CONTROL = re.compile(r"[\x00-\x20\x7f]+")


def safe_url(tag: str, value: str) -> str | None:
    # Browsers ignore tabs, newlines and controls inside a scheme ("java\tscript:"), so must we.
    squeezed = _CONTROL.sub("", value)
    if squeezed.lower().startswith(URL_SCHEMES[tag]):
        return value.strip()
    return None


class _Cleaner(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.open: list[str] = []
        self.dropping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in DROP_CONTENT:
            self.dropping += 1
            return
        if self.dropping:
            return
        tag = RENAME.get(tag, tag)
        if tag not in ALLOWED:
            return
        kept = []
        for name, value in attrs:
            if name not in ATTRIBUTES.get(tag, ()) or value is None:
                continue
            if name in {"href", "src"}:
                url = safe_url(tag, value)
                if url is None:
                    continue
                value = url
            kept.append(f' {name}="{html.escape(value, quote=True)}"')
        if tag == "img" and not any(k.startswith(" src=") for k in kept):
            return
        if tag in {"p", "li"} and self.open and self.open[-1] == tag:
            self.handle_endtag(tag)  # <li>1<li>2: HTML closes the first item implicitly
        self.out.append(f"<{tag}{''.join(kept)}>")
        if tag not in VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in DROP_CONTENT:
            return
        self.handle_starttag(tag, attrs)
        if tag not in VOID and self.open and self.open[-1] == RENAME.get(tag, tag):
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in DROP_CONTENT:
            self.dropping = max(0, self.dropping - 1)
            return
        if self.dropping:
            return
        tag = RENAME.get(tag, tag)
        if tag not in self.open:
            return
        while self.open:
            top = self.open.pop()
            self.out.append(f"</{top}>")
            if top == tag:
                break

    def handle_data(self, data: str) -> None:
        if not self.dropping:
            self.out.append(html.escape(data, quote=False))

    def result(self) -> str:
        self.close()
        while self.open:
            self.out.append(f"</{self.open.pop()}>")
        return "".join(self.out)


def sanitize(body: str) -> str:
    """The whitelisted HTML of ``body``; plain text (no ``<``) unchanged."""
    if "<" not in body:
        return body
    cleaner = _Cleaner()
    cleaner.feed(body)
    return cleaner.result().strip()
