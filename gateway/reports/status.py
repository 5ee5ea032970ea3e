"""Counts and health for `mash-gateway status` (and the metrics scrape, which reads this).

The counts by state come from `gateway.store.counts`, kept by triggers as rows change, so this
costs the same however many years of messages the database holds; the only other rows read are
those waiting to be sent (an indexed range), the mailboxes and the instances.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from gateway.config import Config
from gateway.store import counts
from gateway.store.db import Database
from gateway.store.models import MailboxState, OutboxRow
from gateway.store.operations import Instance, MailboxLease


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def status(db: Database, config: Config, now: datetime) -> dict[str, Any]:
    with db.reading() as session:
        kept = counts.current(session)
        states = counts.by_state(kept, "messages")
        outbox = counts.by_state(kept, "outbox")
        # A quarantined message without a reason was reported under "None": it still is.
        reasons = {
            reason or "None": n
            for (state, reason), n in sorted(kept.get("messages", {}).items())
            if state == "quarantined"
        }
        oldest = session.execute(
            select(func.min(OutboxRow.created_at)).where(
                OutboxRow.state.in_(("pending", "sending"))
            )
        ).scalar()
        boxes = {s.name: s for s in session.execute(select(MailboxState)).scalars()}
        leases = {lease.name: lease for lease in session.execute(select(MailboxLease)).scalars()}
        instances = {
            i.name: {
                "pid": i.pid,
                "host": i.host,
                "started_at": _iso(i.started_at),
                "heartbeat_at": _iso(i.heartbeat_at),
                "alive": now - i.heartbeat_at <= config.gateway.takeover_after,
            }
            for i in session.execute(select(Instance).order_by(Instance.name)).scalars()
        }
    mailboxes: dict[str, Any] = {}
    for box in config.mailbox:
        state = boxes.get(box.name)
        mailboxes[box.name] = {
            "role": box.role,
            "last_poll": _iso(state.last_poll) if state else None,
            "error": state.last_error if state else None,
            "failing_since": _iso(state.failing_since) if state else None,
            "uidvalidity": state.uidvalidity if state else None,
            # The instance watching it, while its lease is current.
            "watched_by": (
                leases[box.name].owner
                if box.name in leases and leases[box.name].lease_until > now
                else None
            ),
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
        "instances": instances,
    }
