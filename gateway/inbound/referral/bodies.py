"""A message's own text: plain and HTML bodies, and the labelled lines read from them."""

from __future__ import annotations

from email.message import Message
from html.parser import HTMLParser

from gateway.inbound.referral.layout import text_items
from gateway.inbound.referral.reader import read


def labelled_pairs(text: str) -> list[tuple[str, str]]:
    """The (label, value) pairs of TEXT as the form reader reads them: `Label: value` lines,
    sections, tables; unlabelled lines continue a narrative above them. A form quoted with
    `>` (a colleague's forward) is read at its own depth. Linear in the text: each value's
    lines are joined once, at the end."""
    return [(entry.label or entry.key, entry.value) for entry in read(text_items(text))]


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

