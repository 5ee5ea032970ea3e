"""Counts and health for `mash-gateway status`, and the quarantine operations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from gateway.config import Config
from gateway.store import ledger
from gateway.store.db import Database
from gateway.store.models import MailboxState, Message, OutboxRow


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def status(db: Database, config: Config, now: datetime) -> dict[str, Any]:
    with db.transaction() as session:
        states = dict(
            session.execute(select(Message.state, func.count()).group_by(Message.state)).all()
        )
        reasons = dict(
            session.execute(
                select(Message.quarantine_reason, func.count())
                .where(Message.state == "quarantined")
                .group_by(Message.quarantine_reason)
            ).all()
        )
        outbox = dict(
            session.execute(select(OutboxRow.state, func.count()).group_by(OutboxRow.state)).all()
        )
        oldest = session.execute(
            select(func.min(OutboxRow.created_at)).where(
                OutboxRow.state.in_(("pending", "sending"))
            )
        ).scalar()
        boxes = {s.name: s for s in session.execute(select(MailboxState)).scalars()}
    mailboxes: dict[str, Any] = {}
    for box in config.mailbox:
        state = boxes.get(box.name)
        mailboxes[box.name] = {
            "role": box.role,
            "last_poll": _iso(state.last_poll) if state else None,
            "error": state.last_error if state else None,
            "failing_since": _iso(state.failing_since) if state else None,
            "uidvalidity": state.uidvalidity if state else None,
        }
    pending_out = outbox.get("pending", 0) + outbox.get("sending", 0)
    return {
        "now": now.isoformat(),
        "messages": {
            "ingested": sum(states.values()),
            "processed": states.get("processed", 0),
            "quarantined": states.get("quarantined", 0),
            "pending": states.get("pending", 0),
        },
        "quarantine_reasons": {str(k): v for k, v in reasons.items()},
        "outbox": {
            "pending": pending_out,
            "sent": outbox.get("sent", 0),
            "failed": outbox.get("failed", 0),
            "bounced": outbox.get("bounced", 0),
            # Waiting for a usable OpenPGP key: never sent in clear.
            "held": outbox.get("held", 0),
            # Held mail of a check withdrawn before its key was fixed.
            "cancelled": outbox.get("cancelled", 0),
            "oldest_pending_seconds": (
                int((now - oldest).total_seconds()) if oldest is not None else None
            ),
        },
        "mailboxes": mailboxes,
    }


def quarantine_list(db: Database) -> list[dict[str, Any]]:
    with db.transaction() as session:
        rows = session.execute(
            select(Message).where(Message.state == "quarantined").order_by(Message.id)
        ).scalars()
        return [_summary(m) for m in rows]


def _summary(message: Message) -> dict[str, Any]:
    return {
        "id": message.id,
        "received_at": _iso(message.received_at),
        "mailbox": message.mailbox,
        "kind": message.kind,
        "reason": message.quarantine_reason,
        "size": message.size,
    }


def quarantine_show(db: Database, message_id: int) -> dict[str, Any] | None:
    with db.transaction() as session:
        message = session.get(Message, message_id)
        if message is None:
            return None
        out = _summary(message)
        out.update(
            state=message.state,
            detail=message.quarantine_detail,
            attempts=message.attempts,
            last_error=message.last_error,
            steps=message.steps or [],
            sha256=message.sha256,
            auto_reply=message.auto_reply,
        )
        return out


class NotQuarantined(Exception):
    pass


def quarantine_release(db: Database, message_id: int, now: datetime, actor: str) -> None:
    """Put a quarantined message back through the pipeline, on the record."""
    with db.transaction() as session:
        message = session.get(Message, message_id)
        if message is None or message.state != "quarantined":
            raise NotQuarantined(f"message {message_id} is not in quarantine")
        reason = message.quarantine_reason
        message.state = "pending"
        message.attempts = 0
        message.next_attempt_at = None
        message.quarantine_reason = None
        message.quarantine_detail = None
        ledger.append(
            session,
            now,
            ledger.Event(
                action="quarantine-released",
                actor=actor,
                detail={"message": message_id, "was": reason},
            ),
        )


def raw_message(db: Database, message_id: int) -> bytes | None:
    with db.transaction() as session:
        message = session.get(Message, message_id)
        return message.raw if message else None
