"""One dispatcher carries out a handler's effects inside the message's transaction."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.config import Config
from gateway.domain.alerts import acknowledge, raise_alert, record_reasons
from gateway.domain.checks.records import (
    carry_out_decision,
    carry_out_request,
    record_reply,
    record_update,
)
from gateway.domain.contacts import store
from gateway.domain.disagreements import raise_disagreement
from gateway.domain.effects import (
    AcknowledgeAlert,
    CheckReplyDraft,
    CheckUpdate,
    CreateContact,
    Effect,
    MarkBounced,
    RaiseAlert,
    RaiseDisagreement,
    Record,
    RecordDecision,
    RememberSignature,
    RequestChecks,
    SendMail,
    VoiceCommand,
)
from gateway.domain.voice_commands import carry_out
from gateway.inbound.pipeline import Decision
from gateway.outbound.alerts import manager_alert
from gateway.outbound.compose import Letters, OutgoingMail
from gateway.outbound.outbox import enqueue
from gateway.store import ledger
from gateway.store.alert_models import Alert
from gateway.store.models import Contact, Message, OutboxRow, SeenSignature
from gateway.timescales import BusinessCalendar

log = logging.getLogger(__name__)

STEP_FAILED_ALERT = "step-failed-alert"

# Each effect's function returns the mail it queues; ledger events are appended last.
Apply = Callable[[Session, Message, Any, datetime], list[OutgoingMail]]


class Applier:
    def __init__(
        self, config: Config, letters: Letters, calendar: BusinessCalendar, owner: str
    ) -> None:
        self.config = config
        self.letters = letters
        self.calendar = calendar
        self.owner = owner
        self._apply: dict[type, Apply] = {
            SendMail: lambda _s, _m, e, _n: [e.mail],
            MarkBounced: self._mark_bounced,
            CreateContact: self._create_contact,
            CheckReplyDraft: lambda s, m, e, n: list(record_reply(s, self.config, n, m, e)),
            RecordDecision: lambda s, _m, e, n: [
                carry_out_decision(s, self.config, self.letters, n, e.request)
            ],
            RequestChecks: lambda s, _m, e, n: list(
                carry_out_request(s, self.config, self.letters, n, e.request)
            ),
            RememberSignature: self._remember,
            CheckUpdate: self._update_check,
            RaiseDisagreement: self._raise_disagreement,
            VoiceCommand: lambda s, _m, e, n: carry_out(s, self.config, self.letters, n, e),
            RaiseAlert: self._raise_alert,
            AcknowledgeAlert: self._acknowledge,
        }

    def apply(
        self,
        session: Session,
        message: Message,
        decision: Decision,
        reasons: tuple[str, ...],
        now: datetime,
    ) -> None:
        message.state = decision.state
        message.kind = decision.kind
        message.auto_reply = decision.auto_reply
        message.quarantine_reason = decision.quarantine_reason
        message.quarantine_detail = decision.quarantine_detail
        message.steps = list(reasons)
        message.processed_at = now
        message.lease_until = None
        message.lease_owner = None
        message.next_attempt_at = None
        mails: list[OutgoingMail] = []
        events: list[ledger.Event] = []
        for effect in decision.effects:
            if isinstance(effect, Record):
                events.append(effect.event)
            else:
                mails.extend(self._carry_out(session, message, effect, now))
        for mail in mails:
            enqueue(session, self.config, self.letters, mail, now, source_message_id=message.id)
        for event in events:
            ledger.append(session, now, with_message(event, message.id, self.owner))
        if decision.state == "quarantined":
            log.warning("message %s quarantined: %s", message.id, decision.quarantine_reason)
            self.record_quarantine(session, message, now)
        else:
            log.info("message %s processed as %s", message.id, decision.kind)

    def _carry_out(
        self, session: Session, message: Message, effect: Effect, now: datetime
    ) -> list[OutgoingMail]:
        return self._apply[type(effect)](session, message, effect, now)

    @staticmethod
    def _mark_bounced(
        session: Session, _message: Message, effect: MarkBounced, _now: datetime
    ) -> list[OutgoingMail]:
        # The ledger's head before the row, as the sender recording that row's delivery takes
        # them (a batch's earlier message may already hold the head).
        ledger.lock(session)
        row = session.get(OutboxRow, effect.row_id)
        if row is not None:
            row.state = "bounced"
            row.last_error = effect.detail
        return []

    def _create_contact(
        self, session: Session, message: Message, effect: CreateContact, now: datetime
    ) -> list[OutgoingMail]:
        year = now.astimezone(self.calendar.zone).year
        contact = store(session, effect.draft, now, message.id, year)
        ledger.append(
            session,
            now,
            ledger.Event(
                action="contact-created",
                actor=self.owner,
                subject_ref=contact.reference,
                purpose="referral received",
                detail={
                    "message": message.id,
                    "source": contact.source,
                    "incomplete": contact.incomplete,
                    "out_of_hours": contact.out_of_hours,
                },
            ),
        )
        return list(effect.mails(contact.reference)) if effect.mails is not None else []

    def _raise_disagreement(
        self, session: Session, message: Message, effect: RaiseDisagreement, now: datetime
    ) -> list[OutgoingMail]:
        row = raise_disagreement(
            session,
            self.config,
            self.letters,
            now,
            reference=effect.reference,
            sender=effect.sender,
            text=effect.text,
            found=effect.found,
            message_id=message.id,
            in_reply_to=effect.in_reply_to,
        )
        if row is None:
            log.info("message %s disagrees, not from a professional: filed", message.id)
        return []  # its mails are queued by raise_disagreement itself

    def _raise_alert(
        self, session: Session, message: Message, effect: RaiseAlert, now: datetime
    ) -> list[OutgoingMail]:
        query = (
            select(Contact).where(Contact.reference == effect.reference)
            if effect.reference is not None
            else select(Contact).where(Contact.message_id == message.id)
        )
        contact = session.execute(query).scalars().first()
        if contact is not None:
            record_reasons(session, contact, effect.reasons, message.id, now)
        raise_alert(
            session,
            self.config,
            self.letters,
            now,
            title=effect.title,
            reasons=effect.reasons,
            contact=contact,
            reference=contact.reference if contact is not None else effect.reference,
            message_id=message.id,
            what=effect.what,
            text=effect.text,
        )
        return []

    @staticmethod
    def _acknowledge(
        session: Session, message: Message, effect: AcknowledgeAlert, now: datetime
    ) -> list[OutgoingMail]:
        alert = session.get(Alert, effect.alert_id)
        if alert is not None:
            acknowledge(session, alert, effect.by, now, via="reply", message_id=message.id)
        return []

    @staticmethod
    def _update_check(
        session: Session, _message: Message, effect: CheckUpdate, now: datetime
    ) -> list[OutgoingMail]:
        record_update(session, now, effect)
        return []

    @staticmethod
    def _remember(
        session: Session, message: Message, effect: RememberSignature, now: datetime
    ) -> list[OutgoingMail]:
        session.add(
            SeenSignature(
                payload_sha256=effect.payload_sha256,
                message_id=message.id,
                seen_at=now,
                check_id=effect.check_id,
                subject_ref=effect.subject_ref,
            )
        )
        return []

    def record_quarantine(self, session: Session, message: Message, now: datetime) -> None:
        ledger.append(
            session,
            now,
            ledger.Event(
                action="message-quarantined",
                actor=self.owner,
                detail={"message": message.id, "reason": message.quarantine_reason},
            ),
        )

    def alert_step_failed(
        self, session: Session, message: Message, step: str, error: str, now: datetime
    ) -> None:
        """Tell the managers, once per message, that it is held because a step kept failing.

        Names the message, the step and the kind of error: never the error's text, which can
        quote the message (a database error quotes what it could not store)."""
        already = session.execute(
            select(OutboxRow.id)
            .where(OutboxRow.source_message_id == message.id)
            .where(OutboxRow.purpose == STEP_FAILED_ALERT)
            .limit(1)
        ).first()
        if already is not None:
            return
        alert = manager_alert(
            self.config,
            now,
            title=f"message {message.id} could not be processed",
            lines=[
                f"Message: {message.id}, {message.channel} into {message.mailbox}",
                f"Step: {step}, failed {message.attempts} times ({error})",
                "It is quarantined: nothing was answered, no contact or check was recorded.",
            ],
            action=f"Read it with `mash-gateway quarantine show {message.id}`; release it "
            "when the cause is fixed, or act on it by hand.",
            purpose=STEP_FAILED_ALERT,
        )
        if alert is not None:
            enqueue(session, self.config, self.letters, alert, now, source_message_id=message.id)


def with_message(event: ledger.Event, message_id: int, instance: str) -> ledger.Event:
    """The event as recorded: names its message and, for the gateway's own acts, the instance."""
    detail = dict(event.detail or {})
    detail.setdefault("message", message_id)
    return ledger.Event(
        action=event.action,
        actor=instance if event.actor == "gateway" else event.actor,
        subject_ref=event.subject_ref,
        recipient=event.recipient,
        purpose=event.purpose,
        detail=detail,
    )
