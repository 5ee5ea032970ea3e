"""Chasing overdue checks up the RAG's ladder: reminders, escalation, manager alerts.

The sweep claims due checks from the database (FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite
serialises writers), moves each one rung on in the same transaction as the mail it queues,
so running it twice, or on two instances at once, never sends twice. After downtime only the
highest rung already due is sent: the missed ones happen once, as one reminder.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.clock import Clock
from gateway.config import Config
from gateway.domain.checks.request import OPEN_STATES, follow_up_mail, subject_tag
from gateway.durations import format_duration
from gateway.outbound.alerts import manager_alert
from gateway.outbound.compose import Letters, OutgoingMail
from gateway.outbound.outbox import enqueue
from gateway.store import ledger
from gateway.store.db import Database
from gateway.store.models import Check
from gateway.timescales import BusinessCalendar

log = logging.getLogger(__name__)


def chase_due(db: Database, config: Config, clock: Clock, letters: Letters) -> int:
    """Send every chase now due; the number sent. Each check is chased in its own transaction,
    so one reminder that cannot be built rolls back only itself, never the others."""
    now = clock.now()
    calendar = BusinessCalendar.from_config(config)
    with db.transaction() as session:
        due = list(
            session.execute(
                select(Check.id)
                .where(
                    Check.status.in_(OPEN_STATES),
                    Check.next_chase_at.is_not(None),
                    Check.next_chase_at <= now,
                )
                .order_by(Check.next_chase_at)
            ).scalars()
        )
    sent = 0
    for check_id in due:
        try:
            with db.transaction() as session:
                ledger.lock(session)  # before the check: a batch recording its reply holds it
                query = select(Check).where(
                    Check.id == check_id,
                    Check.status.in_(OPEN_STATES),
                    Check.next_chase_at.is_not(None),
                    Check.next_chase_at <= now,
                )
                if db.skip_locked():
                    query = query.with_for_update(skip_locked=True)
                check = session.execute(query).scalar_one_or_none()
                if check is not None and _chase(session, config, letters, calendar, check, now):
                    sent += 1
        except Exception:
            # Logged with the check's id only; the next sweep tries it again.
            log.exception("check %s: chasing failed; the other checks go on", check_id)
    return sent


def _chase(
    session: Session,
    config: Config,
    letters: Letters,
    calendar: BusinessCalendar,
    check: Check,
    now: datetime,
) -> bool:
    """Climb this check's ladder to the highest rung due; True when a rung was sent."""
    policy = config.rag.of(check.rag)
    if policy.chase_hours == "working" and not calendar.is_open(now):
        check.next_chase_at = calendar.next_opening(now)
        return False
    ladder = policy.ladder
    level = check.chase_level
    while level + 1 < len(ladder) and check.due_at + policy.offset(ladder[level + 1]) <= now:
        level += 1
    if level >= len(ladder):
        check.next_chase_at = None
        return False
    step = ladder[level]
    agency = next((a for a in config.agency if a.id == check.agency), None)
    late_by = format_duration(now - check.due_at) if now > check.due_at else "not yet"
    mails: list[OutgoingMail] = []
    if agency is not None:
        cc = (
            (agency.escalation_address,)
            if step.copy_escalation and agency.escalation_address
            else ()
        )
        mails.append(
            follow_up_mail(
                config,
                check,
                agency,
                template="check_chase",
                values={
                    "reference": check.reference,
                    "rag": check.rag.upper(),
                    "tag": subject_tag(check.token),
                    "due": calendar.local(check.due_at).strftime("%A %d %B %Y %H:%M"),
                    "escalated": bool(cc),
                    "second": level > 0,
                },
                cc=cc,
                purpose=f"{check.rag.upper()} check reminder {level + 1} to {agency.id}",
                outer_subject=f"[{check.rag.upper()}] MASH check reminder "
                f"{check.reference} {subject_tag(check.token)}",
            )
        )
    first_red = check.rag == "red" and check.chase_level == 0
    if step.alert_managers or first_red or agency is None:
        if agency is None:
            what = "The agency is no longer configured: no reminder could be sent."
        elif step.copy_escalation:
            what = f"Reminder {level + 1} sent, copied to the escalation address."
        else:
            what = f"Reminder {level + 1} sent."
        due = calendar.local(check.due_at).strftime("%a %d %b %H:%M")
        alert = manager_alert(
            config,
            now,
            title=f"{check.rag.upper()} check to {check.agency} overdue",
            lines=[f"Due {due}, late by {late_by}.", what],
            action="Phone the agency's duty desk, or re-rate the check.",
            reference=check.reference,
            purpose="overdue-check-alert",
        )
        if alert is not None:
            mails.append(alert)
    for mail in mails:
        enqueue(session, config, letters, mail, now)
    ledger.append(
        session,
        now,
        ledger.Event(
            action="check-chased",
            subject_ref=check.reference,
            recipient=agency.check_address if agency else None,
            purpose="overdue check",
            detail={
                "check": check.id,
                "rung": level + 1,
                "skipped": list(range(check.chase_level + 1, level + 1)),
                "escalated": step.copy_escalation,
                "late_by": late_by,
            },
        ),
    )
    check.chase_level = level + 1
    check.next_chase_at = (
        check.due_at + policy.offset(ladder[level + 1]) if level + 1 < len(ladder) else None
    )
    log.info("check %s chased (rung %s)", check.id, level + 1)
    return True
