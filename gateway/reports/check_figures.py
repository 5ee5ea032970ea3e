"""Partner checks requested in the period, per agency and RAG: answered on time, response
times, chases, escalations, increased-risk flags and undeliverable requests."""

from __future__ import annotations

from datetime import datetime
from fractions import Fraction
from typing import Any

from sqlalchemy import and_, case, func, select, true
from sqlalchemy.orm import Session

from gateway.config import Config
from gateway.domain.checks.request import RAGS
from gateway.reports.period import Period
from gateway.reports.sql import Percentiles, between, hours_between, percentiles
from gateway.store.models import Check, CheckReply

MEDIAN, P90 = Fraction(1, 2), Fraction(9, 10)
ALL = "all"
COUNTS = (
    "requested",
    "answered",
    "on_time",
    "due",
    "withdrawn",
    "chases",
    "escalations",
    "increased_risk",
    "undeliverable",
    "out_of_office",
)


def _escalated(config: Config) -> Any:
    """A check whose chasing reached its RAG's first rung copied to the escalation address."""
    whens = []
    for rag in RAGS:
        ladder = config.rag.of(rag).ladder
        rung = next((i for i, step in enumerate(ladder) if step.copy_escalation), None)
        if rung is not None:
            whens.append((and_(Check.rag == rag, Check.chase_level > rung), 1))
    return case(*whens, else_=0) if whens else None


# Response-time percentiles by agency and RAG, by agency, by RAG, and over all checks; the
# previous period's (for the trends) only over all checks, which halves the sorting.
FULL = ((0, 1), (0,), (1,), ())
OVERALL: tuple[tuple[int, ...], ...] = ((),)


def check_figures(
    session: Session,
    config: Config,
    period: Period,
    now: datetime,
    groupings: tuple[tuple[int, ...], ...] = FULL,
) -> dict[str, Any]:
    where = [between(Check.requested_at, period.start, period.end)]
    answered = Check.answered_at.is_not(None)
    withdrawn = Check.status == "withdrawn"
    escalated = _escalated(config)
    # One list of the few flagged checks (a partial index), not a probe per check.
    flagged = select(CheckReply.check_id).where(CheckReply.increased_risk == true())
    risk = Check.id.in_(flagged)
    sums = [
        func.count(),
        func.sum(case((answered, 1), else_=0)),
        func.sum(case((and_(answered, Check.late.is_(False)), 1), else_=0)),
        # The base of the on-time share: answered, or unanswered and past due now (an
        # undeliverable request counts as not answered); a withdrawn one only if answered.
        func.sum(
            case(
                (answered, 1),
                (and_(~withdrawn, Check.due_at <= now), 1),
                else_=0,
            )
        ),
        func.sum(case((withdrawn, 1), else_=0)),
        func.sum(Check.chase_level),
        func.sum(escalated) if escalated is not None else func.sum(0),
        func.sum(case((risk, 1), else_=0)),
        func.sum(case((Check.status == "undeliverable", 1), else_=0)),
        func.sum(case((Check.out_of_office_at.is_not(None), 1), else_=0)),
    ]
    rows = session.execute(
        select(Check.agency, Check.rag, *sums).where(*where).group_by(Check.agency, Check.rag)
    ).all()
    agencies = [a.id for a in config.agency]
    agencies += sorted({r[0] for r in rows} - set(agencies))
    table: dict[str, dict[str, dict[str, int]]] = {
        group: {rag: dict.fromkeys(COUNTS, 0) for rag in (ALL, *RAGS)} for group in (ALL, *agencies)
    }
    for agency, rag, *values in rows:
        for group in (agency, ALL):
            for column in (rag, ALL):
                cell = table[group][column]
                for name, value in zip(COUNTS, values, strict=True):
                    cell[name] += int(value or 0)
    hours = hours_between(session.get_bind().dialect.name, Check.answered_at, Check.requested_at)
    answered_where = [*where, answered]
    # Each grouping's groups, by the table's cell they fill ("all" where not grouped), and
    # their sizes from the aggregate above.
    sizes: dict[tuple[int, tuple[Any, ...]], int] = {}
    cells_of: dict[tuple[int, tuple[Any, ...]], tuple[str, str]] = {}
    for index, grouping in enumerate(groupings):
        for agency, by_rag in table.items():
            for rag, cell in by_rag.items():
                named = (agency, rag)
                if all((named[c] == ALL) == (c not in grouping) for c in (0, 1)):
                    key = (index, tuple(named[c] for c in grouping))
                    sizes[key], cells_of[key] = cell["answered"], named
    found = percentiles(
        session, hours, (Check.agency, Check.rag), sizes, groupings, answered_where, (MEDIAN, P90)
    )
    spreads = {cells_of[key]: value for key, value in found.items()}
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for agency, cells in table.items():
        out[agency] = {}
        for rag, cell in cells.items():
            spread = spreads.get((agency, rag))
            out[agency][rag] = {
                **cell,
                "on_time_share": round(cell["on_time"] / cell["due"], 4) if cell["due"] else None,
                "median_response_hours": _hours(spread, MEDIAN),
                "p90_response_hours": _hours(spread, P90),
            }
    total = out[ALL][ALL]
    return {
        "checks": out,
        "checks_requested": total["requested"],
        "on_time_share": total["on_time_share"],
        "median_response_hours": total["median_response_hours"],
        "p90_response_hours": total["p90_response_hours"],
        "chases": total["chases"],
        "escalations": total["escalations"],
        "increased_risk_flags": total["increased_risk"],
        "undeliverable": total["undeliverable"],
    }


def _hours(spread: Percentiles | None, p: Fraction) -> float | None:
    return round(spread.values[p], 2) if spread is not None else None
