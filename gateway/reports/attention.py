"""Digest and agenda sections for what must not wait or be forgotten: urgent contacts (first,
under their own heading), messages that could not be delivered, and checks that could not
be delivered (listed until a manager acts: sends the request again or records the outcome)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BindParameter, Select, bindparam, select, union
from sqlalchemy.orm import Session

from gateway.durations import format_duration
from gateway.store.alert_models import Alert, UrgentReason
from gateway.store.models import Check, Contact, Decision, OutboxRow

# A failed message stays in the digest this long unless a manager sends it again.
FAILED_LISTED_FOR = timedelta(days=14)


def _ago(now: datetime, then: datetime) -> str:
    return format_duration(max(now - then, timedelta(0)))


def urgent_contacts(
    session: Session, now: datetime, *, since: datetime | None = None
) -> list[Contact]:
    """Urgent contacts, the most recent first."""
    return list(session.execute(urgent_query(since)).scalars())


def urgent_query(since: datetime | None = None) -> Select[Contact]:
    """The digest's (SINCE None): every urgent contact still open. The agenda's: those received
    since the last agenda, or made urgent since (a reply, a partner's answer), whatever their
    state. Each part reads a partial index of urgent contacts only (migration 0023): the
    literal 'closed' lets the planner see the query implies the index's condition."""
    if since is None:
        closed: BindParameter[str] = bindparam("closed", "closed", literal_execute=True)
        wanted: Any = Contact.status != closed
    else:
        arrived = select(Contact.id).where(Contact.urgent.is_(True), Contact.received_at > since)
        flagged = select(UrgentReason.contact_id).where(UrgentReason.found_at > since)
        wanted = Contact.id.in_(union(arrived, flagged))
    return (
        select(Contact)
        .where(Contact.urgent.is_(True), wanted)
        .order_by(Contact.received_at.desc())
    )


def urgent_lines(session: Session, contacts: Sequence[Contact], now: datetime) -> list[str]:
    lines = []
    for c in contacts:
        whys = list(
            dict.fromkeys(
                session.execute(
                    select(UrgentReason.why)
                    .where(UrgentReason.contact_id == c.id)
                    .order_by(UrgentReason.id)
                ).scalars()
            )
        )
        alerts = session.execute(
            select(Alert).where(Alert.contact_id == c.id).order_by(Alert.id)
        ).scalars()
        states = [
            f"alert {a.id} acknowledged by {a.acknowledged_by}"
            if a.acknowledged_at
            else f"alert {a.id} NOT ACKNOWLEDGED"
            for a in alerts
        ]
        lines.append(
            f"{c.reference} ({c.status}): {'; '.join(whys) or 'urgent'}"
            + (f" [{'; '.join(states)}]" if states else "")
        )
    return lines


def failed_lines(session: Session, now: datetime) -> list[str]:
    rows = session.execute(
        select(OutboxRow)
        .where(
            OutboxRow.state.in_(("failed", "bounced")),
            OutboxRow.created_at >= now - FAILED_LISTED_FOR,
        )
        .order_by(OutboxRow.id)
    ).scalars()
    return [
        f"outbox {r.id}: {r.purpose}"
        + (f" ({r.subject_ref})" if r.subject_ref else "")
        + f" to {', '.join(r.recipients)}, {r.state} {_ago(now, r.created_at)} ago: "
        f"{(r.last_error or 'no reason recorded')[:300]}"
        for r in rows
    ]


# The outcome settles an undeliverable check: until then a manager must act on it.
_has_outcome = (
    select(Decision.id)
    .where(Decision.contact_id == Check.contact_id, Decision.kind == "outcome")
    .exists()
)


def undeliverable_lines(session: Session, now: datetime) -> list[str]:
    checks = session.execute(
        select(Check)
        .where(Check.status == "undeliverable", ~_has_outcome)
        .order_by(Check.requested_at)
    ).scalars()
    lines = []
    for check in checks:
        row = (
            session.execute(
                select(OutboxRow.id).where(
                    OutboxRow.header_message_id == check.request_message_id
                )
            ).scalar()
            if check.request_message_id
            else None
        )
        lines.append(
            f"{check.reference}: {check.rag.upper()} check to {check.agency} could not be "
            f"delivered (requested {_ago(now, check.requested_at)} ago)"
            + (f"; after fixing the address: `outbox retry {row} --by NAME`" if row else "")
        )
    return lines
