"""SQL that differs by backend: elapsed hours between two instants, and percentiles.

The figures are computed in the database (aggregates over groups), never by loading rows
into Python: a borough's year is tens of thousands of contacts and hundreds of thousands of
checks. SQLite has no percentile function, so percentiles use window functions (row_number
over the ordered values, then the one or two rows either side of the wanted rank), which
both backends have.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from sqlalchemy import ColumnElement, Float, and_, cast, func, or_, select
from sqlalchemy.orm import Session


def hours_between(dialect: str, later: Any, earlier: Any) -> ColumnElement[Any]:
    """Clock hours from EARLIER to LATER as a float expression."""
    if dialect == "sqlite":
        # UTC instants are stored as naive ISO text; julianday reads them in days.
        return (func.julianday(later) - func.julianday(earlier)) * 24.0
    return cast(func.extract("epoch", later - earlier), Float) / 3600.0


@dataclass(frozen=True)
class Percentiles:
    """Linear interpolation between closest ranks (as PostgreSQL's percentile_cont)."""

    count: int
    values: dict[Fraction, float]


def percentiles(
    session: Session,
    value: ColumnElement[Any],
    columns: Sequence[Any],
    sizes: Mapping[tuple[int, tuple[Any, ...]], int],
    groupings: Sequence[Sequence[int]],
    where: Sequence[ColumnElement[bool]],
    wanted: Sequence[Fraction],
) -> dict[tuple[int, tuple[Any, ...]], Percentiles]:
    """The WANTED percentiles of VALUE over rows matching WHERE, for each grouping (indexes
    into COLUMNS; () is all rows), keyed by (grouping's index, group's values). SIZES: each
    group's number of rows, known from the caller's aggregate, so only ranks are computed."""
    # The value once per row in an inner query, then one ranking (one sort) per grouping.
    keys = [c.label(f"k{i}") for i, c in enumerate(columns)]
    rows_in = select(*keys, value.label("v")).where(*where).subquery()
    windows = [
        func.row_number()
        .over(partition_by=[rows_in.c[f"k{c}"] for c in grouping] or None, order_by=rows_in.c.v)
        .label(f"r{i}")
        for i, grouping in enumerate(groupings)
    ]
    ranked = select(*rows_in.c, *windows).subquery()
    # The value at percentile p sits at 1-based position 1 + p (n - 1): keep the rows at its
    # floor and the next one. One IN list of every group's positions per grouping (a test
    # per row the database answers from a sorted list); the rows kept there for another
    # group's positions are dropped below.
    positions: dict[int, set[int]] = {}
    for (i, _group), size in sizes.items():
        if size <= 0:
            continue
        for p in wanted:
            floor = int(1 + p * (size - 1))
            positions.setdefault(i, set()).update((floor, floor + 1))
    if not positions:
        return {}
    near = [ranked.c[f"r{i}"].in_(sorted(at)) for i, at in sorted(positions.items())]
    rows = session.execute(select(ranked).where(or_(*near))).mappings().all()
    found: dict[tuple[int, tuple[Any, ...]], dict[int, float]] = {}
    for row in rows:
        for i, grouping in enumerate(groupings):
            key = (i, tuple(row[f"k{c}"] for c in grouping))
            if key in sizes:
                found.setdefault(key, {})[int(row[f"r{i}"])] = float(row["v"])
    out = {}
    for key, at in found.items():
        count = sizes[key]
        values = {}
        for p in wanted:
            exact = 1 + p * (count - 1)
            low = int(exact)
            if low not in at:
                continue  # a row kept for another group's rank: only ours count
            below = at[low]
            above = at.get(low + 1, below)
            values[p] = below + float(exact - low) * (above - below)
        out[key] = Percentiles(count, values)
    return out


def between(column: Any, start: Any, end: Any) -> ColumnElement[bool]:
    """START <= column < END: periods are half-open, so adjacent ones never share a row."""
    return and_(column >= start, column < end)
