"""Mail that could not be delivered is never silent: who is told, the listing, the retry.

A permanent failure (5xx, or 4xx past `smtp.max_attempts`) of any message alerts the
managers. When the failed message was itself an alert to them, telling them again by the
same road would loop: it goes to `[alerts] escalate_to` instead, and is logged loudly; an
alert to someone else that failed (the Emergency Duty Team's copy) goes to the managers and
`escalate_to`; an alert about an alert that fails is only logged (and in the ledger), never
alerted again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.config import Config
from gateway.mail.addresses import without_addresses
from gateway.outbound.alerts import manager_alert
from gateway.outbound.compose import OutgoingMail
from gateway.store import ledger
from gateway.store.models import OutboxRow

log = logging.getLogger(__name__)

ABOUT_AN_ALERT = "alert-about-an-alert"
RETRYABLE = ("failed", "bounced")


def is_alert(purpose: str) -> bool:
    """Mail to the managers (or the EDT) about something that needs them."""
    return (
        purpose == "manager-alert"
        or purpose == "checks-complete"
        or purpose == ABOUT_AN_ALERT
        or purpose.startswith("urgent-alert")
        or purpose.endswith("-alert")
    )


class SentRow(Protocol):
    """What is needed of the message that failed: an outbox row, or a bounce's view of one."""

    @property
    def id(self) -> int: ...
    @property
    def purpose(self) -> str: ...
    @property
    def recipients(self) -> Sequence[str]: ...
    @property
    def subject_ref(self) -> str | None: ...


def failure_alert(
    config: Config, now: datetime, row: SentRow, title: str, detail: str
) -> OutgoingMail | None:
    """Who hears that ROW could not be delivered: None when nobody can be told safely."""
    lines = [
        f"Purpose: {row.purpose}",
        f"To: {', '.join(row.recipients)}",
        f"Outbox row: {row.id}",
        f"Server said: {detail}",
    ]
    action = (
        "Fix the address or the server, then `mash-gateway outbox retry "
        f"{row.id} --by NAME`; reach the recipient another way meanwhile."
    )
    if row.purpose == ABOUT_AN_ALERT:
        log.critical(
            "outbox row %s: an alert about an undelivered alert failed too; nobody can be "
            "told by mail: %s",
            row.id,
            without_addresses(detail),
        )
        return None
    if not is_alert(row.purpose):
        return manager_alert(
            config,
            now,
            title=title,
            lines=lines,
            action=action,
            reference=row.subject_ref,
            priority=1,
        )
    log.critical(
        "outbox row %s: an ALERT (%s) could not be delivered: %s",
        row.id,
        row.purpose,
        without_addresses(detail),
    )
    managers = {address.lower() for address in config.manager_addresses}
    if any(address.lower() in managers for address in row.recipients):
        # It went to the managers: the same road would loop.
        about, phone = "the MASH managers", "Tell the duty manager by phone now. "
        told = tuple(config.alerts.escalate_to)
    else:
        # An alert to someone else (the Emergency Duty Team's copy): the managers can be told.
        about, phone = ", ".join(row.recipients), "Phone them now with what the alert says. "
        told = tuple(dict.fromkeys((*config.manager_addresses, *config.alerts.escalate_to)))
    return manager_alert(
        config,
        now,
        title=f"an alert to {about} could not be delivered: {title}",
        lines=lines,
        action=phone + action,
        reference=row.subject_ref,
        purpose=ABOUT_AN_ALERT,
        recipients=told,
        priority=1,
    )


class RetryRefused(ValueError):
    pass


def row_summary(row: OutboxRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "state": row.state,
        "purpose": row.purpose,
        "reference": row.subject_ref,
        "recipients": list(row.recipients),
        "created_at": row.created_at.isoformat(),
        "sent_at": row.sent_at.isoformat() if row.sent_at else None,
        "attempts": row.attempts,
        "reason": row.last_error,
        "priority": row.priority,
    }


def listing(session: Session, *, failed_only: bool = False) -> list[dict[str, Any]]:
    query = select(OutboxRow).order_by(OutboxRow.id)
    if failed_only:
        query = query.where(OutboxRow.state.in_(RETRYABLE))
    return [row_summary(r) for r in session.execute(query).scalars()]


def retry(session: Session, row_id: int, by: str, now: datetime) -> OutboxRow:
    """A manager sends a failed or bounced message again: the same bytes and Message-ID."""
    ledger.lock(session)  # before the row: the order every writer of both keeps
    row = session.get(OutboxRow, row_id)
    if row is None:
        raise RetryRefused(f"no outbox row {row_id}")
    if row.state not in RETRYABLE:
        raise RetryRefused(f"outbox row {row_id} is {row.state}, not failed or bounced")
    previous = row.last_error
    row.state, row.attempts, row.next_attempt_at = "pending", 0, now
    row.lease_until = None
    row.lease_owner = None
    ledger.append(
        session,
        now,
        ledger.Event(
            action="mail-retried",
            actor=by,
            subject_ref=row.subject_ref,
            recipient=", ".join(row.recipients),
            purpose=row.purpose,
            detail={"outbox_id": row.id, "previous_error": previous},
        ),
    )
    return row
