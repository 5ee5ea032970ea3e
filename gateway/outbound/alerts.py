"""Alerts to the MASH managers: built as ordinary outbox mail."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from gateway.config import Config
from gateway.outbound.compose import OutgoingMail


def manager_alert(
    config: Config,
    now: datetime,
    *,
    title: str,
    lines: Sequence[str],
    action: str,
    reference: str | None = None,
    purpose: str = "manager-alert",
    cli: str | None = None,
    recipients: Sequence[str] | None = None,
    priority: int = 0,
) -> OutgoingMail | None:
    """ACTION says what to do by email or phone, in words a manager reads; CLI is the
    operators' command-line equivalent, printed as a footnote. RECIPIENTS: someone other than
    the managers (an alert about an alert). None when nobody is there to tell (the event is
    still in the ledger and the log)."""
    to = tuple(recipients) if recipients is not None else config.manager_addresses
    if not to:
        return None
    local = now.astimezone(ZoneInfo(config.gateway.timezone))
    return OutgoingMail(
        template="manager_alert",
        values={
            "title": title,
            "lines": list(lines),
            "action": action,
            "reference": reference,
            "cli": cli,
            "sent_at": local.strftime("%A %d %B %Y %H:%M %Z"),
        },
        recipients=to,
        purpose=purpose,
        subject_ref=reference,
        priority=priority,
    )
