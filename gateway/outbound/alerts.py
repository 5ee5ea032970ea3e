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
) -> OutgoingMail | None:
    """ACTION says what to do by email or phone, in words a manager reads; CLI is the
    operators' command-line equivalent, printed as a footnote."""
    """None when no manager is configured (the event is still in the ledger and the log)."""
    if not config.manager:
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
        recipients=config.manager_addresses,
        purpose=purpose,
        subject_ref=reference,
    )
