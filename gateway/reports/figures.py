"""The steering group's figures about contacts, consent, decisions, clocks, letters and
professional disagreements, from SQL.

Every figure is an aggregate computed by the database over the period's rows; only the
groups' totals come back to Python. Counts here are exact: suppression of small numbers
happens when the report is published (`gateway.reports.suppress`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, String, and_, case, cast, func, literal, or_, select
from sqlalchemy.orm import Session, aliased

from gateway.domain.decisions import DECISIONS, OUTCOMES
from gateway.domain.disagreements import OUTCOMES as DISAGREEMENT_OUTCOMES
from gateway.domain.withheld import NOT_GIVEN, WITHHELD
from gateway.reports.period import Period
from gateway.reports.sql import between
from gateway.store.disagreements import Disagreement
from gateway.store.models import Contact, ContactChild, Decision

# The front door's kinds of referrer and channel (gateway.inbound.handlers.front_door);
# listed even when empty, so every report has the same columns.
SOURCES = ("police", "health", "school", "LA", "other", "individual")
CHANNELS = ("email", "police-notification", "rfi")
STATUTORY_SECTIONS = ("17", "47", "not given")
CONSENT = ("consent_given", "consent_refused", "consent_overridden")


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _keyed(names: tuple[str, ...], found: dict[str, int]) -> dict[str, int]:
    """Every known name (zero when absent), then any other the database holds."""
    out = {name: found.get(name, 0) for name in names}
    out.update({k: v for k, v in sorted(found.items()) if k not in out})
    return out


def contact_figures(session: Session, period: Period) -> dict[str, Any]:
    """Contacts received in the period: by week, source and channel, and their flags."""
    weeks = period.weeks()
    # The week's index, from the boundaries computed here in the MASH's time zone (SQLite
    # knows no time zones): one CASE the database evaluates per row.
    bounds = [(Contact.received_at < begins, i - 1) for i, (_, begins) in enumerate(weeks) if i]
    week: Any = case(*bounds, else_=len(weeks) - 1) if bounds else literal(0)
    where = between(Contact.received_at, period.start, period.end)
    rows = session.execute(
        select(
            week,
            Contact.source,
            Contact.channel,
            func.count(),
            func.sum(case((Contact.out_of_hours.is_(True), 1), else_=0)),
            func.sum(case((Contact.re_referral.is_(True), 1), else_=0)),
            func.sum(case((Contact.urgent.is_(True), 1), else_=0)),
            func.sum(case((Contact.routed_at_door == "forwarded", 1), else_=0)),
            func.sum(case((Contact.routed_at_door == "routed-back", 1), else_=0)),
            func.sum(case((Contact.incomplete.is_(True), 1), else_=0)),
            func.sum(case((Contact.consent_status == "given", 1), else_=0)),
            func.sum(case((Contact.consent_status == "refused", 1), else_=0)),
            func.sum(case((_overridden(), 1), else_=0)),
        )
        .where(where)
        .group_by(week, Contact.source, Contact.channel)
    ).all()
    by_source: dict[str, int] = {}
    by_channel: dict[str, int] = {}
    per_week: list[dict[str, Any]] = [
        {"week_starting": monday.isoformat(), "contacts": 0, "by_source": {}, "by_channel": {}}
        for monday, _ in weeks
    ]
    flags = ("ooh", "rereferral", "urgent", "open", "routed", "incomplete", *CONSENT)
    totals = dict.fromkeys(("contacts", *flags), 0)
    for index, source, channel, n, *counts in rows:
        n = int(n)
        by_source[source] = by_source.get(source, 0) + n
        by_channel[channel] = by_channel.get(channel, 0) + n
        bucket = per_week[int(index)]
        bucket["contacts"] += n
        bucket["by_source"][source] = bucket["by_source"].get(source, 0) + n
        bucket["by_channel"][channel] = bucket["by_channel"].get(channel, 0) + n
        totals["contacts"] += n
        for key, value in zip(flags, counts, strict=True):
            totals[key] += int(value or 0)
    sources = tuple(_keyed(SOURCES, by_source))
    channels = tuple(_keyed(CHANNELS, by_channel))
    for bucket in per_week:
        bucket["by_source"] = {s: bucket["by_source"].get(s, 0) for s in sources}
        bucket["by_channel"] = {c: bucket["by_channel"].get(c, 0) for c in channels}
    contacts = totals["contacts"]
    return {
        "contacts": contacts,
        "contacts_by_source": _keyed(SOURCES, by_source),
        "contacts_by_channel": _keyed(CHANNELS, by_channel),
        "contacts_per_week": per_week,
        "out_of_hours": totals["ooh"],
        "out_of_hours_share": _share(totals["ooh"], contacts),
        "contacts_about_open_cases": totals["open"],
        "contacts_routed_back": totals["routed"],
        "police_notifications": by_channel.get("police-notification", 0),
        "information_requests": by_channel.get("rfi", 0),
        "urgent_contacts": totals["urgent"],
        "incomplete_contacts": totals["incomplete"],
        "re_referrals_12m": totals["rereferral"],
        "re_referral_share": _share(totals["rereferral"], contacts),
        **{name: totals[name] for name in CONSENT},
    }


def _overridden() -> ColumnElement[bool]:
    """A manager's consent override is on the contact (its JSON, not JSON null)."""
    stored = cast(Contact.consent_override, String)
    return and_(Contact.consent_override.is_not(None), stored != "null")


def decision_figures(session: Session, period: Period) -> dict[str, Any]:
    """Screening decisions and outcomes recorded in the period, conversion by source, and
    the outcome letters (withheld ones by their reason's category): one pass."""
    rows = session.execute(
        select(
            Decision.kind,
            Contact.source,
            Decision.code,
            Decision.section,
            Decision.letter,
            Decision.letter_withheld_category,
            func.count(),
        )
        .join(Contact, Contact.id == Decision.contact_id)
        .where(between(Decision.decided_at, period.start, period.end))
        .group_by(
            Decision.kind,
            Contact.source,
            Decision.code,
            Decision.section,
            Decision.letter,
            Decision.letter_withheld_category,
        )
    ).all()
    codes: dict[str, int] = {}
    outcomes: dict[str, int] = {}
    sections = dict.fromkeys(STATUTORY_SECTIONS, 0)
    conversion: dict[str, dict[str, int]] = {}
    letters: dict[str | None, int] = {}
    withheld: dict[str, int] = {}
    for kind, source, code, section, letter, category, n in rows:
        if kind == "decision":
            codes[code] = codes.get(code, 0) + n
            continue
        if kind != "outcome":
            continue
        outcomes[code] = outcomes.get(code, 0) + n
        row = conversion.setdefault(source, {})
        row[code] = row.get(code, 0) + n
        if code == "statutory-assessment":
            key = section if section in ("17", "47") else "not given"
            sections[key] += n
        letters[letter] = letters.get(letter, 0) + n
        if letter == "withheld":
            name = category or NOT_GIVEN
            withheld[name] = withheld.get(name, 0) + n
    outcome_names = tuple(OUTCOMES)
    return {
        "decisions": _keyed(tuple(DECISIONS), codes),
        "outcomes": _keyed(outcome_names, outcomes),
        "statutory_assessments_by_section": sections,
        "conversion_by_source": {
            source: _keyed(outcome_names, conversion.get(source, {}))
            for source in _keyed(SOURCES, {s: 1 for s in conversion})
        },
        "letters_sent": letters.get("sent", 0),
        "letters_withheld": letters.get("withheld", 0),
        "letters_withheld_by_reason": _keyed((*WITHHELD, NOT_GIVEN), withheld),
        "letters_not_possible": letters.get(None, 0),
    }


def _clock(met: int, late: int, running: int) -> dict[str, Any]:
    return {"met": met, "late": late, "running": running, "share": _share(met, met + late)}


def timeliness_figures(session: Session, period: Period, now: datetime) -> dict[str, Any]:
    """Decisions against the C (24-hour) and D (72-hour) clocks started in the period, and
    information requests received in it against their 10 working days."""
    later = aliased(Decision)
    # The clock stops at the next decision or outcome recorded on the contact: found once
    # per clock by a grouped join (a correlated subquery would run once per use below).
    clocks_in = (
        select(
            Decision.code.label("code"),
            Decision.due_at.label("due"),
            func.min(later.decided_at).label("stopped"),
        )
        .outerjoin(later, and_(later.contact_id == Decision.contact_id, later.id > Decision.id))
        .where(
            between(Decision.decided_at, period.start, period.end),
            Decision.kind == "decision",
            Decision.code.in_(("C", "D")),
            Decision.due_at.is_not(None),
        )
        .group_by(Decision.id, Decision.code, Decision.due_at)
        .subquery()
    )
    rows = session.execute(
        select(clocks_in.c.code, *_verdicts(clocks_in.c.stopped, clocks_in.c.due, now)).group_by(
            clocks_in.c.code
        )
    ).all()
    clocks = {code: (int(m or 0), int(late or 0), int(r or 0)) for code, m, late, r in rows}
    requests_in = (
        select(Contact.due_at.label("due"), func.min(Decision.decided_at).label("stopped"))
        .outerjoin(Decision, Decision.contact_id == Contact.id)
        .where(
            between(Contact.received_at, period.start, period.end),
            Contact.channel == "rfi",
            Contact.routed_at_door.is_(None),
            Contact.due_at.is_not(None),
        )
        .group_by(Contact.id, Contact.due_at)
        .subquery()
    )
    met, late, running = session.execute(
        select(*_verdicts(requests_in.c.stopped, requests_in.c.due, now))
    ).one()
    c24 = _clock(*clocks.get("C", (0, 0, 0)))
    d72 = _clock(*clocks.get("D", (0, 0, 0)))
    rfi = _clock(int(met or 0), int(late or 0), int(running or 0))
    return {
        "decision_within_24h_share": c24["share"],
        "decision_within_72h_share": d72["share"],
        "rfi_within_10_working_days_share": rfi["share"],
        "timeliness": {"decision_24h": c24, "decision_72h": d72, "rfi_10_working_days": rfi},
    }


def _verdicts(stopped: Any, due: Any, now: datetime) -> list[Any]:
    """Sums of met (stopped by the due time), late (stopped after it, or not stopped and
    past it now) and running (not stopped, not yet due)."""
    return [
        func.sum(case((and_(stopped.is_not(None), stopped <= due), 1), else_=0)),
        func.sum(
            case(
                (
                    or_(
                        and_(stopped.is_not(None), stopped > due),
                        and_(stopped.is_(None), due <= now),
                    ),
                    1,
                ),
                else_=0,
            )
        ),
        func.sum(case((and_(stopped.is_(None), due > now), 1), else_=0)),
    ]


def quality_figures(session: Session, period: Period) -> dict[str, Any]:
    """Referrals (not information requests) missing what the form should carry."""
    missing = cast(Contact.missing, String)
    # 1 when every child has an NHS number, 0 when one has none, NULL with no child: one
    # look-up in the children's (contact_id, nhs_number) index per contact.
    all_numbered = (
        select(func.min(case((ContactChild.nhs_number.is_(None), 0), else_=1)))
        .where(ContactChild.contact_id == Contact.id)
        .correlate(Contact)
        .scalar_subquery()
    )
    no_nhs = func.coalesce(all_numbered, 0) == 0
    flags = {
        "missing_date_of_birth": missing.like("%date of birth or expected date%"),
        "missing_nhs_number": no_nhs,
        "missing_consent": missing.like('%"consent"%'),
        "missing_referrer_details": or_(
            missing.like('%"referrer name"%'), missing.like('%"referrer email or phone"%')
        ),
    }
    row = session.execute(
        select(
            func.count(),
            *[func.sum(case((flag, 1), else_=0)) for flag in flags.values()],
        ).where(between(Contact.received_at, period.start, period.end), Contact.channel != "rfi")
    ).one()
    referrals = int(row[0])
    return {
        "data_quality": {
            "referrals": referrals,
            **{name: int(value or 0) for name, value in zip(flags, row[1:], strict=True)},
        }
    }


def disagreement_figures(session: Session, period: Period, now: datetime) -> dict[str, Any]:
    """Professional disagreements raised in the period, and where each stood at NOW: its
    outcome once resolved (upheld, not upheld, escalated), else still open."""
    resolved = and_(Disagreement.resolved_at.is_not(None), Disagreement.resolved_at <= now)
    stands = case((resolved, Disagreement.outcome), else_=literal("open"))
    rows = session.execute(
        select(stands, func.count())
        .where(between(Disagreement.raised_at, period.start, period.end))
        .group_by(stands)
    ).all()
    found = {str(outcome): int(n) for outcome, n in rows}
    return {
        "disagreements_raised": sum(found.values()),
        "disagreement_outcomes": _keyed((*DISAGREEMENT_OUTCOMES, "open"), found),
    }
