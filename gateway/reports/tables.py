"""The report's tables, built once from the published figures for the page and the CSVs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway.reports.alert_figures import ALERT_COUNTS
from gateway.reports.check_figures import ALL
from gateway.reports.period import spoken
from gateway.reports.steering import NOT_RECORDED, Report
from gateway.reports.suppress import MARK

HEADLINE = (
    "contacts",
    "out_of_hours_share",
    "contacts_about_open_cases",
    "contacts_routed_back",
    "police_notifications",
    "information_requests",
    "urgent_contacts",
    "incomplete_contacts",
    "re_referrals_12m",
    "re_referral_share",
    "decision_within_24h_share",
    "decision_within_72h_share",
    "rfi_within_10_working_days_share",
    "checks_requested",
    "on_time_share",
    "median_response_hours",
    "p90_response_hours",
    "chases",
    "escalations",
    "increased_risk_flags",
    "undeliverable",
    "letters_sent",
    "letters_withheld",
    "letters_not_possible",
    "consent_given",
    "consent_refused",
    "consent_overridden",
    "disagreements_raised",
    *ALERT_COUNTS,
    "urgent_alert_acknowledged_median_minutes",
    *NOT_RECORDED,
)


@dataclass(frozen=True)
class Table:
    name: str  # the CSV file's stem
    title: str
    header: tuple[str, ...]
    rows: list[tuple[Any, ...]]


def show(value: Any, name: str = "") -> str:
    """A published value in words: shares as per cent, hours with a unit."""
    if value is None:
        return "not recorded" if name in NOT_RECORDED or name.endswith(NOT_RECORDED) else "no cases"
    if value == MARK:
        return MARK
    if isinstance(value, float) and (name.endswith("share") or name.endswith("share.change")):
        return f"{100 * value:.1f}%"
    if isinstance(value, float) and "hours" in name:
        return f"{value:.1f} h"
    if isinstance(value, float) and "minutes" in name:
        return f"{value:.0f} min"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def show_change(value: Any, name: str) -> str:
    if value is None or value == MARK:
        return show(value, name)
    if name.endswith("share"):
        return f"{100 * value:+.1f} points"
    if "hours" in name:
        return f"{value:+.1f} h"
    if "minutes" in name:
        return f"{value:+.0f} min"
    return f"{value:+,}"


def _label(name: str) -> str:
    return name.replace("_", " ").replace(".", ": ")


def tables(report: Report) -> list[Table]:
    f = report.figures
    week_sources = list(f["contacts_per_week"][0]["by_source"]) if f["contacts_per_week"] else []
    week_channels = list(f["contacts_per_week"][0]["by_channel"]) if f["contacts_per_week"] else []
    outcomes = list(f["outcomes"])
    check_columns = (
        "requested", "answered", "on_time", "on_time_share", "median_response_hours",
        "p90_response_hours", "chases", "escalations", "increased_risk", "undeliverable",
    )  # fmt: skip
    return [
        Table(
            "headline",
            "Headline figures",
            ("figure", "value"),
            [(_label(n), show(f[n], n)) for n in HEADLINE],
        ),
        Table(
            "contacts_by_source",
            "Contacts by source and channel",
            ("source or channel", "contacts"),
            [(s, show(v)) for s, v in f["contacts_by_source"].items()]
            + [(f"channel: {c}", show(v)) for c, v in f["contacts_by_channel"].items()],
        ),
        Table(
            "contacts_per_week",
            "Contacts per week",
            ("week starting", "contacts", *week_sources, *week_channels),
            [
                (
                    w["week_starting"],
                    show(w["contacts"]),
                    *(show(w["by_source"][s]) for s in week_sources),
                    *(show(w["by_channel"][c]) for c in week_channels),
                )
                for w in f["contacts_per_week"]
            ],
        ),
        Table(
            "decisions",
            "Screening decisions and outcomes",
            ("decision or outcome", "recorded"),
            [(f"decision {k}", show(v)) for k, v in f["decisions"].items()]
            + [(k, show(v)) for k, v in f["outcomes"].items()]
            + [
                (f"statutory assessment, section {k}", show(v))
                for k, v in f["statutory_assessments_by_section"].items()
            ],
        ),
        Table(
            "conversion_by_source",
            "Outcomes by source of the contact",
            ("source", *outcomes),
            [
                (s, *(show(row[o]) for o in outcomes))
                for s, row in f["conversion_by_source"].items()
            ],
        ),
        Table(
            "timeliness",
            "Timeliness against the protocol's clocks",
            ("clock", "met", "late", "still running", "share on time"),
            [
                (
                    _label(k),
                    show(v["met"]),
                    show(v["late"]),
                    show(v["running"]),
                    show(v["share"], "share"),
                )
                for k, v in f["timeliness"].items()
            ],
        ),
        Table(
            "checks",
            "Partner checks by agency and RAG",
            ("agency", "RAG", *(_label(c) for c in check_columns)),
            [
                (agency, rag, *(show(cell[c], c) for c in check_columns))
                for agency, cells in f["checks"].items()
                for rag, cell in cells.items()
                if agency == ALL or cell["requested"] != 0
            ],
        ),
        Table(
            "letters_withheld",
            "Outcome letters withheld, by the kind of reason",
            ("reason", "letters"),
            [(k.replace("-", " "), show(v)) for k, v in f["letters_withheld_by_reason"].items()],
        ),
        Table(
            "disagreements",
            "Professional disagreements raised, by where they stand",
            ("outcome", "disagreements"),
            [
                ("still open" if k == "open" else k.replace("-", " "), show(v))
                for k, v in f["disagreement_outcomes"].items()
            ],
        ),
        Table(
            "data_quality",
            "Data quality of referrals",
            ("referrals received, or missing", "contacts"),
            [(_label(k), show(v)) for k, v in f["data_quality"].items()],
        ),
        Table(
            "trends",
            f"Trends against {spoken(report.previous_period.first)} to "
            f"{spoken(report.previous_period.last)}",
            ("figure", "this period", "previous period", "change"),
            [
                (
                    _label(n),
                    show(t["current"], n),
                    show(t["previous"], n),
                    show_change(t["change"], n),
                )
                for n, t in report.trends.items()
            ],
        ),
    ]
