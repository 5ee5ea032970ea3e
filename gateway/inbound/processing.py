"""Run the pipeline over ingested messages; persist each decision in one transaction."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from gateway.clock import Clock
from gateway.config import Config
from gateway.crypto.keyring import Keyring
from gateway.domain.alerts import AlertInfo
from gateway.domain.cases import CaseMatch, find_case
from gateway.domain.checks.replies import CheckInfo
from gateway.inbound.apply import Applier
from gateway.inbound.pipeline import (
    PROCESS_STEPS,
    Handler,
    OutboxInfo,
    StepContext,
    StepFailed,
    Work,
    run,
)
from gateway.outbound.compose import Letters
from gateway.retry import backoff
from gateway.store import ledger
from gateway.store.alert_models import Alert
from gateway.store.db import Database
from gateway.store.models import Check, Contact, Message, OutboxRow, SeenSignature
from gateway.timescales import BusinessCalendar

log = logging.getLogger(__name__)

# A claim lasts `[gateway] takeover_after` (a dead instance's work waits that long); a live
# holder also keeps its rows locked (PostgreSQL) or the write lock (SQLite) while it processes
# them, and every write is fenced by the claim's token, so a slow batch is never done twice.
BATCH = 10
RETRY_BASE = timedelta(seconds=30)
RETRY_CAP = timedelta(minutes=30)


class DbLookup:
    """The read-only state view handed to steps, backed by the current session."""

    def __init__(self, session: Session) -> None:
        self.session = session

    @staticmethod
    def _info(row: OutboxRow | None) -> OutboxInfo | None:
        if row is None:
            return None
        return OutboxInfo(
            row.id,
            row.header_message_id,
            row.purpose,
            row.subject_ref,
            tuple(row.recipients),
            row.state,
        )

    def outbox_row(self, row_id: int) -> OutboxInfo | None:
        return self._info(self.session.get(OutboxRow, row_id))

    def open_case(
        self,
        nhs_number: str | None,
        given: str | None,
        family: str | None,
        date_of_birth: str | None,
        today: date,
    ) -> CaseMatch | None:
        return find_case(self.session, nhs_number, given, family, date_of_birth, today)

    def outbox_by_message_id(self, header_message_id: str) -> OutboxInfo | None:
        row = self.session.execute(
            select(OutboxRow).where(OutboxRow.header_message_id == header_message_id)
        ).scalar_one_or_none()
        return self._info(row)

    @staticmethod
    def _check(check: Check | None) -> CheckInfo | None:
        if check is None:
            return None
        return CheckInfo(
            id=check.id,
            reference=check.reference,
            agency=check.agency,
            rag=check.rag,
            status=check.status,
            token=check.token,
            requested_at=check.requested_at,
            due_at=check.due_at,
            request_message_id=check.request_message_id,
        )

    def check_by_token(self, token: str) -> CheckInfo | None:
        query = select(Check).where(Check.token == token.upper())
        return self._check(self.session.execute(query).scalar_one_or_none())

    def check_by_request(self, header_message_id: str) -> CheckInfo | None:
        query = select(Check).where(Check.request_message_id == header_message_id)
        return self._check(self.session.execute(query).scalar_one_or_none())

    def signature_seen(self, payload_sha256: str) -> bool:
        query = select(SeenSignature.id).where(SeenSignature.payload_sha256 == payload_sha256)
        return self.session.execute(query).first() is not None

    def alert_by_token(self, token: str) -> AlertInfo | None:
        query = select(Alert).where(Alert.token == token.upper())
        alert = self.session.execute(query).scalar_one_or_none()
        return AlertInfo.of(alert) if alert is not None else None

    def contact_exists(self, reference: str) -> bool:
        found = self.session.execute(
            select(Contact.id).where(Contact.reference == reference)
        ).first()
        return found is not None


class Processor:
    def __init__(
        self,
        db: Database,
        config: Config,
        clock: Clock,
        letters: Letters,
        handlers: Mapping[str, Handler],
        owner: str,
        on_finished: Callable[[str | None], None] = lambda _mailbox: None,
        keyring: Keyring | None = None,
        on_queued: Callable[[], None] = lambda: None,
    ) -> None:
        self.db = db
        self.config = config
        self.clock = clock
        self.letters = letters
        self.handlers = handlers
        self.owner = owner
        self.on_finished = on_finished
        self.on_queued = on_queued
        self.calendar = BusinessCalendar.from_config(config)
        self.keyring = keyring
        self.applier = Applier(config, letters, self.calendar, owner)
        self.lease = config.gateway.takeover_after

    def release_own_leases(self) -> None:
        with self.db.transaction() as session:
            session.execute(
                update(Message)
                .where(Message.state == "pending", Message.lease_owner == self.owner)
                .values(lease_until=None, lease_owner=None)
            )

    def process_due(self, batch: int = BATCH) -> int:
        """Process every message due now; returns how many were finished or rescheduled."""
        done = 0
        while True:
            claims = self._claim(batch)
            if not claims:
                return done
            try:
                touched = self._process_batch(claims)
            except Exception:  # noqa: BLE001 - retry alone, so one message cannot sink others
                log.warning("a batch of %d failed to commit; processing one at a time", len(claims))
                touched = [self._process_one(mid, token) for mid, token in claims.items()]
            self._notify(touched)
            done += len(claims)

    def _notify(self, touched: list[tuple[str | None, bool] | None]) -> None:
        for mailbox in {t[0] for t in touched if t is not None}:
            self.on_finished(mailbox)
        if any(t is not None and t[1] for t in touched):
            self.on_queued()

    def _claim(self, batch: int) -> dict[int, int]:
        """Lease up to `batch` due messages; {message id: the claim's fencing token}."""
        now = self.clock.now()
        with self.db.transaction() as session:
            query = (
                select(Message)
                .where(
                    Message.state == "pending",
                    or_(Message.next_attempt_at.is_(None), Message.next_attempt_at <= now),
                    or_(Message.lease_until.is_(None), Message.lease_until < now),
                )
                # Urgent-looking mail first: it never waits behind routine mail ahead of it.
                .order_by(Message.priority.desc(), Message.id)
                .limit(batch)
            )
            if self.db.skip_locked():
                query = query.with_for_update(skip_locked=True)
            rows = list(session.execute(query).scalars())
            # An urgent batch is urgent messages only: its alerts commit without waiting for
            # routine ones to be processed in the same transaction.
            if rows and rows[0].priority:
                rows = [row for row in rows if row.priority]
            for row in rows:
                row.lease_until = now + self.lease
                row.lease_owner = self.owner
                row.lease_token = (row.lease_token or 0) + 1
            return {row.id: row.lease_token for row in rows}

    def _locked(self, session: Session, ids: list[int], now: datetime) -> list[Message]:
        """The messages still ours, locked for this transaction and their leases renewed.

        The row lock (PostgreSQL; SQLite's write lock does the same) keeps another instance's
        claim away while this transaction lives; the token check refuses rows whose lease
        lapsed and was claimed again before this transaction began.
        """
        # The ledger's head first, before the messages and every row their handling updates:
        # the one lock order of all writers (tests/test_lock_order.py).
        ledger.lock(session)
        query = select(Message).where(Message.id.in_(ids)).order_by(Message.id)
        if self.db.skip_locked():
            query = query.with_for_update()
        messages = list(session.execute(query).scalars())
        for message in messages:
            if message.lease_owner == self.owner and message.state == "pending":
                message.lease_until = now + self.lease
        return messages

    def _ours(self, message: Message, token: int) -> bool:
        if (
            message.state == "pending"
            and message.lease_owner == self.owner
            and message.lease_token == token
        ):
            return True
        log.warning("message %s: claim lapsed and was taken over; not processing", message.id)
        return False

    def _process_batch(self, claims: dict[int, int]) -> list[tuple[str | None, bool] | None]:
        """Every message of a claimed batch in one transaction: one commit, same atomicity."""
        now = self.clock.now()
        with self.db.transaction() as session:
            touched: list[tuple[str | None, bool] | None] = []
            messages = self._locked(session, list(claims), now)
            for index, message in enumerate(messages):
                ours = self._ours(message, claims[message.id])
                touched.append(self._decide(session, message, now) if ours else None)
                if index + 1 < len(messages) and self.db.urgent_waiting():
                    # The watcher waits for the database with an urgent referral: commit what
                    # is done and hand the rest back for the next claim, rather than make it
                    # wait for the whole routine batch.
                    for rest in messages[index + 1 :]:
                        if rest.lease_owner == self.owner and rest.state == "pending":
                            rest.lease_until = None
                            rest.lease_owner = None
                    break
            return touched

    def _process_one(self, message_id: int, token: int) -> tuple[str | None, bool] | None:
        now = self.clock.now()
        try:
            with self.db.transaction() as session:
                found = self._locked(session, [message_id], now)
                if not found or not self._ours(found[0], token):
                    return None
                return self._decide(session, found[0], now)
        except Exception as exc:  # noqa: BLE001 - recorded as the apply step's failure below
            # The kind and where, not the text: a database error's text quotes the values.
            log.error("message %s: applying the decision failed: %s", message_id, _where(exc))
            with self.db.transaction() as session:
                found = self._locked(session, [message_id], now)
                if not found or not self._ours(found[0], token):
                    return None
                return self._record_failure(session, found[0], "apply", exc, (), now)

    def _decide(
        self, session: Session, message: Message, now: datetime
    ) -> tuple[str | None, bool] | None:
        """Run the pipeline on one message and persist the outcome in `session`.

        Returns (mailbox, queued mail?) when the message changed, None when it was not ours.
        """
        if message.state != "pending" or message.lease_owner != self.owner:
            return None
        work = Work(
            raw=message.raw,
            role=message.role,
            mailbox=message.mailbox,
            received_at=message.received_at,
        )
        ctx = StepContext(
            self.config, now, DbLookup(session), self.handlers, self.calendar, self.keyring
        )
        try:
            result = run(PROCESS_STEPS, work, ctx)
        except StepFailed as failure:
            return self._record_failure(
                session, message, failure.step, failure.error, failure.reasons, now
            )
        assert result.decision is not None, "the handle step always decides"
        self.applier.apply(session, message, result.decision, result.reasons, now)
        return message.mailbox, result.decision.queues_mail

    def _record_failure(
        self,
        session: Session,
        message: Message,
        step: str,
        error: BaseException,
        reasons: tuple[str, ...],
        now: datetime,
    ) -> tuple[str | None, bool] | None:
        """Retry later with backoff; after the configured attempts, quarantine."""
        message.attempts += 1
        message.lease_until = None
        message.lease_owner = None
        message.last_error = f"{step}: {type(error).__name__}: {error}"[:2000]
        message.steps = [*reasons, f"{step}: raised {type(error).__name__}"]
        if message.attempts < self.config.gateway.processing_attempts:
            message.next_attempt_at = now + backoff(message.attempts, RETRY_BASE, RETRY_CAP)
            log.warning(
                "message %s: step %s failed (attempt %s), will retry: %s",
                message.id,
                step,
                message.attempts,
                type(error).__name__,
            )
            return None
        message.state = "quarantined"
        message.quarantine_reason = f"step-failed:{step}"
        message.quarantine_detail = (
            f"step {step} failed {message.attempts} times; last: {message.last_error}"
        )
        message.processed_at = now
        message.next_attempt_at = None
        self.applier.record_quarantine(session, message, now)
        self.applier.alert_step_failed(session, message, step, type(error).__name__, now)
        log.error(
            "message %s quarantined after %s failures in %s: %s",
            message.id,
            message.attempts,
            step,
            type(error).__name__,
        )
        return message.mailbox, False


def _where(exc: BaseException) -> str:
    """ "IntegrityError at outbox.py:88 in enqueue": the exception's kind and innermost frame."""
    frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    place = (
        f" at {frame.filename.rsplit('/', 1)[-1]}:{frame.lineno} in {frame.name}" if frame else ""
    )
    return f"{type(exc).__name__}{place}"
