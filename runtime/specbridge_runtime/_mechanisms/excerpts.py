"""An error body as text a model can read: an HTML page becomes its title and words (no tags, scripts or
styles), a JSON body keeps its message fields first, anything else stays as it is. Sanitizing and
shortening are `response.sanitized_excerpt`'s."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from typing import Any

# The fields APIs put their human-readable error in, most telling first.
MESSAGE_KEYS = ("message", "error_description", "detail", "error", "title", "msg", "reason", "description",
                "errors", "details", "code")
_INVISIBLE = frozenset({"script", "style", "noscript", "template", "svg"})
_MAX_DEPTH = 3


def readable(body: bytes, media_type: str) -> str:
    text = body.decode("utf-8", errors="replace")
    start = text.lstrip()[:64].lower()
    if media_type in ("text/html", "application/xhtml+xml") or start.startswith(("<!doctype html", "<html")):
        return html_text(text)
    if media_type.endswith(("/json", "+json")) or start.startswith(("{", "[")):
        try:
            value = json.loads(text)
        except (ValueError, RecursionError):  # a hostile error body nested past the parser's reach stays text
            return text
        return json.dumps(messages_first(value, 0), ensure_ascii=False)
    return text


def messages_first(value: Any, depth: int) -> Any:
    """`value` with every object's message fields moved to its front (to a few levels deep)."""
    if depth >= _MAX_DEPTH:
        return value
    if isinstance(value, dict):
        order = [key for key in MESSAGE_KEYS if key in value] + [key for key in value if key not in MESSAGE_KEYS]
        return {key: messages_first(value[key], depth + 1) for key in order}
    if isinstance(value, list):
        return [messages_first(item, depth + 1) for item in value]
    return value


def html_text(page: str) -> str:
    """`title: words of the page` (the title once, when the page repeats it as its heading)."""
    parser = _PageText()
    parser.feed(page)
    parser.close()
    title = " ".join(" ".join(parser.title).split())
    words = " ".join(" ".join(parser.words).split())
    if title and words.startswith(title):
        words = words[len(title):].lstrip(" :-|")
    return f"{title}: {words}" if title and words else title or words


class _PageText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title: list[str] = []
        self.words: list[str] = []
        self._hidden = 0  # depth inside invisible elements
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        elif tag in _INVISIBLE:
            self._hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag in _INVISIBLE and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title.append(data)
        elif not self._hidden:
            self.words.append(data)
