"""Digest and agenda sections for what must not wait or be forgotten: urgent contacts (first,
under their own heading), messages that could not be delivered, and checks that could not
be delivered (listed until a manager acts: sends the request again or records the outcome)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import or_, select
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
    # The digest: every urgent contact still open. The agenda: those received since the last
    # agenda, or made urgent since (a reply, a partner's answer), whatever their state.
    wanted = Contact.status != "closed"
    if since is not None:
        recent = select(UrgentReason.contact_id).where(UrgentReason.found_at > since)
        wanted = or_(Contact.received_at > since, Contact.id.in_(recent))
    query = select(Contact).where(Contact.urgent.is_(True), wanted)
    return list(session.execute(query.order_by(Contact.received_at.desc())).scalars())


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
