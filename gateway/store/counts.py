"""How many messages and outbox rows are in each state, kept by the database as they change,
so that `status` and the metrics scrape cost the same in the tenth year as in the first.

Counting every row by state (`GROUP BY state`) reads the whole table, or a whole index: its cost
grows with every year of history. Three other ways were weighed:

- Counting only the non-terminal states over an index, and estimating the rest from `max(id)`:
  not exact. Ids have gaps (a rolled-back insert on PostgreSQL uses a sequence value), and the
  "terminal" states are not terminal: a sent row becomes `bounced` when its DSN comes back, a
  quarantined message goes back to `pending` when released. Quarantine and bounces also pile up
  with the years, so even "the small states" are not bounded.
- Counters updated by the Python code paths that change state: a dozen places (ingest, the
  processor, quarantine, the sender, the bounce handler, withdrawal, the bench's bulk loader)
  and every future one must remember. One forgotten path and the figure drifts silently.
- One counter row per state, updated by a trigger: exact, but on PostgreSQL every transaction that
  changes a state would hold a lock on the same few rows until it commits, serialising the
  instances' work and inviting deadlocks between transactions touching them in different orders.

So: triggers (migration 0022), on SQLite and PostgreSQL alike, fire on every INSERT, DELETE and
change of `state` (and of a quarantined message's reason) in `messages` and `outbox`, whichever
code or SQL makes it, and *append* a +1/-1 row to `state_count_deltas` in the same transaction.
Appending takes no lock any other writer waits for, and it commits or rolls back with the
change it counts, so the sum is exact. `fold()` (the `fold-counts` sweep, each tick) moves the
deltas into `state_counts`, one row per (table, state, reason), in one atomic statement, so the
deltas stay as few as a tick's traffic. A count is the sum over both tables, read in one
statement (one snapshot): rows proportional to the number of states, not to the history.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import Integer, String, func, literal_column, select, text, union_all
from sqlalchemy.orm import Mapped, Session, mapped_column

from gateway.store.models import Base

# The reason is kept only for quarantined messages; every other row counts under "".
NO_REASON = ""


class StateCount(Base):
    """Folded totals: rows of table `tbl` in `state` (and, for quarantine, with `reason`)."""

    __tablename__ = "state_counts"

    tbl: Mapped[str] = mapped_column(String(16), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), primary_key=True)
    reason: Mapped[str] = mapped_column(String(200), primary_key=True, default=NO_REASON)
    n: Mapped[int] = mapped_column(Integer, default=0)


class StateCountDelta(Base):
    """One change not yet folded: written only by the triggers, removed only by `fold()`."""

    __tablename__ = "state_count_deltas"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tbl: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(200), default=NO_REASON)
    delta: Mapped[int] = mapped_column(Integer)


Counts = dict[str, dict[tuple[str, str], int]]


def current(session: Session) -> Counts:
    """{table: {(state, reason): rows}}, exact as of this statement; zero counts left out."""
    both = union_all(
        select(StateCount.tbl, StateCount.state, StateCount.reason, StateCount.n),
        select(
            StateCountDelta.tbl,
            StateCountDelta.state,
            StateCountDelta.reason,
            StateCountDelta.delta.label("n"),
        ),
    ).subquery()
    rows = session.execute(
        select(both.c.tbl, both.c.state, both.c.reason, func.sum(both.c.n)).group_by(
            both.c.tbl, both.c.state, both.c.reason
        )
    ).all()
    counts: Counts = defaultdict(dict)
    for table, state, reason, n in rows:
        if n:
            counts[table][(state, reason)] = int(n)
    return counts


def by_state(counts: Counts, table: str) -> dict[str, int]:
    """Rows of `table` by state, reasons added together."""
    states: dict[str, int] = defaultdict(int)
    for (state, _reason), n in counts.get(table, {}).items():
        states[state] += n
    return dict(states)


_FOLD_POSTGRES = text(
    """
    WITH moved AS (DELETE FROM state_count_deltas RETURNING tbl, state, reason, delta)
    INSERT INTO state_counts (tbl, state, reason, n)
    SELECT tbl, state, reason, sum(delta) FROM moved GROUP BY tbl, state, reason
    ORDER BY tbl, state, reason
    ON CONFLICT (tbl, state, reason) DO UPDATE SET n = state_counts.n + excluded.n
    """
)
# SQLite has one writer at a time (the gateway begins IMMEDIATE), so two statements in one
# transaction see the same deltas; the id bound keeps it exact even so.
_FOLD_SQLITE = (
    text(
        """
        INSERT INTO state_counts (tbl, state, reason, n)
        SELECT tbl, state, reason, sum(delta) FROM state_count_deltas WHERE id <= :upto
        GROUP BY tbl, state, reason
        ON CONFLICT (tbl, state, reason) DO UPDATE SET n = state_counts.n + excluded.n
        """
    ),
    text("DELETE FROM state_count_deltas WHERE id <= :upto"),
)
# One folder at a time on PostgreSQL; another instance's tick finds the lock taken and skips.
_FOLD_LOCK = 0x4D415348  # "MASH"


def fold(session: Session) -> int:
    """Move the pending deltas into the totals; how many totals changed (0: nothing to do)."""
    if session.get_bind().dialect.name == "postgresql":
        if not session.execute(
            select(func.pg_try_advisory_xact_lock(literal_column(str(_FOLD_LOCK))))
        ).scalar_one():
            return 0
        return int(session.execute(_FOLD_POSTGRES).rowcount or 0)  # type: ignore[attr-defined]
    upto = session.execute(select(func.max(StateCountDelta.id))).scalar()
    if upto is None:
        return 0
    insert, delete = _FOLD_SQLITE
    changed = session.execute(insert, {"upto": upto}).rowcount  # type: ignore[attr-defined]
    session.execute(delete, {"upto": upto})
    return int(changed or 0)
