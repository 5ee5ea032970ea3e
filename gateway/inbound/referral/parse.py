"""Read a MASH referral form from an e-mail body: labelled lines or an HTML table.

Pure: bytes in, a `Referral` out. Labels vary between forms, so each field has its variants;
dates are UK day-first; NHS numbers are checked with their modulus-11 digit.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from email.message import EmailMessage, Message
from typing import Any

from gateway.domain.formats import parse_date, valid_nhs_number
from gateway.inbound.referral.adults import Adult, set_adult
from gateway.inbound.referral.attached_forms import attached_forms
from gateway.inbound.referral.bodies import body_texts, html_pairs, labelled_pairs
from gateway.inbound.referral.labels import (
    CATEGORIES,
    CHILD_FIELDS,
    REFERRER_FIELDS,
    field_key,
    yes_no,
)


@dataclass
class Child:
    given_name: str | None = None
    family_name: str | None = None
    date_of_birth: str | None = None
    expected_date: str | None = None
    unborn: bool = False
    gender: str | None = None
    address: str | None = None
    postcode: str | None = None
    nhs_number: str | None = None
    nhs_number_valid: bool | None = None
    school: str | None = None
    gp: str | None = None


@dataclass
class Referrer:
    name: str | None = None
    role: str | None = None
    agency: str | None = None
    email: str | None = None
    phone: str | None = None


@dataclass
class Referral:
    children: list[Child] = field(default_factory=list)
    referrer: Referrer = field(default_factory=Referrer)
    concern: str | None = None
    categories: list[str] = field(default_factory=list)
    immediate_risk: bool | None = None
    consent: str | None = None
    parents_aware: bool | None = None
    child_aware: bool | None = None
    child_views: str | None = None
    household: str | None = None
    # The child's own consent where the form asks for it (protocol 7).
    child_consent: str | None = None
    # Parents, carers and the alleged person from labelled fields: identifying details only.
    adults: list[Adult] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    form: str = "body"  # or the attached form's file name
    forwarded: bool = False
    attachment_problems: list[str] = field(default_factory=list)
    recognised: int = 0

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("recognised")
        return data



def parse_referral(message: EmailMessage | Message) -> Referral:
    """The form from the body (HTML table or labelled lines) or an attached .docx/PDF form,
    whichever holds more of it."""
    plain, html = body_texts(message)
    pairs = html_pairs(html) if html else []
    if len(pairs) < 3:
        pairs = labelled_pairs(plain) or pairs
    best = build(pairs)
    problems = []
    for form in attached_forms(message):
        if form.problem:
            problems.append(f"{form.filename}: {form.problem}")
            continue
        candidate = build(labelled_pairs(form.text) + list(form.pairs))
        if candidate.recognised > best.recognised:
            best = candidate
            best.form = form.filename
    best.attachment_problems = problems
    best.forwarded = is_forwarded(message, plain)
    return best


_FORWARD_SUBJECT = re.compile(r"^\s*(?:fwd?|fw)\s*:", re.I)
_FORWARD_BODY = re.compile(
    r"-{2,}\s*(?:forwarded message|original message)\s*-{2,}|^begin forwarded message:",
    re.I | re.M,
)


def is_forwarded(message: Message, plain: str) -> bool:
    """Passed on by a colleague: a Fwd/FW subject, a forward marker, or an attached message."""
    if _FORWARD_SUBJECT.match(str(message.get("Subject", "") or "")):
        return True
    if _FORWARD_BODY.search(plain):
        return True
    return any(part.get_content_type() == "message/rfc822" for part in message.walk())


def build(pairs: list[tuple[str, str]]) -> Referral:
    referral = Referral()
    children: dict[int, Child] = {}
    adults: dict[str, Adult] = {}
    current = 0
    for label, value in pairs:
        value = value.strip()
        if value and set_adult(adults, label, value):
            referral.recognised += 1
            continue
        key, number = field_key(label)
        if key is None or not value:
            continue
        referral.recognised += 1
        if key in CHILD_FIELDS:
            if number is not None:
                current = number
            elif current in children and _already_set(children[current], key):
                current += 1  # the same child field again: the next child's block
            child = children.setdefault(current, Child())
            _set_child(child, key, value)
        elif key in REFERRER_FIELDS:
            setattr(referral.referrer, key.removeprefix("referrer_"), value)
        elif key == "categories":
            referral.categories = _categories(value)
        elif key in ("immediate_risk", "parents_aware", "child_aware"):
            setattr(referral, key, yes_no(value))
        else:
            setattr(referral, key, value)
    referral.children = [children[n] for n in sorted(children)]
    referral.adults = [a for a in adults.values() if a.name]
    referral.missing = missing_fields(referral)
    return referral


def _already_set(child: Child, key: str) -> bool:
    if key == "child_name":
        return child.given_name is not None
    attr = key
    return getattr(child, attr, None) is not None


def _set_child(child: Child, key: str, value: str) -> None:
    if key == "child_name":
        parts = value.split()
        if "," in value:  # "SMITH, Jo"
            family, _, given = value.partition(",")
            child.given_name, child.family_name = given.strip() or None, family.strip() or None
        elif len(parts) == 1:
            child.given_name = parts[0]
        else:
            child.given_name, child.family_name = " ".join(parts[:-1]), parts[-1]
        if re.search(r"\bunborn\b", value, re.I):
            child.unborn = True
    elif key in ("date_of_birth", "expected_date"):
        parsed = parse_date(value)
        setattr(child, key, parsed.isoformat() if parsed else None)
        if key == "expected_date" and parsed:
            child.unborn = True
    elif key == "nhs_number":
        child.nhs_number = re.sub(r"[\s-]", "", value)
        child.nhs_number_valid = valid_nhs_number(value)
    else:
        setattr(child, key, value)


def _categories(value: str) -> list[str]:
    text = value.lower()
    found = [
        name
        for name, words in CATEGORIES.items()
        if any(re.search(rf"\b{re.escape(w)}\b", text) for w in words)
    ]
    # "parental mental health" also says "mental health"; keep the specific one.
    if "parental mental health" in found and not re.search(r"self.?harm", text):
        found = [c for c in found if c != "self-harm / mental health"]
    return found


def missing_fields(referral: Referral) -> list[str]:
    missing: list[str] = []
    if not referral.children:
        missing.append("child name")
    for index, child in enumerate(referral.children, start=1):
        prefix = f"child {index}: " if len(referral.children) > 1 else ""
        if not child.given_name and not child.unborn:
            missing.append(prefix + "child name")
        if not child.date_of_birth and not child.expected_date:
            missing.append(prefix + "date of birth or expected date")
        if not child.address:
            missing.append(prefix + "address")
    if not referral.referrer.name:
        missing.append("referrer name")
    if not (referral.referrer.email or referral.referrer.phone):
        missing.append("referrer email or phone")
    if not referral.concern:
        missing.append("concern")
    if not referral.categories:
        missing.append("categories")
    if referral.immediate_risk is None:
        missing.append("immediate risk")
    if referral.parents_aware is None:
        missing.append("parents aware")
    if not referral.consent:
        missing.append("consent")
    if not referral.household:
        missing.append("carer")
    return missing


def looks_like_referral(referral: Referral) -> bool:
    """Enough of the form to be one: a child and a concern or several recognised fields."""
    return bool(referral.children) and (referral.concern is not None or referral.recognised >= 4)


