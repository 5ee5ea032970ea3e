"""Urgent alerts that someone must acknowledge, and the Emergency Duty Team out of hours.

An urgent alert (the urgency screen found something) is a row with its own token, carried in
its Message-ID (`<alert.TOKEN.…>`) and subject (`[ALERT #TOKEN]`). It goes to the managers
at once and, out of hours, to the EDT (`[hours] edt_address`) with what the EDT needs to act,
sealed to `[hours] edt_key` when one is pinned. A reply from a manager (or from the EDT to an
alert it was sent) acknowledges it; so does `alerts ack ID --by MANAGER`. Until then the
escalation sweep sends it again, one rung per `[alerts] acknowledge_within`, to the managers,
`escalate_to` and (out of hours) the EDT, `escalations` times at most. A rung is claimed in
the transaction that queues its mail, so two sweeps or two instances never send it twice.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import Message
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.config import Config
from gateway.domain.checks.request import TOKEN_ALPHABET, TOKEN_LENGTH, new_token
from gateway.domain.managers import describe, manager_by_address
from gateway.domain.urgency import Reason
from gateway.mail.decode import header, referenced_ids
from gateway.mail.sender import same_address
from gateway.outbound.compose import Letters, OutgoingMail
from gateway.outbound.outbox import enqueue
from gateway.store import ledger
from gateway.store.alert_models import Alert, UrgentReason
from gateway.store.models import Contact
from gateway.timescales import BusinessCalendar

log = logging.getLogger(__name__)

ALERT_TAG = re.compile(rf"\[ALERT #([{TOKEN_ALPHABET}]{{{TOKEN_LENGTH}}})\]", re.I)
ALERT_ID = re.compile(rf"<alert\.([{TOKEN_ALPHABET}]{{{TOKEN_LENGTH}}})\.[0-9a-f]+@", re.I)
URGENT = 1  # outbox priority: sent before routine mail queued ahead of it
EXCERPT = 1500  # characters of the new text the EDT is given


@dataclass(frozen=True)
class AlertInfo:
    """What the pipeline may know of an alert a reply answers."""

    id: int
    token: str
    reference: str | None
    edt: bool
    acknowledged: bool

    @classmethod
    def of(cls, alert: Alert) -> AlertInfo:
        return cls(
            alert.id, alert.token, alert.reference, alert.edt, alert.acknowledged_at is not None
        )


def alert_tag(token: str) -> str:
    return f"[ALERT #{token}]"


def alert_tokens(message: Message) -> tuple[str, ...]:
    """The alert tokens a reply names: In-Reply-To/References first, else the subject."""
    found = ALERT_ID.findall(" ".join(referenced_ids(message)))
    if not found:
        found = ALERT_TAG.findall(header(message, "Subject") or "")
    return tuple(dict.fromkeys(t.upper() for t in found))


def edt_due(config: Config, out_of_hours: bool) -> bool:
    return config.hours.edt_address is not None and (out_of_hours or config.alerts.edt_in_hours)


def everyone(config: Config, rung: int, edt: bool) -> list[str]:
    """Who an alert goes to: the managers; from the first escalation `escalate_to` too; the
    EDT when it is due one."""
    out = list(config.manager_addresses)
    if rung:
        out += [a for a in config.alerts.escalate_to if a not in out]
    if edt and config.hours.edt_address is not None:
        out.append(config.hours.edt_address)
    return out


def record_reasons(
    session: Session,
    contact: Contact,
    reasons: Sequence[Reason],
    message_id: int | None,
    now: datetime,
) -> None:
    """The contact is urgent from now on; each reason is kept with the message it came from."""
    contact.urgent = True
    for reason in reasons:
        session.add(
            UrgentReason(
                contact_id=contact.id,
                message_id=message_id,
                signal=reason.signal,
                matched=reason.matched[:500],
                why=reason.why[:500],
                found_at=now,
            )
        )


def reasons_of(session: Session, contact_id: int) -> list[dict[str, Any]]:
    rows = session.execute(
        select(UrgentReason).where(UrgentReason.contact_id == contact_id).order_by(UrgentReason.id)
    ).scalars()
    return [
        {
            "message": r.message_id,
            "signal": r.signal,
            "matched": r.matched,
            "why": r.why,
            "found_at": r.found_at.isoformat(),
        }
        for r in rows
    ]


def _edt_values(contact: Contact | None, text: str | None) -> dict[str, Any]:
    """What the EDT needs to act tonight: who the child is, where, the worry, who to call."""
    referral = (contact.referral if contact is not None else None) or {}
    referrer = referral.get("referrer") or {}
    children = [
        {
            "name": " ".join(filter(None, (c.get("given_name"), c.get("family_name"))))
            or "(name not given)",
            "date_of_birth": c.get("date_of_birth") or c.get("expected_date"),
            "address": ", ".join(filter(None, (c.get("address"), c.get("postcode"))))
            or "(address not given)",
        }
        for c in referral.get("children") or []
    ]
    return {
        "children": children,
        "concern": (referral.get("concern") or "").strip()[:EXCERPT],
        "where_now": referral.get("where_now") or referral.get("child_location"),
        "police_reference": referral.get("police_reference"),
        "new_text": (text or "").strip()[:EXCERPT] or None,
        "referrer": {
            "name": referrer.get("name"),
            "role": referrer.get("role"),
            "agency": referrer.get("agency"),
            "email": referrer.get("email") or (contact.reply_address if contact else None),
            "phone": referrer.get("phone"),
        },
    }


def alert_mails(
    config: Config,
    alert: Alert,
    contact: Contact | None,
    text: str | None,
    now: datetime,
    *,
    rung: int,
    edt: bool,
) -> list[OutgoingMail]:
    zone = BusinessCalendar.from_config(config).zone
    values: dict[str, Any] = {
        "title": alert.title,
        "lines": list(alert.lines),
        "reference": alert.reference,
        "tag": alert_tag(alert.token),
        "alert_id": alert.id,
        "rung": rung,
        "raised_at": alert.raised_at.astimezone(zone).strftime("%A %d %B %Y %H:%M %Z"),
        "sent_at": now.astimezone(zone).strftime("%A %d %B %Y %H:%M %Z"),
        "edt_copy": edt,
        "edt_phone": config.hours.out_of_hours_phone,
        "acknowledge_within": config.alerts.acknowledge_within,
    }
    recipients = list(config.manager_addresses)
    if rung:
        recipients += [a for a in config.alerts.escalate_to if a not in recipients]
    purpose = "urgent-alert" if rung == 0 else f"urgent-alert escalation {rung}"
    mails = []
    if recipients:
        mails.append(
            OutgoingMail(
                template="urgent_alert",
                values=values,
                recipients=tuple(recipients),
                purpose=purpose,
                subject_ref=alert.reference,
                message_id_tag=alert.token,
                message_id_kind="alert",
                priority=URGENT,
            )
        )
    edt_address = config.hours.edt_address
    if edt and edt_address is not None:
        key = config.hours.edt_key
        mails.append(
            OutgoingMail(
                template="edt_alert",
                values={**values, **_edt_values(contact, text)},
                recipients=(edt_address,),
                purpose=f"{purpose} to the Emergency Duty Team",
                subject_ref=alert.reference,
                message_id_tag=alert.token,
                message_id_kind="alert",
                priority=URGENT,
                sign=key is not None,
                encrypt_to=(key,) if key else (),
                outer_subject=f"MASH urgent alert {alert.reference or ''} {alert_tag(alert.token)}",
            )
        )
    return mails


def raise_alert(
    session: Session,
    config: Config,
    letters: Letters,
    now: datetime,
    *,
    title: str,
    reasons: Sequence[Reason],
    contact: Contact | None,
    reference: str | None,
    message_id: int | None,
    what: str,
    text: str | None = None,
) -> Alert:
    """A new urgent alert, its mail queued ahead of routine mail, in the caller's transaction."""
    calendar = BusinessCalendar.from_config(config)
    out_of_hours = not calendar.is_open(now)
    edt = edt_due(config, out_of_hours)
    alert = Alert(
        token=new_token(),
        reference=reference,
        contact_id=contact.id if contact is not None else None,
        message_id=message_id,
        title=title,
        lines=[
            f"What: {what}.",
            *(r.why[0].upper() + r.why[1:] for r in reasons),
            f"Received {'out of hours' if out_of_hours else 'in hours'}.",
        ],
        raised_at=now,
        out_of_hours=out_of_hours,
        edt=edt,
        rung=0,
        next_escalation_at=now + config.alerts.acknowledge_within
        if config.alerts.escalations
        else None,
    )
    session.add(alert)
    session.flush()
    for mail in alert_mails(config, alert, contact, text, now, rung=0, edt=edt):
        enqueue(session, config, letters, mail, now, source_message_id=message_id)
    ledger.append(
        session,
        now,
        ledger.Event(
            action="urgent-alert",
            subject_ref=reference,
            recipient=", ".join(everyone(config, 0, edt)),
            purpose=title,
            detail={
                "alert": alert.id,
                "token": alert.token,
                "what": what,
                "reasons": [r.as_json() for r in reasons],
                "out_of_hours": out_of_hours,
                "edt": edt,
                "sealed_for_edt": bool(edt and config.hours.edt_key),
                "message": message_id,
            },
        ),
    )
    log.warning("urgent alert %s raised on %s (%s)", alert.id, reference, what)
    return alert


def acknowledge(
    session: Session, alert: Alert, by: str, now: datetime, *, via: str, message_id: int | None
) -> bool:
    """Recorded once, with who and when; False when it was acknowledged already."""
    # The ledger's head before the alert's row (the order every writer keeps); then the alert
    # as committed, so two acknowledgements at once are recorded once.
    ledger.lock(session)
    session.refresh(alert, ["acknowledged_at"])
    if alert.acknowledged_at is not None:
        return False
    alert.acknowledged_at = now
    alert.acknowledged_by = by
    alert.next_escalation_at = None
    ledger.append(
        session,
        now,
        ledger.Event(
            action="alert-acknowledged",
            actor=by,
            subject_ref=alert.reference,
            purpose=alert.title,
            detail={
                "alert": alert.id,
                "token": alert.token,
                "via": via,
                "rung": alert.rung,
                "after": str(now - alert.raised_at),
                "message": message_id,
            },
        ),
    )
    return True


def may_acknowledge(config: Config, sent_to_edt: bool, sender: str | None) -> str | None:
    """Who the sender is, when they may acknowledge this alert: a manager, or the EDT for an
    alert that went to the EDT. None otherwise."""
    if sender is None:
        return None
    manager = manager_by_address(config, sender)
    if manager is not None:
        return describe(manager)
    edt = config.hours.edt_address
    if sent_to_edt and edt is not None and same_address(edt, sender):
        return f"Emergency Duty Team <{edt}>"
    return None


def alert_state(alert: Alert) -> str:
    if alert.acknowledged_at is not None:
        return "acknowledged"
    return "escalated" if alert.rung else "open"


def alert_summary(alert: Alert) -> dict[str, Any]:
    return {
        "id": alert.id,
        "token": alert.token,
        "reference": alert.reference,
        "title": alert.title,
        "state": alert_state(alert),
        "raised_at": alert.raised_at.isoformat(),
        "out_of_hours": alert.out_of_hours,
        "edt": alert.edt,
        "escalations": alert.rung,
        "next_escalation_at": alert.next_escalation_at.isoformat()
        if alert.next_escalation_at
        else None,
        "acknowledged_at": alert.acknowledged_at.isoformat() if alert.acknowledged_at else None,
        "acknowledged_by": alert.acknowledged_by,
        "lines": list(alert.lines),
    }


def listing(session: Session, *, open_only: bool = False) -> list[dict[str, Any]]:
    query = select(Alert).order_by(Alert.id)
    if open_only:
        query = query.where(Alert.acknowledged_at.is_(None))
    return [alert_summary(a) for a in session.execute(query).scalars()]
