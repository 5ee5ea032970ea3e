"""Scheduled sweeps, as data: each claims what is due from the database, so running twice is
safe, and each runs inside its own error boundary, so one that fails never stops the others.

A sweep that raises is logged, counted (`sweep_health`, exported as a metric) and, once per
failing streak, reported to the managers; the next tick tries it again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from gateway.clock import Clock
from gateway.config import Config
from gateway.domain.alert_ladder import escalate_due
from gateway.domain.checks.chase import chase_due
from gateway.domain.decision_clock import alert_overdue_decisions
from gateway.domain.retention import daily_sweep
from gateway.durations import format_duration
from gateway.outbound.alerts import manager_alert
from gateway.outbound.compose import Letters
from gateway.outbound.outbox import enqueue, release_held
from gateway.reports.digest import send_digest
from gateway.reports.meeting import send_meeting_agenda
from gateway.reports.schedule import send_scheduled_report
from gateway.store import counts, ledger
from gateway.store.db import Database
from gateway.store.models import MailboxState
from gateway.store.operations import SweepHealth

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SweepContext:
    db: Database
    config: Config
    clock: Clock
    letters: Letters


@dataclass(frozen=True)
class Sweep:
    name: str
    run: Callable[[SweepContext], object]
    what: str


def _release_held(ctx: SweepContext) -> object:
    with ctx.db.transaction() as session:
        return release_held(session, ctx.config, ctx.letters, ctx.clock.now())


def _fold_counts(ctx: SweepContext) -> object:
    with ctx.db.transaction() as session:
        return counts.fold(session)


SWEEPS: tuple[Sweep, ...] = (
    Sweep(
        "mailbox-alerts",
        lambda c: alert_failing_mailboxes(c.db, c.config, c.clock, c.letters),
        "alerts about mailboxes that stay unreachable",
    ),
    Sweep(
        "alert-escalations",
        lambda c: escalate_due(c.db, c.config, c.clock, c.letters),
        "urgent alerts nobody has acknowledged, sent again up the ladder",
    ),
    Sweep("release-held", _release_held, "sealing and sending mail held for an OpenPGP key"),
    Sweep(
        "chase",
        lambda c: chase_due(c.db, c.config, c.clock, c.letters),
        "reminders and escalations for overdue checks",
    ),
    Sweep(
        "decision-clocks",
        lambda c: alert_overdue_decisions(c.db, c.config, c.clock, c.letters),
        "alerts for overdue screening decisions",
    ),
    Sweep(
        "digest",
        lambda c: send_digest(c.db, c.config, c.clock, c.letters),
        "the managers' digest",
    ),
    Sweep(
        "meeting",
        lambda c: send_meeting_agenda(c.db, c.config, c.clock, c.letters),
        "the Daily MASH Meeting agenda",
    ),
    Sweep(
        "retention",
        lambda c: daily_sweep(c.db, c.config, c.clock),
        "deleting the raw mail of contacts closed longer than [retention] raw_messages_after",
    ),
    Sweep(
        "steering-report",
        lambda c: send_scheduled_report(c.db, c.config, c.clock, c.letters),
        "the steering group's report on [reports] schedule",
    ),
    Sweep("fold-counts", _fold_counts, "folding the changes of state into the status counts"),
)


class SweepRunner:
    """Runs each sweep in turn; remembers which are failing so a recovery is recorded once."""

    def __init__(self, ctx: SweepContext, sweeps: tuple[Sweep, ...] = SWEEPS) -> None:
        self.ctx = ctx
        self.sweeps = sweeps
        # None: not yet known (the database may hold a streak from before a restart).
        self._failing: dict[str, bool | None] = {s.name: None for s in sweeps}

    def run(self) -> dict[str, str | None]:
        """Every sweep once; for each, None or the error it raised."""
        results: dict[str, str | None] = {}
        for sweep in self.sweeps:
            try:
                sweep.run(self.ctx)
            except Exception as exc:
                log.exception("sweep %s failed; the other sweeps go on", sweep.name)
                results[sweep.name] = f"{type(exc).__name__}: {exc}"
                self._failed(sweep, exc)
            else:
                results[sweep.name] = None
                self._succeeded(sweep)
        return results

    def _succeeded(self, sweep: Sweep) -> None:
        if self._failing.get(sweep.name) is False:
            return
        try:
            with self.ctx.db.transaction() as session:
                session.execute(
                    update(SweepHealth)
                    .where(SweepHealth.name == sweep.name, SweepHealth.failing_since.is_not(None))
                    .values(failing_since=None, alerted_at=None, last_error=None)
                )
            self._failing[sweep.name] = False
        except Exception:
            log.exception("sweep %s: could not record its recovery", sweep.name)

    def _failed(self, sweep: Sweep, exc: BaseException) -> None:
        self._failing[sweep.name] = True
        now = self.ctx.clock.now()
        error = f"{type(exc).__name__}: {exc}"[:2000]
        try:
            with self.ctx.db.transaction() as session:
                query = select(SweepHealth).where(SweepHealth.name == sweep.name)
                if self.ctx.db.skip_locked():
                    query = query.with_for_update()
                health = session.execute(query).scalar_one_or_none()
                if health is None:
                    health = SweepHealth(name=sweep.name, failures=0)
                    session.add(health)
                health.failures += 1
                health.last_error = error
                if health.failing_since is None:
                    health.failing_since = now
                if health.alerted_at is None:
                    health.alerted_at = now
                    self._alert(session, sweep, health.failing_since, error, now)
        except Exception:
            log.exception("sweep %s: could not record its failure", sweep.name)

    def _alert(
        self, session: Session, sweep: Sweep, since: datetime, error: str, now: datetime
    ) -> None:
        ctx = self.ctx
        ledger.append(
            session,
            now,
            ledger.Event(
                action="sweep-failing",
                purpose=sweep.what,
                detail={"sweep": sweep.name, "since": since.isoformat(), "error": error[:500]},
            ),
        )
        mail = manager_alert(
            ctx.config,
            now,
            title=f"the gateway's scheduled work is failing: {sweep.what}",
            lines=[
                f"Sweep {sweep.name} has failed since {since.isoformat(timespec='minutes')}.",
                f"Last error: {error[:300]}",
                "The other scheduled work goes on; this one is tried again every tick.",
            ],
            action="Ask the operator to read the gateway's log for 'sweep "
            f"{sweep.name} failed' and fix the cause.",
        )
        if mail is not None:
            enqueue(session, ctx.config, ctx.letters, mail, now)


def alert_failing_mailboxes(db: Database, config: Config, clock: Clock, letters: Letters) -> int:
    """One alert per outage for a mailbox failing longer than `mailbox_alert_after`."""
    now = clock.now()
    threshold = now - config.gateway.mailbox_alert_after
    alerted = 0
    with db.transaction() as session:
        ledger.lock(session)  # before the mailbox rows: the order every writer keeps
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
