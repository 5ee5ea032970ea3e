"""Scheduled sweeps: each claims what is due from the database, so running twice is safe."""

from __future__ import annotations

import logging

from sqlalchemy import select

from gateway.clock import Clock
from gateway.config import Config
from gateway.durations import format_duration
from gateway.outbound.alerts import manager_alert
from gateway.outbound.compose import Letters
from gateway.outbound.outbox import enqueue
from gateway.store import ledger
from gateway.store.db import Database
from gateway.store.models import MailboxState

log = logging.getLogger(__name__)


def alert_failing_mailboxes(db: Database, config: Config, clock: Clock, letters: Letters) -> int:
    """One alert per outage for a mailbox failing longer than `mailbox_alert_after`."""
    now = clock.now()
    threshold = now - config.gateway.mailbox_alert_after
    alerted = 0
    with db.transaction() as session:
        query = select(MailboxState).where(
            MailboxState.failing_since.is_not(None),
            MailboxState.failing_since <= threshold,
            MailboxState.alerted_at.is_(None),
        )
        if db.skip_locked():
            query = query.with_for_update(skip_locked=True)
        for state in session.execute(query).scalars():
            state.alerted_at = now
            assert state.failing_since is not None
            down_for = format_duration(now - state.failing_since)
            ledger.append(
                session,
                now,
                ledger.Event(
                    action="mailbox-down",
                    detail={
                        "mailbox": state.name,
                        "since": state.failing_since.isoformat(),
                        "error": state.last_error,
                    },
                ),
            )
            mail = manager_alert(
                config,
                now,
                title=f"mailbox {state.name} has been unreachable for {down_for}",
                lines=[
                    f"Last error: {state.last_error}",
                    "Mail sent to this mailbox is waiting on the server and will be "
                    "collected once the connection works again.",
                ],
                action="Check the mail server, the account's password or token, and the "
                "network; run `mash-gateway check` to test the connection.",
            )
            if mail is not None:
                enqueue(session, config, letters, mail, now)
            log.error("mailbox %s down for %s: managers alerted", state.name, down_for)
            alerted += 1
    return alerted
