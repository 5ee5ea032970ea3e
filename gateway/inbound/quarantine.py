"""Messages held for a person: listed, shown, and released back into the pipeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from gateway.store import ledger
from gateway.store.db import Database
from gateway.store.models import Message


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


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
