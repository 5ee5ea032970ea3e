"""A manager's SHOW, REFERRER, RESOLVE and ANSWER command emails, carried out in the
message's transaction; the manager is told what was done, or why not."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.config import Config
from gateway.domain.checks.records import command_result
from gateway.domain.contact_sheet import sheet
from gateway.domain.disagreements import DisagreementError, resolve
from gateway.domain.effects import VoiceCommand
from gateway.domain.referrer import ReferrerError, set_kind
from gateway.domain.rfi import RfiError, answer
from gateway.outbound.compose import Letters, OutgoingMail
from gateway.store.models import Contact
from gateway.timescales import BusinessCalendar


def carry_out(
    session: Session, config: Config, letters: Letters, now: datetime, order: VoiceCommand
) -> list[OutgoingMail]:
    line = f"{order.verb} {order.value}".strip()
    try:
        if order.verb == "SHOW":
            return [_summary(session, config, now, order)]
        if order.verb == "REFERRER":
            done = [set_kind(session, now, order.reference, order.value, order.by)]
        elif order.verb == "RESOLVE":
            done = resolve(
                session,
                config,
                letters,
                now,
                reference=order.reference,
                outcome=order.value,
                reason=order.text,
                by=order.by,
            )
        else:
            done = answer(
                session, config, letters, now, reference=order.reference, text=order.text,
                by=order.by,
            )
    except (ReferrerError, DisagreementError, RfiError) as exc:
        return [command_result(order.sender, order.reference, False, [str(exc)], line)]
    return [command_result(order.sender, order.reference, True, done, line)]


def _summary(session: Session, config: Config, now: datetime, order: VoiceCommand) -> OutgoingMail:
    contact = session.execute(
        select(Contact).where(Contact.reference == order.reference)
    ).scalar_one_or_none()
    if contact is None:
        return command_result(order.sender, order.reference, False, ["no such contact"], "SHOW")
    calendar = BusinessCalendar.from_config(config)
    return OutgoingMail(
        template="contact_summary",
        values={
            "reference": contact.reference,
            "at": calendar.local(now).strftime("%A %d %B %Y %H:%M"),
            "sections": sheet(session, contact, calendar, now),
        },
        recipients=(order.sender,),
        purpose="contact summary for a manager (SHOW)",
        subject_ref=contact.reference,
        # Sealed to a manager with a pinned key; else it goes as the managers' alerts do.
        sign=order.key is not None,
        encrypt_to=(order.key,) if order.key else (),
        outer_subject="MASH contact summary" if order.key else None,
    )
