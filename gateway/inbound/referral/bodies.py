"""A message's own text: plain and HTML bodies, labelled lines, HTML form tables."""

from __future__ import annotations

import re
from email.message import Message
from html.parser import HTMLParser

from gateway.inbound.referral.adults import adult_field
from gateway.inbound.referral.labels import field_key


class _Table(HTMLParser):
    """Two-cell rows of an HTML form table as (label, value) pairs; nothing is rendered."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th") and self.rows:
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
        elif tag in ("td", "th") and self._cell is not None and self.rows:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None and not self._skip:
            self._cell.append(data)


_QUOTE = re.compile(r"^(?:[ \t]*>)+[ \t]?")


def labelled_pairs(text: str) -> list[tuple[str, str]]:
    """`Label: value` lines; unlabelled lines continue the previous value (narratives).

    A form quoted with `>` (a colleague's forward) is read at its own depth: a continuation line
    joins a value only from the same depth, so a reply quoted below a narrative stays out of it.
    """
    pairs: list[tuple[str, str]] = []
    depth_of_last = 0
    for raw_line in text.splitlines():
        quote = _QUOTE.match(raw_line)
        depth = quote.group(0).count(">") if quote else 0
        line = raw_line[quote.end() :] if quote else raw_line
        match = re.match(r"^\s*([^:\n]{2,80}?)\s*[:?]\s*(.*)$", line)
        label = match.group(1) if match else ""
        if match and (field_key(label)[0] is not None or adult_field(label) is not None):
            pairs.append((match.group(1), match.group(2).strip()))
            depth_of_last = depth
        elif pairs and line.strip() and depth == depth_of_last:
            label, value = pairs[-1]
            pairs[-1] = (label, f"{value}\n{line.strip()}".strip())
    return pairs


def html_pairs(html: str) -> list[tuple[str, str]]:
    table = _Table()
    table.feed(html)
    table.close()
    return [(row[0], row[1]) for row in table.rows if len(row) >= 2 and row[0]]


def body_texts(message: Message) -> tuple[str, str]:
    """(plain text, html) of the message's own body parts, attachments excluded."""
    plain, html = [], []
    parts = message.walk() if message.is_multipart() else [message]
    for part in parts:
        if part.is_multipart() or part.get_content_disposition() == "attachment":
            continue
        try:
            payload = part.get_payload(decode=True)
            charset = part.get_content_charset() or "utf-8"
            text = payload.decode(charset, "replace") if isinstance(payload, bytes) else ""
        except (LookupError, ValueError):
            continue
        if part.get_content_type() == "text/plain":
            plain.append(text)
        elif part.get_content_type() == "text/html":
            html.append(text)
    return "\n".join(plain), "\n".join(html)



class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in ("br", "p", "div", "tr", "li"):
            self.chunks.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.chunks.append(data)


def html_text(html: str) -> str:
    """The text of an HTML body, never rendered, nothing fetched."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    return "".join(parser.chunks)

