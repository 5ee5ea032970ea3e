"""The steering group's figures about contacts, decisions, clocks and letters, from SQL.

Every figure is an aggregate computed by the database over the period's rows; only the
groups' totals come back to Python. Counts here are exact: suppression of small numbers
happens when the report is published (`gateway.reports.suppress`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, and_, case, cast, exists, func, literal, or_, select
from sqlalchemy.orm import Session, aliased

from gateway.domain.decisions import DECISIONS, OUTCOMES
from gateway.reports.period import Period
from gateway.reports.sql import between
from gateway.store.models import Contact, ContactChild, Decision

# The front door's kinds of referrer and channel (gateway.inbound.handlers.front_door);
# listed even when empty, so every report has the same columns.
SOURCES = ("police", "health", "school", "LA", "other", "individual")
CHANNELS = ("email", "police-notification", "rfi")
STATUTORY_SECTIONS = ("17", "47", "not given")


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
            func.sum(case((Contact.immediate_risk.is_(True), 1), else_=0)),
            func.sum(case((Contact.routed_at_door == "forwarded", 1), else_=0)),
            func.sum(case((Contact.routed_at_door == "routed-back", 1), else_=0)),
            func.sum(case((Contact.incomplete.is_(True), 1), else_=0)),
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
    totals = dict.fromkeys(
        ("contacts", "ooh", "rereferral", "urgent", "open", "routed", "incomplete"), 0
    )
    for index, source, channel, n, ooh, rereferral, urgent, open_, routed, incomplete in rows:
        n = int(n)
        by_source[source] = by_source.get(source, 0) + n
        by_channel[channel] = by_channel.get(channel, 0) + n
        bucket = per_week[int(index)]
        bucket["contacts"] += n
        bucket["by_source"][source] = bucket["by_source"].get(source, 0) + n
        bucket["by_channel"][channel] = bucket["by_channel"].get(channel, 0) + n
        for key, value in (
            ("contacts", n),
            ("ooh", ooh),
            ("rereferral", rereferral),
            ("urgent", urgent),
            ("open", open_),
            ("routed", routed),
            ("incomplete", incomplete),
        ):
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
    }


def decision_figures(session: Session, period: Period) -> dict[str, Any]:
    """Screening decisions and outcomes recorded in the period, and conversion by source."""
    decided = between(Decision.decided_at, period.start, period.end)
    codes = dict(
        session.execute(
            select(Decision.code, func.count())
            .where(decided, Decision.kind == "decision")
            .group_by(Decision.code)
        ).all()
    )
    rows = session.execute(
        select(Contact.source, Decision.code, Decision.section, Decision.letter, func.count())
        .join(Contact, Contact.id == Decision.contact_id)
        .where(decided, Decision.kind == "outcome")
        .group_by(Contact.source, Decision.code, Decision.section, Decision.letter)
    ).all()
    outcomes: dict[str, int] = {}
    sections = dict.fromkeys(STATUTORY_SECTIONS, 0)
    conversion: dict[str, dict[str, int]] = {}
    letters: dict[str | None, int] = {}
    for source, code, section, letter, n in rows:
        outcomes[code] = outcomes.get(code, 0) + n
        row = conversion.setdefault(source, {})
        row[code] = row.get(code, 0) + n
        if code == "statutory-assessment":
            key = section if section in ("17", "47") else "not given"
            sections[key] += n
        letters[letter] = letters.get(letter, 0) + n
    outcome_names = tuple(OUTCOMES)
    return {
        "decisions": _keyed(tuple(DECISIONS), {str(k): int(v) for k, v in codes.items()}),
        "outcomes": _keyed(outcome_names, outcomes),
        "statutory_assessments_by_section": sections,
        "conversion_by_source": {
            source: _keyed(outcome_names, conversion.get(source, {}))
            for source in _keyed(SOURCES, {s: 1 for s in conversion})
        },
        "letters_sent": letters.get("sent", 0),
        "letters_withheld": letters.get("withheld", 0),
        "letters_not_possible": letters.get(None, 0),
    }


def _clock(met: int, late: int, running: int) -> dict[str, Any]:
    return {"met": met, "late": late, "running": running, "share": _share(met, met + late)}


def timeliness_figures(session: Session, period: Period, now: datetime) -> dict[str, Any]:
    """Decisions against the C (24-hour) and D (72-hour) clocks started in the period, and
    information requests received in it against their 10 working days."""
    later = aliased(Decision)
    # The clock stops at the next decision or outcome recorded on the contact.
    stopped = (
        select(func.min(later.decided_at))
        .where(later.contact_id == Decision.contact_id, later.id > Decision.id)
        .correlate(Decision)
        .scalar_subquery()
    )
    rows = session.execute(
        select(Decision.code, *_verdicts(stopped, Decision.due_at, now))
        .where(
            between(Decision.decided_at, period.start, period.end),
            Decision.kind == "decision",
            Decision.code.in_(("C", "D")),
            Decision.due_at.is_not(None),
        )
        .group_by(Decision.code)
    ).all()
    clocks = {code: (int(m or 0), int(late or 0), int(r or 0)) for code, m, late, r in rows}
    answered = (
        select(func.min(Decision.decided_at))
        .where(Decision.contact_id == Contact.id)
        .correlate(Contact)
        .scalar_subquery()
    )
    met, late, running = session.execute(
        select(*_verdicts(answered, Contact.due_at, now)).where(
            between(Contact.received_at, period.start, period.end),
            Contact.channel == "rfi",
            Contact.routed_at_door.is_(None),
            Contact.due_at.is_not(None),
        )
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
    no_nhs = or_(
        exists().where(ContactChild.contact_id == Contact.id, ContactChild.nhs_number.is_(None)),
        ~exists().where(ContactChild.contact_id == Contact.id),
    )
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
