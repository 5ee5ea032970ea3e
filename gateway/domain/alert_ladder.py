"""The escalation ladder of urgent alerts nobody has acknowledged: one rung per
`[alerts] acknowledge_within`, `escalations` rungs at most. Each rung is claimed in the
transaction that queues its mail (FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite serialises
writers), so two sweeps or two instances never send it twice; after downtime only the highest
rung due is sent, once."""

from __future__ import annotations

import logging

from sqlalchemy import select

from gateway.clock import Clock
from gateway.config import Config
from gateway.domain.alerts import alert_mails, edt_due, everyone
from gateway.outbound.compose import Letters
from gateway.outbound.outbox import enqueue
from gateway.store import ledger
from gateway.store.alert_models import Alert
from gateway.store.db import Database
from gateway.store.models import Contact
from gateway.timescales import BusinessCalendar

log = logging.getLogger(__name__)


def escalate_due(db: Database, config: Config, clock: Clock, letters: Letters) -> int:
    """Send every escalation now due, one rung each; the number sent."""
    now = clock.now()
    calendar = BusinessCalendar.from_config(config)
    sent = 0
    with db.transaction() as session:
        ledger.lock(session)  # before the alerts: the order every writer keeps
        query = (
            select(Alert)
            .where(
                Alert.acknowledged_at.is_(None),
                Alert.next_escalation_at.is_not(None),
                Alert.next_escalation_at <= now,
            )
            .order_by(Alert.next_escalation_at)
        )
        if db.skip_locked():
            query = query.with_for_update(skip_locked=True)
        for alert in session.execute(query).scalars():
            # After downtime only the highest rung due is sent, once.
            rungs = config.alerts.escalations
            elapsed = now - alert.raised_at
            due_rung = min(rungs, int(elapsed / config.alerts.acknowledge_within))
            rung = max(alert.rung + 1, due_rung)
            if rung > rungs:
                alert.next_escalation_at = None
                continue
            out_of_hours = not calendar.is_open(now)
            edt = edt_due(config, out_of_hours) or alert.edt
            contact = session.get(Contact, alert.contact_id) if alert.contact_id else None
            for mail in alert_mails(config, alert, contact, None, now, rung=rung, edt=edt):
                enqueue(session, config, letters, mail, now)
            ledger.append(
                session,
                now,
                ledger.Event(
                    action="alert-escalated",
                    subject_ref=alert.reference,
                    recipient=", ".join(everyone(config, rung, edt)),
                    purpose=alert.title,
                    detail={
                        "alert": alert.id,
                        "token": alert.token,
                        "rung": rung,
                        "skipped": list(range(alert.rung + 1, rung)),
                        "unacknowledged_for": str(elapsed),
                    },
                ),
            )
            log.error("alert %s not acknowledged: escalation %s sent", alert.id, rung)
            alert.rung = rung
            # Sent to the EDT now (out of hours, or an in-hours alert that ran into the
            # evening): its answer acknowledges it from here on.
            alert.edt = edt
            alert.next_escalation_at = (
                alert.raised_at + config.alerts.acknowledge_within * (rung + 1)
                if rung < rungs
                else None
            )
            sent += 1
    return sent
