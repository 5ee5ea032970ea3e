"""The outbox sender: claim due rows, deliver, record the outcome in the ledger."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from gateway.clock import Clock
from gateway.config import Config
from gateway.mail.addresses import without_addresses
from gateway.outbound.alerts import manager_alert
from gateway.outbound.compose import Letters
from gateway.outbound.failed import failure_alert, is_alert
from gateway.outbound.outbox import (
    claim_due,
    enqueue,
    release_claims,
    renew_lease,
    urgent_waiting,
)
from gateway.outbound.smtp import Delivery
from gateway.retry import backoff
from gateway.store import ledger
from gateway.store.db import Database
from gateway.store.models import OutboxRow

log = logging.getLogger(__name__)

RETRY_BASE = timedelta(seconds=30)
BATCH = 10
# Tries to record a delivery the server has answered (see OutboxSender._record_sent).
RECORD_ATTEMPTS = 4
# A claimed row: id, fencing token, envelope sender, recipients, bytes, priority.
_Claim = tuple[int, int, str, list[str], bytes, int]


def lease_for(config: Config) -> timedelta:
    """`[gateway] takeover_after`: a dead instance's rows are taken over that soon. The lease is
    renewed right before each send, and by the daemon's heartbeat while a delivery is slow."""
    return config.gateway.takeover_after


class Transport(Protocol):
    def send(self, envelope_from: str, recipients: list[str], raw: bytes) -> Delivery: ...
    def close(self) -> None: ...


@dataclass
class FlushResult:
    sent: int = 0
    retried: int = 0
    failed: int = 0

    @property
    def touched(self) -> int:
        return self.sent + self.retried + self.failed


class OutboxSender:
    def __init__(
        self,
        db: Database,
        config: Config,
        clock: Clock,
        transport: Transport,
        letters: Letters,
        owner: str,
        on_failed: Callable[[Session, OutboxRow, datetime], None] = lambda _s, _r, _n: None,
    ) -> None:
        # Told, in the failure's transaction, of every permanent failure (the daemon wires
        # the checks in: a check request refused outright makes its check undeliverable).
        self.on_failed = on_failed
        self.db = db
        self.config = config
        self.clock = clock
        self.transport = transport
        self.letters = letters
        self.owner = owner
        # The row being delivered now (id, token), for the heartbeat to keep its claim alive.
        self._in_flight: tuple[int, int] | None = None

    def flush(self, batch: int = BATCH) -> FlushResult:
        """Send everything due now; returns when nothing due is left. At most one message goes
        out between two checks that its claim still holds."""
        result = FlushResult()
        lease = lease_for(self.config)
        try:
            claimed: list[_Claim] = []
            while True:
                if not claimed:
                    with self.db.transaction() as session:
                        claimed = self._claim(session, batch, lease)
                    fresh = True
                if not claimed:
                    return result
                row_id, token, envelope_from, recipients, raw, _priority = claimed.pop(0)
                if not fresh:
                    with self.db.transaction() as session:
                        held = renew_lease(
                            session, row_id, self.owner, token, self.clock.now(), lease
                        )
                    if not held:
                        log.warning("outbox row %s: claim lapsed and was taken over", row_id)
                        continue
                fresh = False
                self._in_flight = (row_id, token)
                try:
                    delivery = self.transport.send(envelope_from, recipients, raw)
                finally:
                    self._in_flight = None
                handed = self._record_sent(row_id, token, delivery, result, claimed, batch, lease)
                if handed is not None:
                    claimed, fresh = handed, True
        finally:
            self.transport.close()

    def _record_sent(
        self,
        row_id: int,
        token: int,
        delivery: Delivery,
        result: FlushResult,
        claimed: list[_Claim],
        batch: int,
        lease: timedelta,
    ) -> list[_Claim] | None:
        """Record a delivery; the claims to go on with when an urgent alert jumped the queue.
        The server has answered: losing this record (a deadlock's victim, a dropped
        connection) would send the message again, so a failed attempt is tried again."""
        for attempt in range(1, RECORD_ATTEMPTS + 1):
            counted = FlushResult()
            handed = None
            try:
                with self.db.transaction() as session:
                    self._record(session, row_id, token, delivery, counted)
                    if claimed and not claimed[0][5] and urgent_waiting(session, self.clock.now()):
                        # An urgent alert queued meanwhile goes before the rest of this routine
                        # batch: the rest is handed back and the alert claimed, in one turn.
                        release_claims(session, [(c[0], c[1]) for c in claimed], self.owner)
                        handed = self._claim(session, batch, lease)
            except OperationalError as exc:
                if attempt == RECORD_ATTEMPTS:
                    raise
                log.warning(
                    "outbox row %s: recording its delivery failed (%s); trying again",
                    row_id,
                    type(exc.orig).__name__,
                )
                time.sleep(0.1 * attempt)
                continue
            result.sent += counted.sent
            result.retried += counted.retried
            result.failed += counted.failed
            return handed
        return None

    def renew_in_flight(self) -> None:
        """Called by the heartbeat: a slow delivery keeps its row's claim."""
        current = self._in_flight
        if current is None:
            return
        with self.db.transaction() as session:
            renew_lease(
                session, current[0], self.owner, current[1], self.clock.now(),
                lease_for(self.config),
            )

    def _claim(self, session: Session, batch: int, lease: timedelta) -> list[_Claim]:
        """Lease due rows (urgent first); a fresh claim needs no renewal before its first send."""
        rows = claim_due(session, self.clock.now(), self.owner, lease, batch, self.db.skip_locked())
        return [
            (r.id, r.lease_token, r.envelope_from, list(r.recipients), r.raw, r.priority)
            for r in rows
        ]

    def _record(
        self, session: Session, row_id: int, token: int, delivery: Delivery, result: FlushResult
    ) -> None:
        now = self.clock.now()
        # The ledger's head before the row's update: a processing batch marking this row
        # bounced holds the head first, and the other order deadlocks with it.
        ledger.lock(session)
        row = session.get(OutboxRow, row_id)
        if (
            row is None
            or row.state != "sending"
            or row.lease_owner != self.owner
            or row.lease_token != token
        ):
            # The documented ambiguous point: the server accepted it, another instance
            # took the row over before we could record it, and may send it once more.
            log.warning("outbox row %s changed hands while sending; not recording", row_id)
            return
        row.attempts += 1
        row.lease_until = None
        row.lease_owner = None
        row.last_error = None if delivery.outcome == "sent" else delivery.detail
        outcome = delivery.outcome
        if outcome == "retry" and row.attempts >= self.config.smtp.max_attempts:
            outcome = "failed"
        if outcome == "sent":
            row.state = "sent"
            row.sent_at = now
            result.sent += 1
            _record(
                session,
                now,
                "mail-sent",
                row,
                self.owner,
                message_id=row.header_message_id,
                smtp=delivery.detail,
            )
            if delivery.refused:
                self._alert_refused(session, row, delivery, now)
        elif outcome == "retry":
            row.state = "pending"
            row.next_attempt_at = now + backoff(
                row.attempts, RETRY_BASE, self.config.smtp.retry_cap
            )
            result.retried += 1
            log.info(
                "outbox row %s deferred (attempt %s): %s",
                row.id,
                row.attempts,
                without_addresses(delivery.detail),
            )
        else:
            row.state = "failed"
            result.failed += 1
            log.error("outbox row %s failed: %s", row.id, without_addresses(delivery.detail))
            _record(
                session,
                now,
                "mail-failed",
                row,
                self.owner,
                smtp=delivery.detail,
                attempts=row.attempts,
            )
            self._alert_failed(session, row, delivery.detail, now)
            self.on_failed(session, row, now)

    def _alert_failed(self, session: Session, row: OutboxRow, detail: str, now: datetime) -> None:
        mail = failure_alert(self.config, now, row, "a message could not be delivered", detail)
        if mail is not None:
            enqueue(session, self.config, self.letters, mail, now)

    def _alert_refused(
        self, session: Session, row: OutboxRow, delivery: Delivery, now: datetime
    ) -> None:
        if is_alert(row.purpose):
            return  # the others got it; the refused ones are in the ledger and the log
        self._alert(
            session,
            row,
            "some recipients refused a message",
            [f"Purpose: {row.purpose}", f"Outbox row: {row.id}", f"Refused: {delivery.detail}"],
            "Check the refused addresses; the others received the message.",
            now,
        )

    def _alert(
        self,
        session: Session,
        row: OutboxRow,
        title: str,
        lines: list[str],
        action: str,
        now: datetime,
    ) -> None:
        mail = manager_alert(
            self.config, now, title=title, lines=lines, action=action, reference=row.subject_ref
        )
        if mail is not None:
            enqueue(session, self.config, self.letters, mail, now)


def _record(
    session: Session, now: datetime, action: str, row: OutboxRow, actor: str, **detail: object
) -> None:
    ledger.append(
        session,
        now,
        ledger.Event(
            action=action,
            actor=actor,
            subject_ref=row.subject_ref,
            recipient=", ".join(row.recipients),
            purpose=row.purpose,
            detail={"outbox_id": row.id, **detail},
        ),
    )
