"""Small numbers in a published report: nothing in it may identify a child or a family.

A count of 1 to 4 is published as "fewer than 5" (the same string in figures.json, the HTML
and the CSV files); zero stays zero, since it identifies no one. A share whose count, base or
complement is 1 to 4, or a response time built on 1 to 4 answers, is published the same way,
since it would give the count away. Where a breakdown's total is published and only one of
its cells was hidden, the next smallest cell is hidden too, so the hidden one cannot be
worked out by subtraction. The checks table (agency by RAG) hides its cells one by one: its
counts are of partners' answers, not of children.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

THRESHOLD = 5
MARK = "fewer than 5"

Published = int | float | str | None


def hidden(n: int) -> bool:
    return 0 < n < THRESHOLD


def count(n: int) -> int | str:
    return MARK if hidden(n) else n


def share(value: float | None, part: int, base: int) -> float | str | None:
    if value is None:
        return None
    # The complement too: 5 of 7 on time, with 5 shown, would give away the 2 that were not.
    return MARK if hidden(part) or hidden(base) or hidden(base - part) else value


def based(value: float | None, cases: int) -> float | str | None:
    """A figure computed from CASES rows (a median of response times)."""
    if value is None:
        return None
    return MARK if hidden(cases) else value


def group(cells: Mapping[str, int]) -> dict[str, int | str]:
    """Primary suppression, then secondary where exactly one cell was hidden."""
    out: dict[str, int | str] = {k: count(v) for k, v in cells.items()}
    if sum(1 for v in cells.values() if hidden(v)) == 1:
        rest = [(v, k) for k, v in cells.items() if v >= THRESHOLD]
        if rest:
            out[min(rest)[1]] = MARK
    return out


def columns(rows: Mapping[str, Mapping[str, int]]) -> dict[str, dict[str, int | str]]:
    """A table whose rows and columns are both totalled elsewhere: protect each row, then
    each column of what is left."""
    out = {name: group(row) for name, row in rows.items()}
    names = {column for row in rows.values() for column in row}
    for column in names:
        shown = {
            name: row[column]
            for name, row in rows.items()
            if column in row and out[name][column] != MARK
        }
        hidden_here = [n for n, row in rows.items() if out[n].get(column) == MARK]
        if len(hidden_here) == 1:
            rest = [(v, n) for n, v in shown.items() if v >= THRESHOLD]
            if rest:
                out[min(rest)[1]][column] = MARK
    return out


def change(current: Published, previous: Published, digits: int = 4) -> Published:
    """The change from the previous period; hidden when either side is."""
    if MARK in (current, previous):
        return MARK
    if current is None or previous is None:
        return None
    assert isinstance(current, int | float) and isinstance(previous, int | float)
    delta = current - previous
    return round(delta, digits) if isinstance(delta, float) else delta


def is_mark(value: Any) -> bool:
    return value == MARK
