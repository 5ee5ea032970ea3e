"""SQL that differs by backend: elapsed hours between two instants, and percentiles.

The figures are computed in the database (aggregates over groups), never by loading rows
into Python: a borough's year is tens of thousands of contacts and hundreds of thousands of
checks. SQLite has no percentile function, so percentiles use window functions (row_number
over the ordered values, then the one or two rows either side of the wanted rank), which
both backends have.
"""

from __future__ import annotations

from collections.abc import Sequence
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
    keys: Sequence[Any],
    where: Sequence[ColumnElement[bool]],
    wanted: Sequence[Fraction],
) -> dict[tuple[Any, ...], Percentiles]:
    """For each group of KEYS, the WANTED percentiles of VALUE over rows matching WHERE."""
    rank = func.row_number().over(partition_by=list(keys) or None, order_by=value).label("rn")
    size = func.count().over(partition_by=list(keys) or None).label("n")
    inner = select(*[k.label(f"k{i}") for i, k in enumerate(keys)], value.label("v"), rank, size)
    ranked = inner.where(*where).subquery()
    n = ranked.c.n
    # The value at percentile p sits at 1-based position 1 + p (n - 1): keep the row at its
    # floor and the next one; integer division is the same on both backends.
    near = []
    for p in wanted:
        floor = 1 + (p.numerator * (n - 1)) // p.denominator
        near.append(or_(ranked.c.rn == floor, ranked.c.rn == floor + 1))
    cols = [ranked.c[f"k{i}"] for i in range(len(keys))]
    rows = session.execute(select(*cols, ranked.c.v, ranked.c.rn, n).where(or_(*near))).all()
    by_group: dict[tuple[Any, ...], dict[int, float]] = {}
    sizes: dict[tuple[Any, ...], int] = {}
    for row in rows:
        group = tuple(row[: len(keys)])
        by_group.setdefault(group, {})[int(row[len(keys) + 1])] = float(row[len(keys)])
        sizes[group] = int(row[len(keys) + 2])
    out = {}
    for group, at in by_group.items():
        count = sizes[group]
        values = {}
        for p in wanted:
            exact = 1 + p * (count - 1)
            low = int(exact)
            fraction = exact - low
            below = at[low]
            above = at.get(low + 1, below)
            values[p] = below + float(fraction) * (above - below)
        out[group] = Percentiles(count, values)
    return out


def between(column: Any, start: Any, end: Any) -> ColumnElement[bool]:
    """START <= column < END: periods are half-open, so adjacent ones never share a row."""
    return and_(column >= start, column < end)
