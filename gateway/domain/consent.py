"""Consent to share (protocol section 7): read from the form, changed by a manager, and
overridden only as the protocol allows.

Every family has the right to have its consent sought. A share with a partner about a contact
whose consent is not `given` needs a manager's recorded override, and the protocol allows one
only where there are urgent concerns about the child's safety *and* speaking to the family
may increase the immediate risk. The override is stored on the contact and reused by later
shares, so the reason is given once and every share that relied on it says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from gateway.store import ledger
from gateway.store.models import Contact

STATUSES = ("given", "refused", "not-sought", "unknown")
PROTOCOL_TEST = (
    "Parental consent must only be overridden where there are urgent concerns about the "
    "safety of a child and it is felt that speaking to the family about the concerns may "
    "increase the immediate risk to the child. These circumstances will be exceptional. "
    "(MASH operational protocol, section 7)"
)

_NEGATED = r"(?:not|never|no|n't|without|yet to be)"
_NOT_SOUGHT = re.compile(
    rf"\b{_NEGATED}\b[\w\s]{{0,20}}?\b(?:sought|asked|obtained|required|needed|requested|"
    r"applicable|discussed|informed)\b|^\s*n/?a\b|\bwithout consent\b|\bnot been asked\b",
    re.I,
)
_REFUSED = re.compile(
    r"\b(?:refus\w*|declin\w*|withdr[ae]w\w*|withheld|object\w*|not (?:been )?given|"
    r"no consent|(?:does|did|do)(?: not|n't) (?:consent|agree|want)|not agreed|disagree\w*)\b",
    re.I,
)
_GIVEN = re.compile(
    r"^\s*(?:yes|y)\b|\b(?:given|agreed|agrees|consent(?:ed|s)|obtained|happy for|verbal consent|"
    r"written consent)\b",
    re.I,
)
_BARE_NO = re.compile(r"^\s*(?:no|n)\b", re.I)


class ConsentError(ValueError):
    """Consent cannot be set or overridden as asked, with the reason a manager can act on."""


def status_from_text(text: str | None) -> str | None:
    """given, refused or not-sought from the form's answer; None when it says none of them.

    Order matters: "not sought" and "not given" both contain a word that alone means given.
    """
    if not text or not text.strip():
        return None
    if _NOT_SOUGHT.search(text):
        return "not-sought"
    if _REFUSED.search(text):
        return "refused"
    if _GIVEN.search(text):
        return "given"
    if _BARE_NO.match(text):
        return "refused"  # "Consent: No": the family did not agree
    return None


def status_from_form(referral: dict[str, Any] | None) -> str:
    """The family's consent as the form states it; parents not aware means not sought."""
    referral = referral or {}
    status = status_from_text(referral.get("consent"))
    if status is not None:
        return status
    if referral.get("parents_aware") is False:
        return "not-sought"
    return "unknown"


def child_from_form(referral: dict[str, Any] | None) -> str | None:
    """The child's own consent where the form gives it (None: the form does not say)."""
    return status_from_text((referral or {}).get("child_consent"))


@dataclass(frozen=True)
class Override:
    by: str
    at: str  # ISO 8601
    reason: str

    def as_json(self) -> dict[str, str]:
        return {"by": self.by, "at": self.at, "reason": self.reason}


@dataclass(frozen=True)
class ConsentRecord:
    status: str
    child: str | None
    override: Override | None

    def as_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "child": self.child,
            "override": self.override.as_json() if self.override else None,
        }


def consent_of(contact: Contact) -> ConsentRecord:
    """The contact's consent: the manager's record where there is one, else the form's."""
    stored = contact.consent_override or None
    override = (
        Override(str(stored["by"]), str(stored["at"]), str(stored["reason"])) if stored else None
    )
    return ConsentRecord(
        status=contact.consent_status or status_from_form(contact.referral),
        child=contact.consent_child or child_from_form(contact.referral),
        override=override,
    )


def set_status(
    session: Session,
    contact: Contact,
    status: str,
    *,
    by: str,
    reason: str | None,
    now: datetime,
) -> ConsentRecord:
    """A manager's correction of the family's consent, on the record."""
    if status not in STATUSES:
        raise ConsentError(f"consent status must be one of {', '.join(STATUSES)}, not {status!r}")
    before = consent_of(contact).status
    contact.consent_status = status
    ledger.append(
        session,
        now,
        ledger.Event(
            action="consent-recorded",
            actor=by,
            subject_ref=contact.reference,
            purpose=(reason or "").strip()[:500] or None,
            detail={"status": status, "was": before},
        ),
    )
    return consent_of(contact)


@dataclass(frozen=True)
class Position:
    """The consent a share relied on: given, or not given and overridden."""

    status: str
    override: Override | None
    recorded_now: bool = False

    @property
    def overridden(self) -> bool:
        return self.status != "given" and self.override is not None

    def as_detail(self) -> dict[str, Any]:
        """For the share's ledger event."""
        return {
            "status": self.status,
            "override": self.override.as_json() if self.overridden and self.override else None,
        }


def position_for_share(
    session: Session,
    contact: Contact,
    *,
    override_reason: str | None,
    manager: str | None,
    now: datetime,
) -> Position:
    """The consent a share to a partner can rely on, recording a new override when one is
    given. Raises ConsentError when consent is not given and there is no override."""
    record = consent_of(contact)
    reason = " ".join((override_reason or "").split())
    if record.status == "given":
        return Position("given", None)
    if override_reason is not None and not reason:
        raise ConsentError("a consent override needs its reason")
    if reason:
        if not manager:
            raise ConsentError("only a configured [[manager]] can override consent")
        override = Override(by=manager, at=now.isoformat(), reason=reason[:1000])
        contact.consent_override = override.as_json()
        ledger.append(
            session,
            now,
            ledger.Event(
                action="consent-overridden",
                actor=manager,
                subject_ref=contact.reference,
                purpose=override.reason,
                detail={"status": record.status, "test": PROTOCOL_TEST},
            ),
        )
        return Position(record.status, override, recorded_now=True)
    if record.override is not None:
        return Position(record.status, record.override)
    raise ConsentError(
        f"consent for {contact.reference} is {record.status}: sharing it with a partner needs "
        'a manager\'s recorded override (checks request ... --consent-override "REASON", or a '
        "'Consent-override: REASON' line in a command email), or record consent given with "
        f"`mash-gateway consent {contact.reference} --status given`. {PROTOCOL_TEST}"
    )
