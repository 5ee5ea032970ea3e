"""Who the referrer is: a professional, a member of the public, or the child's family.

The answer decides which letters they get: a professional's names the child and gives the
decision and the disagreement route; anyone else's says only that the MASH has acted. It is
decided from evidence, strongest first: a configured agency's addresses, the professional
mail domains (`[front_door] professional_domains`), then the form's role and agency fields.
A form that claims a professional role from an address nothing vouches for (a parent's
Gmail naming a school) is not trusted: the referrer is treated as public, the safer letter,
and the digest says so until a manager corrects it (`contacts set-referrer`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from fnmatch import fnmatchcase

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.config import Config
from gateway.store import ledger
from gateway.store.models import Contact

KINDS = ("public", "professional", "family")

# Words in a form's role or agency field. Whole words, case-insensitive.
_FAMILY = re.compile(
    r"\b(mother|mum|mom|father|dad|parent|step-?(mother|father|parent|mum|dad)|"
    r"grand(mother|father|parent|ma|pa|mum|dad)|nan|nana|aunt|auntie|aunty|uncle|"
    r"brother|sister|sibling|cousin|relative|family|carer of|kinship carer|guardian)\b",
    re.I,
)
_PUBLIC = re.compile(
    r"\b(neighbou?r|friend|member of (the )?public|public|anonymous|resident|passer-?by|"
    r"concerned (citizen|person|adult)|local resident|self|none|n/?a|private (individual|"
    r"person|citizen)|individual)\b",
    re.I,
)
_PROFESSIONAL = re.compile(
    r"\b(teacher|head ?teacher|headteacher|dsl|designated safeguarding (lead|officer)|"
    r"safeguarding (lead|officer|manager|nurse)|senco|school|academy|college|nursery|"
    r"education|nurse|health visitor|midwife|doctor|gp|paediatrician|consultant|nhs|"
    r"hospital|clinic|camhs|police|officer|detective|constable|sergeant|pc|dc|ds|"
    r"social worker|social care|probation|youth (worker|offending)|housing|council|"
    r"local authority|early help|family support|practitioner|worker|charity|"
    r"children'?s centre|service manager)\b",
    re.I,
)
# Professional roles whose names hold a family word ("family support worker").
_PROFESSIONAL_PHRASE = re.compile(
    r"\b((family|parent|parenting) (support|liaison|link|practitioner|worker|advis[eo]r)|"
    r"foster carer|support (worker|advis[eo]r))\b",
    re.I,
)
# Consumer mail: a professional claim from one of these is never taken on trust.
FREE_MAIL = (
    "gmail.com",
    "googlemail.com",
    "hotmail.com",
    "hotmail.co.uk",
    "outlook.com",
    "live.com",
    "live.co.uk",
    "msn.com",
    "yahoo.com",
    "yahoo.co.uk",
    "icloud.com",
    "me.com",
    "mac.com",
    "aol.com",
    "aol.co.uk",
    "btinternet.com",
    "sky.com",
    "virginmedia.com",
    "talktalk.net",
    "protonmail.com",
    "proton.me",
    "gmx.com",
    "gmx.co.uk",
    "mail.com",
)


@dataclass(frozen=True)
class ReferrerKind:
    kind: str  # one of KINDS
    # True when the evidence disagrees or is thin: the digest asks a manager to confirm.
    unsure: bool = False
    reasons: tuple[str, ...] = field(default_factory=tuple)

    @property
    def professional(self) -> bool:
        return self.kind == "professional"

    def as_json(self) -> dict[str, object]:
        return {"kind": self.kind, "unsure": self.unsure, "reasons": list(self.reasons)}


def agency_of(config: Config, address: str | None) -> str | None:
    """The id of the configured agency whose addresses include ADDRESS."""
    agency = config.agency_of_address(address) if address else None
    return agency.id if agency is not None else None


def professional_domain(config: Config, address: str | None) -> str | None:
    """The `[front_door] professional_domains` pattern the address's domain matches."""
    if not address or "@" not in address:
        return None
    domain = address.rpartition("@")[2].lower()
    for pattern in config.front_door.professional_domains:
        if fnmatchcase(domain, pattern.lower()):
            return pattern
    return None


def _field(text: str | None) -> str:
    return " ".join((text or "").split())


def decide(
    config: Config,
    sender: str | None,
    role: str | None = None,
    agency: str | None = None,
    *,
    forwarded: bool = False,
) -> ReferrerKind:
    """The kind of referrer who will get our letters (the sender), and why.

    FORWARDED: a colleague passed on someone else's form, so the form's role and agency
    describe that someone, not the sender; only the sender's address counts then.
    """
    known = agency_of(config, sender)
    if known is not None:
        return ReferrerKind("professional", reasons=(f"{sender} is an address of agency {known}",))
    pattern = professional_domain(config, sender)
    role_text, agency_text = _field(role), _field(agency)
    said = " / ".join(filter(None, (role_text, agency_text)))
    if forwarded:
        role_text = agency_text = said = ""
    if _PROFESSIONAL_PHRASE.search(role_text):
        pass  # a professional's role: decided by the address below
    elif _FAMILY.search(role_text):
        return ReferrerKind("family", reasons=(f"the form gives the role {role_text!r}",))
    elif _PUBLIC.search(role_text):
        return ReferrerKind("public", reasons=(f"the form gives the role {role_text!r}",))
    if pattern is not None:
        return ReferrerKind(
            "professional", reasons=(f"{sender} is in a professional domain ({pattern})",)
        )
    domain = (sender or "").rpartition("@")[2].lower()
    if said and _PROFESSIONAL.search(said):
        where = (
            "a personal mail service"
            if domain in FREE_MAIL
            else f"a domain ({domain or 'no address'}) that is neither a configured agency's "
            "nor a professional one"
        )
        return ReferrerKind(
            "public",
            unsure=True,
            reasons=(
                f"the form says {said!r}, but it came from {where}: treated as public until "
                "a manager confirms",
            ),
        )
    if said:
        return ReferrerKind(
            "public",
            unsure=True,
            reasons=(f"the form says {said!r}, which names no professional role",),
        )
    return ReferrerKind(
        "public",
        reasons=(
            f"no role or agency given, and {sender or 'no address'} is not a professional one",
        ),
    )


def corrected(kind: str, by: str) -> ReferrerKind:
    """A manager's correction: final, and no longer unsure."""
    if kind not in KINDS:
        raise ValueError(f"a referrer is one of {', '.join(KINDS)}, not {kind!r}")
    return ReferrerKind(kind, reasons=(f"set by {by}",))


class ReferrerError(ValueError):
    """A correction that cannot be made, with the reason."""


def set_kind(session: Session, now: datetime, reference: str, kind: str, by: str) -> str:
    """A manager's correction of who the referrer is, on the record."""
    if kind not in KINDS:
        raise ReferrerError(f"a referrer is one of {', '.join(KINDS)}, not {kind!r}")
    ledger.lock(session)  # before the contact: the order every writer keeps
    contact = session.execute(
        select(Contact).where(Contact.reference == reference).with_for_update()
    ).scalar_one_or_none()
    if contact is None:
        raise ReferrerError(f"no contact {reference}")
    before = contact.referrer_kind
    verdict = corrected(kind, by)
    contact.referrer_kind, contact.referrer_unsure = verdict.kind, False
    contact.referrer_reasons = list(verdict.reasons)
    ledger.append(
        session,
        now,
        ledger.Event(
            action="referrer-set",
            actor=by,
            subject_ref=reference,
            purpose="a manager says who the referrer is",
            detail={"kind": kind, "was": before},
        ),
    )
    return f"{reference}: the referrer is {kind} (was {before}); later letters follow it"
