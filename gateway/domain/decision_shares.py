"""Who a decision shares the contact with, found before anything is recorded.

Decision B offers the contact to the unit that holds the child's case or closed it within three
months (protocol 4); Section 47 sends it to the social work unit; an outcome sends the
referrer its letter. Each goes only to a recipient that is no partner agency, or one that
signed the data-sharing agreement: checked first, so a refusal leaves nothing half-recorded.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from gateway.config import Config
from gateway.domain.cases import CaseMatch, find_case
from gateway.domain.sharing import require_agreements
from gateway.store.models import Contact
from gateway.timescales import BusinessCalendar

if TYPE_CHECKING:
    from gateway.domain.decisions import DecisionRequest

# Decisions that settle the outcome there and then.
SETTLES = {"A": "no-further-action", "B": "statutory-assessment"}


def known_unit(
    session: Session, config: Config, contact: Contact, now: datetime
) -> CaseMatch | None:
    """The unit that holds the child's case, or closed it within three months."""
    today = now.astimezone(BusinessCalendar.from_config(config).zone).date()
    for child in (contact.referral or {}).get("children") or []:
        case = find_case(
            session,
            child.get("nhs_number") if child.get("nhs_number_valid") else None,
            child.get("given_name"),
            child.get("family_name"),
            child.get("date_of_birth"),
            today,
        )
        if case is not None:
            return case
    return None


def check_agreements(
    session: Session, config: Config, contact: Contact, request: DecisionRequest, now: datetime
) -> None:
    """Before anything is recorded: every share this decision makes goes only to a recipient
    that is no partner agency, or one that signed the data-sharing agreement."""
    if request.decision == "B":
        case = known_unit(session, config, contact, now)
        if case is not None:
            require_agreements(config, (case.unit_email,), f"re-referring to {case.unit}")
        address = config.clocks.section47_address
        if request.section == "47" and address is not None:
            require_agreements(config, (address,), "the Section 47 referral")
    outcome = request.outcome or SETTLES.get(request.decision or "")
    if outcome is not None and request.letter and contact.reply_address is not None:
        require_agreements(
            config,
            (contact.reply_address,),
            "the outcome letter (a copy of the outcome)",
            hint="or withhold the letter (--no-letter, or NO LETTER by email) with its reason",
        )
