"""SQL that differs by backend: elapsed hours between two instants, and percentiles.

The figures are computed in the database (aggregates over groups), never by loading rows
into Python: a borough's year is tens of thousands of contacts and hundreds of thousands of
checks. SQLite has no percentile function, so percentiles are found from a histogram the
database counts (see `percentiles`), exactly, on both backends.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from sqlalchemy import ColumnElement, Float, Integer, and_, cast, func, select
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


# Width of a histogram bucket, in the value's unit (hours, minutes): small enough that a
# bucket holds few rows, large enough that a borough's year has few buckets per group.
BUCKET = 0.05


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
    group's number of rows from the caller's aggregate: only those groups are returned.

    Exact, without sorting every row once per grouping: one aggregate counts the rows per
    (group, bucket of VALUE) at the finest grouping, which sums to every coarser one; that
    says which bucket holds each wanted rank, and a second pass reads only the values in
    those buckets. The bucket is VALUE / BUCKET cast to an integer, which never decreases as
    VALUE grows, so the buckets' order is the values' order on both backends."""
    keys = [c.label(f"k{i}") for i, c in enumerate(columns)]
    rows_in = select(*keys, value.label("v")).where(*where, value.is_not(None)).subquery()
    bucket = cast(rows_in.c.v / BUCKET, Integer).label("b")
    key_columns = [rows_in.c[f"k{i}"] for i in range(len(columns))]
    histogram: dict[tuple[int, tuple[Any, ...]], dict[int, int]] = {}
    for *row_keys, b, n in session.execute(
        select(*key_columns, bucket, func.count()).group_by(*key_columns, bucket)
    ).all():
        for i, grouping in enumerate(groupings):
            cells = histogram.setdefault((i, tuple(row_keys[c] for c in grouping)), {})
            cells[int(b)] = cells.get(int(b), 0) + int(n)
    # Each wanted rank (1-based, at its floor and the next row): its bucket and its rank there.
    need: dict[tuple[int, tuple[Any, ...]], dict[int, tuple[int, int]]] = {}
    for key, cells in histogram.items():
        if key not in sizes:
            continue
        size = sum(cells.values())
        ranks = {r for p in wanted for r in (int(1 + p * (size - 1)), int(1 + p * (size - 1)) + 1)}
        seen, at = 0, {}
        for b in sorted(cells):
            for r in sorted(ranks):
                if seen < r <= seen + cells[b]:
                    at[r] = (b, r - seen)
            seen += cells[b]
        need[key] = at
    buckets = sorted({b for at in need.values() for b, _ in at.values()})
    values: dict[tuple[int, tuple[Any, ...]], dict[int, list[float]]] = {}
    if buckets:
        near = select(*key_columns, bucket, rows_in.c.v).where(
            cast(rows_in.c.v / BUCKET, Integer).in_(buckets)
        )
        for *row_keys, b, v in session.execute(near).all():
            for i, grouping in enumerate(groupings):
                key = (i, tuple(row_keys[c] for c in grouping))
                if key in need:
                    values.setdefault(key, {}).setdefault(int(b), []).append(float(v))
    out = {}
    for key, at in need.items():
        size = sum(histogram[key].values())
        ordered = {b: sorted(vs) for b, vs in values.get(key, {}).items()}
        picked = {r: ordered[b][within - 1] for r, (b, within) in at.items()}
        found = {}
        for p in wanted:
            exact = 1 + p * (size - 1)
            low = int(exact)
            below = picked[low]
            above = picked.get(low + 1, below)
            found[p] = below + float(exact - low) * (above - below)
        out[key] = Percentiles(size, found)
    return out


def between(column: Any, start: Any, end: Any) -> ColumnElement[bool]:
    """START <= column < END: periods are half-open, so adjacent ones never share a row."""
    return and_(column >= start, column < end)
