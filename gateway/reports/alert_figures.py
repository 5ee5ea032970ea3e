"""The steering group's figures about urgent alerts: how many were raised, out of hours and to
the Emergency Duty Team, how many a person acknowledged, how fast, and how many had to be
sent again because nobody had (protocol section 9: nothing urgent waits).

Counted over the alerts raised in the period, acknowledged up to the time of the report. The
median is computed in the database, as the checks' response times are.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from gateway.config import Config
from gateway.reports.period import Period
from gateway.reports.sql import between, hours_between, percentiles
from gateway.store.alert_models import Alert

HALF = Fraction(1, 2)
ALERT_COUNTS = (
    "urgent_alerts",
    "urgent_alerts_out_of_hours",
    "urgent_alerts_to_edt",
    "urgent_alerts_acknowledged",
    "urgent_alerts_acknowledged_in_time",
    "urgent_alerts_escalated",
)


def alert_figures(session: Session, config: Config, period: Period) -> dict[str, Any]:
    dialect = session.get_bind().dialect.name
    minutes = hours_between(dialect, Alert.acknowledged_at, Alert.raised_at) * 60.0
    acknowledged = Alert.acknowledged_at.is_not(None)
    limit = config.alerts.acknowledge_within.total_seconds() / 60.0
    where = [between(Alert.raised_at, period.start, period.end)]
    row = session.execute(
        select(
            func.count(),
            func.sum(case((Alert.out_of_hours.is_(True), 1), else_=0)),
            func.sum(case((Alert.edt.is_(True), 1), else_=0)),
            func.sum(case((acknowledged, 1), else_=0)),
            func.sum(case((and_(acknowledged, minutes <= limit), 1), else_=0)),
            func.sum(case((Alert.rung > 0, 1), else_=0)),
        ).where(*where)
    ).one()
    out: dict[str, Any] = {
        name: int(value or 0) for name, value in zip(ALERT_COUNTS, row, strict=True)
    }
    answered = out["urgent_alerts_acknowledged"]
    spread = percentiles(
        session, minutes, [], {(0, ()): answered}, [()], [*where, acknowledged], [HALF]
    ).get((0, ()))
    median = spread.values.get(HALF) if spread is not None else None
    out["urgent_alert_acknowledged_median_minutes"] = (
        round(median, 1) if median is not None else None
    )
    return out
