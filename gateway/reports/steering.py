"""The steering group's report: the period's figures, the previous period's, and the trends.

`build` runs the aggregate queries for both periods (each a read-only transaction), then
publishes them: small numbers hidden (`suppress`), figures not yet recorded by the gateway
shown as None ("not recorded"), and each headline figure set beside the one before.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gateway.config import Config
from gateway.reports import suppress
from gateway.reports.alert_figures import ALERT_COUNTS, alert_figures
from gateway.reports.check_figures import ALL, COUNTS, FULL, OVERALL, check_figures
from gateway.reports.figures import (
    contact_figures,
    decision_figures,
    disagreement_figures,
    quality_figures,
    timeliness_figures,
)
from gateway.reports.period import Period
from gateway.store.db import Database

# Figures the protocol asks for whose data the gateway does not record: published as None
# ("not recorded") until it does. Every figure asked for is recorded now; the mechanism stays
# for the next one.
NOT_RECORDED: tuple[str, ...] = ()
# Headline figures set beside the previous period's: (dotted name, kind).
TRENDS: tuple[tuple[str, str], ...] = (
    ("contacts", "count"),
    *((f"contacts_by_source.{s}", "count") for s in ("police", "health", "school", "LA")),
    *((f"contacts_by_source.{s}", "count") for s in ("other", "individual")),
    ("out_of_hours_share", "share"),
    ("contacts_about_open_cases", "count"),
    ("police_notifications", "count"),
    ("information_requests", "count"),
    ("urgent_contacts", "count"),
    ("urgent_alerts", "count"),
    ("urgent_alerts_acknowledged", "count"),
    ("urgent_alert_acknowledged_median_minutes", "minutes"),
    ("re_referrals_12m", "count"),
    ("re_referral_share", "share"),
    *((f"decisions.{code}", "count") for code in "ABCD"),
    ("decision_within_24h_share", "share"),
    ("decision_within_72h_share", "share"),
    ("rfi_within_10_working_days_share", "share"),
    ("checks_requested", "count"),
    ("on_time_share", "share"),
    ("median_response_hours", "hours"),
    ("p90_response_hours", "hours"),
    ("chases", "count"),
    ("escalations", "count"),
    ("increased_risk_flags", "count"),
    ("undeliverable", "count"),
    ("letters_sent", "count"),
    ("letters_withheld", "count"),
    ("consent_given", "count"),
    ("consent_refused", "count"),
    ("consent_overridden", "count"),
    ("disagreements_raised", "count"),
    ("data_quality.missing_date_of_birth", "count"),
    ("data_quality.missing_nhs_number", "count"),
    ("data_quality.missing_consent", "count"),
    ("data_quality.missing_referrer_details", "count"),
)

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Report:
    period: Period
    previous_period: Period
    generated_at: datetime
    raw: dict[str, Any]
    raw_previous: dict[str, Any]
    figures: dict[str, Any]
    previous: dict[str, Any]
    trends: dict[str, dict[str, Any]]

    def as_json(self) -> dict[str, Any]:
        return {
            "report": "MASH steering group report",
            "period": self.period.as_json(),
            "previous_period": self.previous_period.as_json(),
            "generated_at": self.generated_at.isoformat(),
            "suppression": {
                "threshold": suppress.THRESHOLD,
                "marker": suppress.MARK,
                "not_recorded": None,
            },
            "figures": self.figures,
            "trends": self.trends,
        }


def compute(
    db: Database,
    config: Config,
    period: Period,
    now: datetime,
    progress: Progress,
    groupings: tuple[tuple[int, ...], ...] = FULL,
) -> dict[str, Any]:
    """Every figure for one period, exact (before suppression)."""
    out: dict[str, Any] = {}
    steps: tuple[tuple[str, Callable[[Any], dict[str, Any]]], ...] = (
        ("contacts", lambda s: contact_figures(s, period)),
        ("decisions and outcomes", lambda s: decision_figures(s, period)),
        ("clocks", lambda s: timeliness_figures(s, period, now)),
        ("partner checks", lambda s: check_figures(s, config, period, now, groupings)),
        ("data quality", lambda s: quality_figures(s, period)),
        ("disagreements", lambda s: disagreement_figures(s, period, now)),
        ("urgent alerts", lambda s: alert_figures(s, config, period)),
    )
    for name, step in steps:
        progress(f"{name}, {period.first} to {period.last}")
        with db.reading() as session:
            out.update(step(session))
    out.update(dict.fromkeys(NOT_RECORDED))
    return out


def publish(raw: dict[str, Any]) -> dict[str, Any]:
    """The figures as they may be shown: small numbers hidden."""
    c = suppress.count
    out: dict[str, Any] = {}
    for name in (
        "contacts",
        "out_of_hours",
        "contacts_about_open_cases",
        "contacts_routed_back",
        "police_notifications",
        "information_requests",
        "urgent_contacts",
        "incomplete_contacts",
        "re_referrals_12m",
        "letters_sent",
        "letters_withheld",
        "letters_not_possible",
        "consent_given",
        "consent_refused",
        "consent_overridden",
        "disagreements_raised",
        *ALERT_COUNTS,
    ):
        out[name] = c(raw[name])
    out["urgent_alert_acknowledged_median_minutes"] = suppress.based(
        raw["urgent_alert_acknowledged_median_minutes"], raw["urgent_alerts_acknowledged"]
    )
    contacts = raw["contacts"]
    out["out_of_hours_share"] = suppress.share(
        raw["out_of_hours_share"], raw["out_of_hours"], contacts
    )
    out["re_referral_share"] = suppress.share(
        raw["re_referral_share"], raw["re_referrals_12m"], contacts
    )
    for name in (
        "contacts_by_source",
        "contacts_by_channel",
        "decisions",
        "outcomes",
        "letters_withheld_by_reason",
        "disagreement_outcomes",
    ):
        out[name] = suppress.group(raw[name])
    out["statutory_assessments_by_section"] = suppress.group(
        raw["statutory_assessments_by_section"]
    )
    out["contacts_per_week"] = [
        {
            "week_starting": week["week_starting"],
            "contacts": c(week["contacts"]),
            "by_source": suppress.group(week["by_source"]),
            "by_channel": suppress.group(week["by_channel"]),
        }
        for week in raw["contacts_per_week"]
    ]
    out["conversion_by_source"] = suppress.columns(raw["conversion_by_source"])
    timeliness = {}
    for name, clock in raw["timeliness"].items():
        timeliness[name] = {
            "met": c(clock["met"]),
            "late": c(clock["late"]),
            "running": c(clock["running"]),
            "share": suppress.share(clock["share"], clock["met"], clock["met"] + clock["late"]),
        }
    out["timeliness"] = timeliness
    out["decision_within_24h_share"] = timeliness["decision_24h"]["share"]
    out["decision_within_72h_share"] = timeliness["decision_72h"]["share"]
    out["rfi_within_10_working_days_share"] = timeliness["rfi_10_working_days"]["share"]
    out["data_quality"] = {k: c(v) for k, v in raw["data_quality"].items()}
    out["checks"] = _publish_checks(raw["checks"])
    total = out["checks"][ALL][ALL]
    out["checks_requested"] = total["requested"]
    for name in ("on_time_share", "median_response_hours", "p90_response_hours"):
        out[name] = total[name]
    for name, key in (
        ("chases", "chases"),
        ("escalations", "escalations"),
        ("increased_risk_flags", "increased_risk"),
        ("undeliverable", "undeliverable"),
    ):
        out[name] = total[key]
    out.update({name: raw[name] for name in NOT_RECORDED})
    return out


def _publish_checks(raw: dict[str, dict[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for agency, cells in raw.items():
        out[agency] = {}
        for rag, cell in cells.items():
            target: dict[str, Any] = {name: suppress.count(cell[name]) for name in COUNTS}
            target["on_time_share"] = suppress.share(
                cell["on_time_share"], cell["on_time"], cell["due"]
            )
            for name in ("median_response_hours", "p90_response_hours"):
                target[name] = suppress.based(cell[name], cell["answered"])
            out[agency][rag] = target
    return out


def _lookup(figures: dict[str, Any], dotted: str) -> Any:
    value: Any = figures
    for part in dotted.split("."):
        value = value[part]
    return value


def trends(current: dict[str, Any], previous: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out = {}
    for name, kind in TRENDS:
        now_value, then_value = _lookup(current, name), _lookup(previous, name)
        out[name] = {
            "current": now_value,
            "previous": then_value,
            "change": suppress.change(now_value, then_value, 4 if kind == "share" else 2),
        }
    return out


def build(
    db: Database,
    config: Config,
    period: Period,
    now: datetime,
    progress: Progress = lambda _step: None,
) -> Report:
    before = period.previous()
    raw = compute(db, config, period, now, progress)
    raw_previous = compute(db, config, before, now, progress, OVERALL)
    figures, previous = publish(raw), publish(raw_previous)
    return Report(
        period=period,
        previous_period=before,
        generated_at=now,
        raw=raw,
        raw_previous=raw_previous,
        figures=figures,
        previous=previous,
        trends=trends(figures, previous),
    )
