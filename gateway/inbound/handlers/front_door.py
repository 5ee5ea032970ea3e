"""The MASH mailbox's human mail: referrals, police notifications and information requests."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime

from gateway.domain import referrer
from gateway.domain.consent import Position, status_from_form
from gateway.domain.contacts import ContactDraft
from gateway.domain.effects import CreateContact, RaiseAlert
from gateway.domain.sharing import agency_for_address, share_detail
from gateway.inbound.pipeline import Decision, StepContext, Work
from gateway.inbound.referral.asks import professional_asks, public_asks, risk_unknown
from gateway.inbound.referral.parse import Referral
from gateway.inbound.screening import screen_message
from gateway.mail.addresses import single_address
from gateway.mail.decode import header
from gateway.outbound.alerts import manager_alert
from gateway.outbound.compose import OutgoingMail
from gateway.outbound.letter_values import letter_values

_SOURCES = (
    ("police", r"police|\bmet\b"),
    ("health", r"\bnhs\b|health|hospital|homerton|\bgp\b|surgery|camhs|midwi"),
    ("school", r"school|academy|college|nursery|education"),
    ("LA", r"\.gov\.uk$|council|social care"),
)


def referral_source(referral: Referral, sender: str | None, professional: bool = True) -> str:
    """The kind of referrer: police, health, school, LA, other professional, or individual.
    Only a referrer shown to be a professional (gateway/domain/referrer.py) is given an
    agency's kind: a parent's Gmail naming a school is an individual."""
    if not professional:
        return "individual"
    agency = " ".join(filter(None, (referral.referrer.agency, referral.referrer.role)))
    haystack = f"{agency} {sender or ''}".lower()
    for source, pattern in _SOURCES:
        if re.search(pattern, haystack):
            return source
    return "other" if agency.strip() else "individual"


FORWARD = "open case: shared with the case-holding unit without delay"


def handle_referral(work: Work, ctx: StepContext) -> Decision:
    """A contact (with a reference), its acknowledgement, and alerts or forwards as needed."""
    assert work.decoded is not None and work.referral is not None
    referral = work.referral
    received_at: datetime = work.received_at or ctx.now
    calendar = ctx.business_calendar()
    out_of_hours = not calendar.is_open(received_at)
    sender = single_address(header(work.decoded.message, "From"))
    police = work.kind == "police_notification"
    who = referrer.decide(
        ctx.config,
        sender,
        referral.referrer.role,
        referral.referrer.agency,
        forwarded=referral.forwarded,
    )
    if police and not who.professional:
        # A police notification's sender is recognised by its form, not by a role field.
        who = referrer.ReferrerKind(
            "professional", unsure=True, reasons=("a police notification, from an address "
            "that is not a configured agency's: please confirm",),
        )
    source = referral_source(referral, sender, who.professional)
    rfi = work.kind == "rfi"
    # A form's concern is what the referrer says is wrong; a notification or a free-text
    # message is read whole (its new text, not what it quotes).
    urgent = screen_message(
        work.decoded.message,
        ctx.config,
        text=referral.concern if referral.concern and not police else None,
        immediate_risk=referral.immediate_risk,
    )
    draft = ContactDraft(
        received_at=received_at,
        channel="rfi" if rfi else "police-notification" if police else "email",
        source="police" if police else source,
        # Police notifications go to the next Daily MASH Meeting (protocol 6).
        daily_meeting=police,
        referral=referral.as_json(),
        # A request for information or a police notification is not a referral: the form's
        # mandatory fields do not apply, and nobody is asked for them.
        missing=() if rfi or police else tuple(referral.missing),
        out_of_hours=out_of_hours,
        immediate_risk=bool(urgent),
        reply_address=sender,
        referrer_kind=who.kind,
        referrer_unsure=who.unsure,
        referrer_reasons=who.reasons,
    )
    config = ctx.config
    now = ctx.now
    today = received_at.astimezone(calendar.zone).date()
    case = next(
        (
            match
            for child in referral.children
            if (
                match := ctx.lookup.open_case(
                    child.nhs_number if child.nhs_number_valid else None,
                    child.given_name,
                    child.family_name,
                    child.date_of_birth,
                    today,
                )
            )
        ),
        None,
    )
    if case is not None and case.status != "open":
        # Known to a unit within three months but closed: decision B offers it back to that
        # unit (protocol 4); until a manager decides, it is an open contact like any other.
        case = None
    unsigned = agency_for_address(config, case.unit_email) if case is not None else None
    if unsigned is not None and unsigned.dsa_signed is None:
        case = None  # never forwarded to a partner without the agreement: a manager decides
    else:
        unsigned = None
    if case is not None:
        draft = replace(draft, status="forwarded")
    elif rfi:
        # Protocol 4.6: information requests about children not open to CSC, 10 working days.
        draft = replace(draft, due_at=calendar.add_working_days(received_at, 10))
    due_by = (
        draft.due_at.astimezone(calendar.zone).strftime("%A %d %B %Y")
        if draft.due_at is not None
        else None
    )
    raw = work.raw
    what = "police notification" if police else "information request" if rfi else "referral"
    # A colleague's forward: they are acknowledged (they sent it), the form's referrer recorded.
    on_behalf_of = (
        referral.referrer.name
        if referral.forwarded
        and referral.referrer.name
        and (referral.referrer.email or "").strip().lower() != (sender or "")
        else None
    )

    public = not who.professional  # family too: the safer letter
    missing = list(draft.missing)

    def mails(reference: str) -> tuple[OutgoingMail, ...]:
        out: list[OutgoingMail] = []
        if police and sender is not None and config.police.acknowledge:
            out.append(
                OutgoingMail(
                    template="ack_notification",
                    values={
                        "reference": reference,
                        "meeting_at": config.meeting.at.strftime("%H:%M"),
                    },
                    recipients=(sender,),
                    purpose="police notification acknowledgement",
                    subject_ref=reference,
                )
            )
        elif sender is not None and not police:
            out.append(
                OutgoingMail(
                    template="ack_public" if public else "ack_professional",
                    values={
                        **letter_values(config),
                        "reference": reference,
                        "rfi": rfi,
                        "out_of_hours": out_of_hours,
                        "missing": list(draft.missing),
                        # What we ask back: plain questions for the public, the form's own
                        # names for professionals; immediate risk is never asked by email.
                        "asks": public_asks(missing) if public else professional_asks(missing),
                        "risk_unknown": risk_unknown(missing),
                        "urgent": bool(urgent),
                        "due_by": due_by,
                        "on_behalf_of": on_behalf_of,
                        # Truthful: the child's allocated unit has it, not a MASH manager.
                        "forwarded": case is not None,
                    },
                    recipients=(sender,),
                    purpose="information request acknowledgement"
                    if rfi
                    else "referral acknowledgement",
                    subject_ref=reference,
                )
            )
        if case is not None:
            out.append(
                OutgoingMail(
                    template="forward_to_unit",
                    values={
                        "reference": reference,
                        "unit": case.unit,
                        "open": case.status == "open",
                        "closed_on": case.closed_on,
                        "matched_by": case.matched_by,
                    },
                    recipients=(case.unit_email,),
                    purpose=FORWARD,
                    subject_ref=reference,
                    attached_messages=(raw,),
                    share=share_detail(
                        config,
                        agency=agency_for_address(config, case.unit_email),
                        consent=Position(status_from_form(draft.referral), None),
                        purpose=FORWARD,
                    ),
                )
            )
        if unsigned is not None:
            alert = manager_alert(
                config,
                now,
                title=f"contact {reference} is about an open case, not forwarded",
                lines=[
                    f"The case-holding unit's address belongs to {unsigned.name}, which has "
                    "no data-sharing agreement on record (dsa_signed)."
                ],
                action=f"Share contact {reference} with the unit by hand, or record the "
                "agreement.",
                reference=reference,
                purpose="forward-refused-alert",
            )
            if alert is not None:
                out.append(alert)
        return tuple(out)

    return Decision(
        state="processed",
        kind=work.kind or "referral",
        effects=(
            CreateContact(draft, mails),
            *(
                (
                    RaiseAlert(
                        title="urgent: possible immediate risk"
                        if not police
                        else "urgent police notification",
                        what=f"a new {what} ({'out of hours' if out_of_hours else 'in hours'})",
                        reasons=urgent,
                    ),
                )
                if urgent
                else ()
            ),
        ),
    )
