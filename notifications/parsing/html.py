"""HTML bodies to plain text, keeping what reply extraction needs.

Written on the standard library's ``html.parser`` rather than taken from a
library because the one rendering detail that matters here is uncommon: quoted
history must stay recognisable, so ``<blockquote>`` content is prefixed with
``> `` per level, as a plain-text client would quote it. Everything else is
ordinary: invisible elements dropped, blocks on their own lines, whitespace
folded outside ``<pre>``, link targets kept after their text, entities decoded.
The parser never raises on malformed markup.
"""

import re
from html.parser import HTMLParser

_INVISIBLE = frozenset(
    {"head", "style", "script", "title", "template", "noscript", "xml", "svg", "object"}
)
_BLOCK = frozenset(
    {
        "address", "article", "aside", "center", "dd", "div", "dl", "dt", "fieldset",
        "figcaption", "figure", "footer", "form", "header", "li", "main", "nav", "ol",
        "section", "table", "tbody", "thead", "tfoot", "tr", "ul", "caption",
    }
)  # fmt: skip
_PARAGRAPH = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "hr"})
_CELL = frozenset({"td", "th"})
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
     "param", "source", "track", "wbr"}
)  # fmt: skip
_SPACE_RE = re.compile(r"[ \t\r\n\f\v\u00a0\u200b]+")
_BLANK_RUN_RE = re.compile(r"\n(?:[ \t]*\n){2,}")
_LINKABLE_RE = re.compile(r"^https?://", re.IGNORECASE)


class _TextRenderer(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self._parts: list[str] = []
        self._depth = 0  # blockquote nesting of the line being written
        self._hidden = 0
        self._pre = 0
        self._href: list[str | None] = []
        self._link_text_start: list[int] = []

    # --- output ------------------------------------------------------------------
    def _prefix(self) -> str:
        return "> " * self._depth

    def _flush(self, *, force: bool = False) -> None:
        text = "".join(self._parts).rstrip()
        self._parts = []
        if text or force:
            self.lines.append((self._prefix() + text).rstrip())

    def _newline(self) -> None:
        self._flush()

    def _blank(self) -> None:
        self._flush()
        if self.lines and self.lines[-1].strip("> ") != "":
            self.lines.append(self._prefix().rstrip())

    def _write(self, text: str) -> None:
        if self._pre:
            chunks = text.split("\n")
            for i, chunk in enumerate(chunks):
                if i:
                    self._flush(force=True)
                self._parts.append(chunk)
            return
        text = _SPACE_RE.sub(" ", text)
        if not self._parts or "".join(self._parts).endswith(" "):
            text = text.lstrip(" ")
        if text:
            self._parts.append(text)

    # --- parser callbacks ----------------------------------------------------------
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _INVISIBLE:
            self._hidden += 1
            return
        if self._hidden:
            return
        if tag == "br":
            self._flush(force=True)
        elif tag == "blockquote":
            self._blank()
            self._depth += 1
        elif tag in _PARAGRAPH:
            self._blank()
            if tag == "pre":
                self._pre += 1
        elif tag in _BLOCK:
            self._newline()
            if tag == "li":
                self._parts.append("- ")
        elif tag in _CELL:
            if self._parts:
                self._parts.append(" ")
        elif tag == "a":
            self._href.append(dict(attrs).get("href"))
            self._link_text_start.append(len("".join(self._parts)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _INVISIBLE:
            self._hidden = max(0, self._hidden - 1)
            return
        if self._hidden:
            return
        if tag == "blockquote":
            self._flush()
            self._depth = max(0, self._depth - 1)
            self._blank()
        elif tag in _PARAGRAPH:
            if tag == "pre":
                self._pre = max(0, self._pre - 1)
            self._blank()
        elif tag in _BLOCK:
            self._newline()
        elif tag == "a" and self._href:
            href = self._href.pop()
            start = self._link_text_start.pop()
            label = "".join(self._parts)[start:].strip()
            if href and _LINKABLE_RE.match(href) and href.rstrip("/") not in label:
                self._write(f" <{href}>" if label else href)

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self._write(data)

    def close(self) -> None:
        super().close()
        self._flush()


def html_to_text(html: str) -> str:
    """Render an HTML document or fragment as plain text (never raises)."""
    renderer = _TextRenderer()
    try:
        renderer.feed(html)
        renderer.close()
    except Exception:  # html.parser is lenient; this is a last-resort guard
        renderer._flush()
    text = "\n".join(renderer.lines)
    return _BLANK_RUN_RE.sub("\n\n", text).strip("\n")
