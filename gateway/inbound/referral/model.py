"""The referral a form holds, built from its fields; what mandatory fields it lacks."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from gateway.domain.formats import name_key, valid_nhs_number
from gateway.inbound.referral.adults import Adult, set_adult
from gateway.inbound.referral.answers import (
    email_in,
    is_unknown,
    phone_in,
    read_date,
    says_expected,
    yes_no,
)
from gateway.inbound.referral.labels import CHILD_KEYS
from gateway.inbound.referral.names import split_name
from gateway.inbound.referral.reader import Field

MANDATORY = (
    "child name",
    "date of birth or expected date",
    "address",
    "referrer name",
    "referrer email or phone",
    "concern",
    "categories",
    "immediate risk",
    "parents aware",
    "consent",
    "carer",
)
CATEGORIES = {
    "physical abuse": ("physical",),
    "sexual abuse": ("sexual abuse", "sexual"),
    "emotional abuse": ("emotional",),
    "neglect": ("neglect",),
    "domestic abuse": ("domestic abuse", "domestic violence", "dv"),
    "child sexual exploitation": ("cse", "child sexual exploitation", "sexual exploitation"),
    "child criminal exploitation": ("cce", "criminal exploitation", "county lines"),
    "extra-familial harm": ("extra-familial", "extra familial", "contextual"),
    "missing": ("missing",),
    "fgm": ("fgm", "female genital mutilation"),
    "forced marriage / honour-based abuse": ("forced marriage", "honour"),
    "radicalisation": ("radicalisation", "radicalization", "prevent"),
    "trafficking": ("trafficking", "modern slavery"),
    "self-harm / mental health": ("self-harm", "self harm", "mental health"),
    "parental substance misuse": ("substance", "drug", "alcohol"),
    "parental mental health": ("parental mental health",),
    "young carer": ("young carer",),
    "private fostering": ("private fostering",),
    "no recourse to public funds / unaccompanied": ("nrpf", "no recourse", "unaccompanied"),
    "disability": ("disability", "disabled"),
}
_POSTCODE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b", re.I)


@dataclass
class Child:
    given_name: str | None = None
    family_name: str | None = None
    full_name: str | None = None  # as written, whatever the split
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


def categories_in(value: str) -> list[str]:
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


def _consent(value: str) -> str | None:
    answer = yes_no(value)
    if re.fullmatch(r"\s*(?:y|n|yes|no)\s*[.!]?\s*", value, re.I) or re.search("[☐□☒☑✓✔]", value):
        return None if answer is None else ("Yes" if answer else "No")
    if answer is None and re.fullmatch(r"\s*(?:yes|y)\s*[/|]\s*(?:no|n)\s*", value, re.I):
        return None
    return value


def _set_child(child: Child, key: str, value: str) -> None:
    if key == "child_name":
        split = split_name(value)
        child.given_name, child.family_name, child.full_name = split.given, split.family, split.full
        child.unborn = child.unborn or split.unborn
    elif key in ("given_name", "family_name"):
        setattr(child, key, None if is_unknown(value) else value)
    elif key in ("date_of_birth", "expected_date", "dob_or_edd"):
        parsed = read_date(value)
        if key == "expected_date" or says_expected(value):
            child.expected_date = parsed.isoformat() if parsed else child.expected_date
            child.unborn = True
        else:
            child.date_of_birth = parsed.isoformat() if parsed else None
    elif key == "nhs_number":
        if not is_unknown(value):
            child.nhs_number = re.sub(r"[\s-]", "", value)
            child.nhs_number_valid = valid_nhs_number(value)
    elif key == "address":
        child.address = value
        if child.postcode is None and (code := _POSTCODE.search(value)):
            child.postcode = code.group(0).upper()
    elif not is_unknown(value):
        setattr(child, key, value)


# A second name, date of birth or NHS number starts the next child's block; a postcode or a
# school after the address is the same child's.
_NEXT_CHILD = frozenset(
    {
        "child_name",
        "given_name",
        "family_name",
        "date_of_birth",
        "dob_or_edd",
        "expected_date",
        "nhs_number",
    }
)


def _has(child: Child, key: str) -> bool:
    if key not in _NEXT_CHILD:
        return False
    if key in ("child_name", "given_name"):
        return child.given_name is not None or child.full_name is not None
    if key == "dob_or_edd":
        return child.date_of_birth is not None or child.expected_date is not None
    return getattr(child, key, None) not in (None, False)


def _empty(child: Child) -> bool:
    return all(getattr(child, f.name) in (None, False) for f in fields(Child))


def _children(entries: list[Field]) -> list[Child]:
    children: dict[int, Child] = {}
    current, last_row = 0, None
    for entry in entries:
        value = entry.value
        if not value:
            continue
        if entry.number is not None:
            current = entry.number
        elif entry.row is not None:
            if entry.row != last_row:
                last_row = entry.row
                if current in children and not _empty(children[current]):
                    current = max(children) + 1
        elif current in children and _has(children[current], entry.key):
            current = max(children) + 1  # the same child field again: the next child's block
        _set_child(children.setdefault(current, Child()), entry.key, value)
    merged: list[Child] = []
    seen: dict[str, Child] = {}
    for number in sorted(children):
        child = children[number]
        parts = (child.given_name, child.family_name)
        if any(parts) and (
            not child.full_name or (child.family_name and child.family_name not in child.full_name)
        ):
            child.full_name = " ".join(filter(None, parts))
        key = name_key(child.given_name, child.family_name)
        if key and key in seen:  # listed twice (a name above, a table row below): one child
            first = seen[key]
            for f in fields(Child):
                if getattr(first, f.name) in (None, False):
                    setattr(first, f.name, getattr(child, f.name))
            continue
        if key:
            seen[key] = child
        if not _empty(child):
            merged.append(child)
    return merged


def build(entries: list[Field]) -> Referral:
    referral = Referral()
    given = family = None
    concerns: list[str] = []
    household: list[str] = []
    adults: dict[str, Adult] = {}
    for entry in entries:
        key, value = entry.key, entry.value
        if not value:
            continue
        referral.recognised += 1
        if key in ("adult", "household") and entry.label:
            set_adult(adults, entry.label, value)
        if key == "adult":
            continue
        if key == "child_consent":
            referral.child_consent = value
            continue
        if key in CHILD_KEYS:
            continue
        if key == "referrer_given":
            given = value
        elif key == "referrer_family":
            family = value
        elif key in ("referrer_email", "referrer_contact"):
            referral.referrer.email = email_in(value) or (
                value if key == "referrer_email" else referral.referrer.email
            )
            if key == "referrer_contact":
                referral.referrer.phone = phone_in(value) or referral.referrer.phone
        elif key == "referrer_phone":
            referral.referrer.phone = value if not email_in(value) else phone_in(value)
            referral.referrer.email = referral.referrer.email or email_in(value)
        elif key.startswith("referrer_"):
            # The first answer stands: a later "Name" under a heading we misread must not
            # replace the referrer already given.
            if getattr(referral.referrer, key.removeprefix("referrer_")) is None:
                setattr(referral.referrer, key.removeprefix("referrer_"), value)
        elif key == "categories":
            referral.categories += [c for c in categories_in(value) if c not in referral.categories]
        elif key in ("immediate_risk", "parents_aware", "child_aware"):
            answer = yes_no(value)
            if answer is not None and entry.inverted:
                answer = not answer
            if answer is not None or getattr(referral, key) is None:
                setattr(referral, key, answer)
        elif key == "consent":
            referral.consent = _consent(value) or referral.consent
        elif key == "concern":
            concerns.append(value)
        elif key == "household":
            household.append(value)
        else:
            setattr(referral, key, value)
    if referral.referrer.name is None and (given or family):
        referral.referrer.name = " ".join(filter(None, (given, family)))
    referral.concern = "\n\n".join(concerns) or None
    referral.household = "; ".join(household) or None
    referral.adults = [a for a in adults.values() if a.name]
    referral.children = _children([e for e in entries if e.key in CHILD_KEYS])
    referral.missing = missing_fields(referral)
    return referral


def missing_fields(referral: Referral) -> list[str]:
    found: list[str] = []
    if not referral.children:  # no child on the form: nothing about them is known
        found += ["child name", "date of birth or expected date", "address"]
    for index, child in enumerate(referral.children, start=1):
        prefix = f"child {index}: " if len(referral.children) > 1 else ""
        if not child.given_name and not child.family_name and not child.unborn:
            found.append(prefix + "child name")
        if not child.date_of_birth and not child.expected_date:
            found.append(prefix + "date of birth or expected date")
        if not child.address:
            found.append(prefix + "address")
    if not referral.referrer.name:
        found.append("referrer name")
    if not (referral.referrer.email or referral.referrer.phone):
        found.append("referrer email or phone")
    if not referral.concern:
        found.append("concern")
    if not referral.categories:
        found.append("categories")
    if referral.immediate_risk is None:
        found.append("immediate risk")
    if referral.parents_aware is None:
        found.append("parents aware")
    if not referral.consent:
        found.append("consent")
    if not referral.household:
        found.append("carer")
    return found
