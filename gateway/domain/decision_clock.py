"""The decision clock's sweep: a screening decision overdue after C alerts the managers."""

from __future__ import annotations

from sqlalchemy import select

from gateway.clock import Clock
from gateway.config import Config
from gateway.durations import in_words
from gateway.outbound.alerts import manager_alert
from gateway.outbound.compose import Letters
from gateway.outbound.outbox import enqueue
from gateway.store import ledger
from gateway.store.db import Database
from gateway.store.models import Contact


def alert_overdue_decisions(db: Database, config: Config, clock: Clock, letters: Letters) -> int:
    """An overdue decision after C alerts the managers at once, once (early help: digest)."""
    now = clock.now()
    alerted = 0
    with db.transaction() as session:
        ledger.lock(session)  # before the contacts: the order every writer keeps
        query = select(Contact).where(
            Contact.status == "csc-screening",
            Contact.decision_due_at.is_not(None),
            Contact.decision_due_at <= now,
            Contact.decision_alerted_at.is_(None),
        )
        if db.skip_locked():
            query = query.with_for_update(skip_locked=True)
        for contact in session.execute(query).scalars():
            assert contact.decision_due_at is not None
            contact.decision_alerted_at = now
            late = in_words(now - contact.decision_due_at)
            mail = manager_alert(
                config,
                now,
                title=f"screening decision overdue on {contact.reference}",
                lines=[
                    "After decision C, a decision on whether a statutory response is needed "
                    f"was due {late} ago."
                ],
                action="Decide now: reply to this email with OUTCOME (for example OUTCOME "
                "statutory-assessment, then SECTION 17 or 47) and a Reason: paragraph.",
                cli=f'mash-gateway decide {contact.reference} --outcome ... --reason "..."',
                reference=contact.reference,
                purpose="overdue-decision-alert",
            )
            if mail is not None:
                enqueue(session, config, letters, mail, now)
            ledger.append(
                session,
                now,
                ledger.Event(
                    action="decision-overdue",
                    subject_ref=contact.reference,
                    detail={"late_by": late},
                ),
            )
            alerted += 1
    return alerted
