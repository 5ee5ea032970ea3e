"""A contact at a glance: for the Daily MASH Meeting's agenda, so partners can prepare
(protocol 6): the child's initials and age, the concern in one line, urgency, checks and
their state, the decisions due (initials, not names: the agenda travels further than a
contact record); and for a manager's `SHOW REF` email, the whole sheet.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.durations import due
from gateway.store.models import Check, Contact
from gateway.timescales import BusinessCalendar

CONCERN_CHARS = 140


def _initials(child: dict[str, Any]) -> str:
    parts = [p for p in (child.get("given_name"), child.get("family_name")) if p]
    letters = [word[0].upper() for part in parts for word in str(part).split() if word]
    return ".".join(letters) + "." if letters else "name not given"


def _age(child: dict[str, Any], today: date) -> str:
    born = child.get("date_of_birth")
    if child.get("unborn") or (not born and child.get("expected_date")):
        return f"unborn, due {child.get('expected_date') or 'date unknown'}"
    if not born:
        return "age unknown"
    try:
        dob = date.fromisoformat(str(born))
    except ValueError:
        return "age unknown"
    years = today.year - dob.year - ((today.month, today.day) < (dob.month, dob.day))
    if years < 1:
        months = (today.year - dob.year) * 12 + today.month - dob.month - (today.day < dob.day)
        return f"{max(months, 0)} months"
    return f"{years}"


def children_line(contact: Contact, today: date) -> str:
    children = (contact.referral or {}).get("children") or []
    if not children:
        return "child not named"
    return ", ".join(f"{_initials(c)} ({_age(c, today)})" for c in children)


def concern_line(contact: Contact, *, initials: bool = False) -> str:
    """The concern in one line; with INITIALS, the children's names in it become initials."""
    concern = " ".join(str((contact.referral or {}).get("concern") or "").split())
    if initials:
        for child in (contact.referral or {}).get("children") or []:
            for part in (child.get("given_name"), child.get("family_name")):
                for word in str(part or "").split():
                    if len(word) > 1:
                        concern = re.sub(
                            rf"\b{re.escape(word)}\b", f"{word[0].upper()}.", concern, flags=re.I
                        )
    if not concern:
        return "no concern given"
    return concern if len(concern) <= CONCERN_CHARS else concern[: CONCERN_CHARS - 1] + "…"


def checks_line(session: Session, contact: Contact, now: datetime) -> str:
    checks = session.execute(
        select(Check).where(Check.contact_id == contact.id).order_by(Check.id)
    ).scalars()
    parts = []
    for check in checks:
        state = check.status
        if check.status in ("pending", "held"):
            state = f"{check.status}, {due(now, check.due_at)}"
        elif check.status == "answered" and check.late:
            state = "answered late"
        parts.append(f"{check.agency} {check.rag.upper()} {state}")
    return "; ".join(parts) or "none requested"


def decision_line(contact: Contact, now: datetime) -> str:
    if contact.decision_due_at is not None:
        what = (
            "statutory-response decision"
            if contact.status == "csc-screening"
            else "early help outcome"
        )
        return f"{what} {due(now, contact.decision_due_at)}"
    if contact.status == "open":
        return "screening decision needed (protocol 4: within 24 hours)"
    return f"none ({contact.status})"


def entry(
    session: Session, contact: Contact, calendar: BusinessCalendar, now: datetime
) -> dict[str, Any]:
    today = calendar.local(now).date()
    urgency = "IMMEDIATE RISK" if contact.immediate_risk else "routine"
    if contact.out_of_hours:
        urgency += ", arrived out of hours"
    received = calendar.local(contact.received_at).strftime("%a %H:%M")
    return {
        "title": f"{contact.reference}: {children_line(contact, today)}",
        "details": [
            f"Concern: {concern_line(contact, initials=True)}",
            f"Urgency: {urgency} ({contact.channel}, received {received})",
            f"Checks: {checks_line(session, contact, now)}",
            f"Decision due: {decision_line(contact, now)}",
        ],
    }


def sheet(
    session: Session, contact: Contact, calendar: BusinessCalendar, now: datetime
) -> list[dict[str, Any]]:
    """A manager's summary of the contact (`SHOW REF`), in sections of lines."""
    from gateway.durations import ago
    from gateway.store.disagreements import Disagreement
    from gateway.store.models import Decision

    referral = contact.referral or {}
    referrer = referral.get("referrer") or {}
    today = calendar.local(now).date()
    children = [
        " ".join(filter(None, (c.get("given_name"), c.get("family_name"))))
        + f" ({_age(c, today)})"
        for c in referral.get("children") or []
    ]
    missing = f", INCOMPLETE: missing {', '.join(contact.missing)}"
    decisions = [f"Due: {decision_line(contact, now)}"]
    for row in session.execute(
        select(Decision).where(Decision.contact_id == contact.id).order_by(Decision.id)
    ).scalars():
        decisions.append(
            f"{row.kind} {row.code}{' (section ' + row.section + ')' if row.section else ''} "
            f"by {row.decided_by}, {ago(now, row.decided_at)}: {row.reason}"
        )
    sections: list[dict[str, Any]] = [
        {
            "title": "The contact",
            "lines": [
                f"Status: {contact.status}" + (missing if contact.incomplete else ""),
                f"Received {ago(now, contact.received_at)} by {contact.channel}"
                + (" (out of hours)" if contact.out_of_hours else ""),
                f"Children: {'; '.join(children) or 'not named'}",
                f"Concern: {concern_line(contact)}",
                "Urgency: " + ("IMMEDIATE RISK" if contact.immediate_risk else "routine"),
                f"Referrer: {referrer.get('name') or 'not named'}, "
                f"{referrer.get('agency') or referrer.get('role') or 'no agency'}, "
                f"{contact.reply_address or 'no address'} ({contact.referrer_kind}"
                + (", unsure: please confirm" if contact.referrer_unsure else "")
                + ")",
            ],
        },
        {"title": "Checks", "lines": [checks_line(session, contact, now)]},
        {"title": "Decisions", "lines": decisions},
    ]
    open_rows = session.execute(
        select(Disagreement).where(
            Disagreement.contact_id == contact.id, Disagreement.status == "open"
        )
    ).scalars()
    lines = [f"from {d.raised_by}, {due(now, d.respond_by)} for an answer" for d in open_rows]
    if lines:
        sections.append({"title": "Open disagreements", "lines": lines})
    return sections
