"""Sharing the law allows (protocol section 10, appendix B): the data-sharing agreement, the
lawful basis, and what every share records.

A partner receives case information only once it has confirmed the London MASH data-sharing
agreement (`[[agency]] dsa_signed`). Each share states and records its lawful basis (the
`[sharing] lawful_basis`, with the agreement's reference), the consent it relied on and its
purpose: Caldicott's rule 7, "record what you have shared, with whom and for what purpose".
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from gateway.config import AgencySection, Config
from gateway.domain.consent import Position, consent_of
from gateway.store.models import Contact

REVIEW_WARNING = timedelta(days=30)


class NoAgreement(ValueError):
    """A share refused because the agency has not signed the data-sharing agreement."""


def agency_for_address(config: Config, address: str | None) -> AgencySection | None:
    """The configured agency an address belongs to (its check, escalation or reply addresses,
    or a `*@domain` reply pattern), else None: a unit of the council is not a partner."""
    if not address:
        return None
    address = address.strip().lower()
    domain = address.rpartition("@")[2]
    for agency in config.agency:
        own = {agency.check_address.lower()}
        if agency.escalation_address:
            own.add(agency.escalation_address.lower())
        for pattern in agency.reply_from:
            if pattern.startswith("*@"):
                if domain == pattern[2:].lower():
                    return agency
            else:
                own.add(pattern.lower())
        if address in own:
            return agency
    return None


def require_agreement(agency: AgencySection, what: str, hint: str | None = None) -> None:
    """Raise NoAgreement, naming the agreement, unless the agency has signed it."""
    if agency.dsa_signed is None:
        raise NoAgreement(
            f"{what} refused: agency {agency.id} ({agency.name}) has no MASH data-sharing "
            "agreement on record. Record the date it confirmed the agreement as "
            "`dsa_signed = YYYY-MM-DD` (with `dsa_reference`) in its [[agency]] table before "
            "sharing case information with it" + (f"; {hint}" if hint else "") + "."
        )


def require_agreements(
    config: Config, addresses: tuple[str, ...], what: str, hint: str | None = None
) -> None:
    """Every recipient that belongs to an agency must have the agreement."""
    for address in addresses:
        agency = agency_for_address(config, address)
        if agency is not None:
            require_agreement(agency, what, hint)


def agreement_reference(agency: AgencySection | None) -> str | None:
    if agency is None or agency.dsa_signed is None:
        return None
    signed = agency.dsa_signed.strftime("%d %B %Y").lstrip("0")
    if agency.dsa_reference:
        return f"{agency.dsa_reference} (confirmed {signed})"
    return f"the MASH data-sharing agreement (confirmed {signed})"


def lawful_basis(config: Config) -> str:
    return config.sharing.lawful_basis


def share_detail(
    config: Config,
    *,
    agency: AgencySection | None,
    consent: Position | None,
    purpose: str,
    status: str | None = None,
) -> dict[str, Any]:
    """What a share's ledger event carries: the lawful basis, the agreement, the consent
    relied on (the status, or the override), and the purpose."""
    if consent is not None:
        relied: dict[str, Any] = consent.as_detail()
    else:
        relied = {"status": status or "unknown", "override": None}
    return {
        "lawful_basis": lawful_basis(config),
        "agreement": agreement_reference(agency),
        "consent": relied,
        "purpose": purpose[:500],
    }


def share_for(config: Config, contact: Contact, recipient: str, purpose: str) -> dict[str, Any]:
    """A share within the council (the case-holding unit, Section 47) or to the referrer: the
    consent on record is stated, not required; protocol 4 sends these without delay."""
    record = consent_of(contact)
    return share_detail(
        config,
        agency=agency_for_address(config, recipient),
        consent=Position(record.status, record.override),
        purpose=purpose,
    )


def request_block(config: Config, agency: AgencySection, consent: Position) -> dict[str, Any]:
    """The check request's fixed block: consent position, lawful basis, agreement."""
    if consent.status == "given":
        position = "given by the family"
    else:
        told = config.sharing.override_reason_to_partners and consent.override is not None
        position = (
            f"not given ({consent.status}); overridden by a MASH manager because: "
            f"{consent.override.reason}"
            if told and consent.override is not None
            else f"not given ({consent.status}); overridden by a MASH manager under protocol "
            "section 7 (the reason is recorded by the MASH and withheld here)"
        )
    return {
        "consent": position,
        "lawful_basis": lawful_basis(config),
        "agreement": agreement_reference(agency) or "none on record",
    }


def agreement_problems(config: Config, today: date) -> list[str]:
    """For `mash-gateway check`: agencies without an agreement or past its review date."""
    problems = []
    for agency in config.agency:
        if agency.dsa_signed is None:
            problems.append(
                f"agency {agency.id}: no data-sharing agreement on record (dsa_signed); no "
                "case information will be shared with it until one is"
            )
        elif agency.dsa_review is not None and agency.dsa_review < today:
            problems.append(
                f"agency {agency.id}: its data-sharing agreement was due for review on "
                f"{agency.dsa_review.isoformat()}; confirm it and update dsa_review"
            )
    return problems


def reviews_due(config: Config, today: date) -> list[str]:
    """For the digest: agreements whose review falls within 30 days, or is past."""
    lines = []
    for agency in config.agency:
        review = agency.dsa_review
        if agency.dsa_signed is None or review is None or review > today + REVIEW_WARNING:
            continue
        days = (review - today).days
        when = (
            f"was due {-days} day(s) ago"
            if days < 0
            else "is due today"
            if days == 0
            else f"is due in {days} day(s)"
        )
        lines.append(
            f"{agency.name} ({agency.id}): the data-sharing agreement's review {when} "
            f"({review.isoformat()})"
        )
    return lines
