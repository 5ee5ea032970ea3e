"""The record, read back: one contact's whole timeline, and CSV for inspection and
subject-access requests. Everything comes from the hash-chained ledger."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.store.models import AuditEvent

KINDS = {
    "contact-created": "message in",
    "correspondence": "message in",
    "check-reply": "message in",
    "command-received": "message in",
    "mail-queued": "share",
    "mail-sent": "message out",
    "mail-bounced": "message out",
    "mail-held": "message out",
    "letter-withheld": "letter",
    "decision-recorded": "decision",
    "outcome-recorded": "decision",
    "check-requested": "share",
    "consent-recorded": "consent",
    "consent-overridden": "consent",
    "raw-purged": "retention",
}


def as_row(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "at": event.at.isoformat(),
        "kind": KINDS.get(event.action, "event"),
        "action": event.action,
        "actor": event.actor,
        "reference": event.subject_ref,
        "recipient": event.recipient,
        "purpose": event.purpose,
        "detail": json.loads(event.detail or "{}"),
    }


def share_lines(detail: dict[str, Any]) -> list[str]:
    """A share's lawful basis, consent relied on, purpose and agreement, as `audit show`
    prints them under the share's row."""
    if "lawful_basis" not in detail:
        return []
    consent = detail.get("consent") or {}
    override = consent.get("override")
    relied = str(consent.get("status") or "unknown")
    if override:
        relied += f", overridden by {override.get('by')} at {override.get('at')}: "
        relied += str(override.get("reason"))
    lines = [
        f"lawful basis: {detail['lawful_basis']}",
        f"consent: {relied}",
        f"purpose: {detail.get('purpose')}",
    ]
    if detail.get("agreement"):
        lines.append(f"agreement: {detail['agreement']}")
    return lines


def timeline_events(session: Session, reference: str) -> list[AuditEvent]:
    """Every ledger row about REFERENCE, oldest first (indexed by reference)."""
    query = select(AuditEvent).where(AuditEvent.subject_ref == reference).order_by(AuditEvent.id)
    return list(session.execute(query).scalars())


COLUMNS = ("id", "at", "kind", "action", "actor", "reference", "recipient", "purpose", "detail")


def export_csv(session: Session, start: datetime, end: datetime) -> str:
    """Ledger rows with start <= at < end, as CSV (detail as JSON in one column)."""
    query = (
        select(AuditEvent)
        .where(AuditEvent.at >= start, AuditEvent.at < end)
        .order_by(AuditEvent.id)
    )
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS)
    writer.writeheader()
    for event in session.execute(query).scalars():
        row = as_row(event)
        row["detail"] = json.dumps(row["detail"], sort_keys=True)
        writer.writerow(row)
    return out.getvalue()
