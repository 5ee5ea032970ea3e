"""The report's percentiles (gateway/reports/sql.py) against the exact answer computed in
Python, on SQLite and PostgreSQL: ties, negative values, values on a bucket's edge, groups of
one and two rows, and a filter that leaves some groups out."""

from __future__ import annotations

import random
from fractions import Fraction
from typing import Any

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, create_engine, insert
from sqlalchemy.orm import Session

from gateway.reports.sql import BUCKET, percentiles

WANTED = (Fraction(1, 2), Fraction(9, 10), Fraction(0), Fraction(1))
GROUPINGS = ((0, 1), (0,), (1,), ())
metadata = MetaData()
samples = Table(
    "percentile_samples",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("agency", String(16)),
    Column("rag", String(8)),
    Column("v", Float),
    Column("keep", Integer),
)


def _exact(values: list[float], p: Fraction) -> float:
    """Linear interpolation between closest ranks (PostgreSQL's percentile_cont)."""
    ordered = sorted(values)
    exact = 1 + p * (len(ordered) - 1)
    low = int(exact)
    below = ordered[low - 1]
    above = ordered[low] if low < len(ordered) else below
    return below + float(exact - low) * (above - below)


def _rows(rng: random.Random) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for agency, rag, n in (("police", "red", 5_000), ("police", "amber", 1), ("health", "red", 2),
                           ("health", "amber", 700), ("school", "green", 0)):  # fmt: skip
        for _ in range(n):
            shape = rng.random()
            v = (
                round(rng.uniform(0, 5), 1)  # ties, and many values on a bucket's edge
                if shape < 0.4
                else rng.choice([-0.5, -BUCKET, 0.0, BUCKET, 2 * BUCKET])  # negative, edges
                if shape < 0.5
                else rng.expovariate(1 / 2)  # dense: many rows share a bucket
            )
            rows.append({"agency": agency, "rag": rag, "v": v, "keep": int(rng.random() < 0.9)})
    return rows


def test_percentiles_equal_the_exact_answer(db_url: str) -> None:
    engine = create_engine(db_url.replace("postgresql://", "postgresql+psycopg://", 1))
    metadata.create_all(engine)
    rows = _rows(random.Random(17))
    with Session(engine) as session:
        session.execute(insert(samples), rows)
        session.flush()
        kept = [r for r in rows if r["keep"]]
        groups: dict[tuple[int, tuple[Any, ...]], list[float]] = {}
        for row in kept:
            keys = (row["agency"], row["rag"])
            for i, grouping in enumerate(GROUPINGS):
                groups.setdefault((i, tuple(keys[c] for c in grouping)), []).append(row["v"])
        sizes = {key: len(values) for key, values in groups.items()}
        sizes[(0, ("school", "green"))] = 0  # a group with no rows: nothing returned for it
        found = percentiles(
            session,
            samples.c.v,
            (samples.c.agency, samples.c.rag),
            sizes,
            GROUPINGS,
            [samples.c.keep == 1],
            WANTED,
        )
        session.rollback()
    metadata.drop_all(engine)
    engine.dispose()
    assert set(found) == set(groups)
    assert found[(0, ("police", "amber"))].count == 1
    for key, values in groups.items():
        for p in WANTED:
            assert abs(found[key].values[p] - _exact(values, p)) < 1e-9, (key, p)
