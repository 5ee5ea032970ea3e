"""A form's layout as a stream of items, whatever it came in: lines of text, table rows.

Plain text gives lines (a tab- or pipe-separated line is a row); HTML gives its tables' rows
and the text around them as lines; a Word document gives its paragraphs and table rows in
document order, so a heading above a table still says whose details the table holds.
Nothing is rendered or fetched; every step is linear in the size of the input.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

_QUOTE = re.compile(r"^(?:[ \t]*>)+[ \t]?")
_CELL_SPLIT = re.compile(r"\t|\s+\|\s+")


@dataclass(frozen=True)
class Line:
    text: str
    depth: int = 0  # how deep a `>` quote the line sits at


@dataclass(frozen=True)
class Row:
    cells: tuple[str, ...]
    header: bool = False  # every cell a <th>: the markup says this is a header row
    table: int = 0  # which table of the document the row belongs to


Item = Line | Row


def text_items(text: str) -> Iterator[Item]:
    """Lines of a plain-text body; a line of three or more tab/pipe-separated cells, or two
    with no colon, is a table row."""
    for raw in text.splitlines():
        quote = _QUOTE.match(raw)
        depth = quote.group(0).count(">") if quote else 0
        line = raw[quote.end() :] if quote else raw
        if "\t" in line or " | " in line:
            # Cells kept in place, empty ones too: a blank cell keeps its column.
            cells = [c.strip() for c in _CELL_SPLIT.split(line.strip().strip("|"))]
            filled = [c for c in cells if c]
            if len(filled) >= 3 or (len(filled) == 2 and ":" not in filled[0]):
                yield Row(tuple(cells))
                continue
        yield Line(line, depth)


class _Html(HTMLParser):
    """Table rows as Rows, text outside tables as Lines; scripts and styles dropped."""

    _BLOCK = frozenset({"br", "p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.items: list[Item] = []
        self._text: list[str] = []
        self._row: list[str] | None = None
        self._row_th: list[bool] = []
        self._cell: list[str] | None = None
        self._skip = 0
        self._tables = 0
        self._table_id = 0

    def _flush_text(self) -> None:
        if self._text:
            for line in "".join(self._text).splitlines():
                if line.strip():
                    self.items.append(Line(line.strip()))
            self._text = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag == "table":
            self._flush_text()
            self._tables += 1
            self._table_id += 1
        elif tag == "tr" and self._tables:
            self._end_row()
            self._row, self._row_th = [], []
        elif tag in ("td", "th") and self._row is not None:
            self._end_cell()
            self._cell = []
            self._row_th.append(tag == "th")
        elif tag == "br":
            (self._cell if self._cell is not None else self._text).append("\n")
        elif tag in self._BLOCK and self._cell is None:
            self._text.append("\n")

    def _end_cell(self) -> None:
        if self._cell is not None and self._row is not None:
            self._row.append(re.sub(r"[ \t\r\f\v]+", " ", "".join(self._cell)).strip())
        self._cell = None

    def _end_row(self) -> None:
        self._end_cell()
        if self._row is not None and any(self._row):
            header = bool(self._row_th) and all(self._row_th) and len(self._row) > 1
            self.items.append(Row(tuple(self._row), header, self._table_id))
        self._row = None

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
        elif tag in ("td", "th"):
            self._end_cell()
        elif tag == "tr":
            self._end_row()
        elif tag == "table" and self._tables:
            self._end_row()
            self._tables -= 1
        elif tag in self._BLOCK and self._cell is None:
            self._text.append("\n")

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._cell is not None:
            self._cell.append(data)
        elif self._row is None:
            self._text.append(data)

    def finish(self) -> list[Item]:
        self.close()
        self._end_row()
        self._flush_text()
        return self.items


def html_items(html: str) -> list[Item]:
    parser = _Html()
    parser.feed(html)
    return parser.finish()


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def docx_items(document: Any) -> list[Item]:  # a python-docx Document
    """Paragraphs and table rows in document order (merged cells counted once)."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    items: list[Item] = []
    body = document.element.body
    tables = 0
    for child in body.iterchildren():
        if child.tag == f"{_W}p":
            text = Paragraph(child, document).text
            items.extend(Line(line) for line in text.splitlines() if line.strip())
        elif child.tag == f"{_W}tbl":
            tables += 1
            for row in Table(child, document).rows:
                cells = _distinct_cells(row.cells)
                if any(cells):
                    items.append(Row(tuple(cells), table=tables))
    return items


def _distinct_cells(cells: Any) -> list[str]:
    # Merged cells repeat the same object for each grid column they span.
    seen: set[int] = set()
    texts: list[str] = []
    for cell in cells:
        if id(cell._tc) in seen:
            continue
        seen.add(id(cell._tc))
        texts.append(cell.text.strip())
    return texts
