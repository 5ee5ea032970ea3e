"""The labels referral forms use for each field, and how a label is reduced to its key."""

from __future__ import annotations

import re
import unicodedata

CHILD_FIELDS = {
    "child_name": (
        "child's name",
        "childs name",
        "name of child",
        "child/young person's full name",
        "child young person's full name",
        "child/young person's name",
        "child name",
        "young person's name",
        "full name of child",
    ),
    "given_name": (
        "child's first name",
        "child's given name",
        "first name",
        "given name",
        "forename",
    ),
    "family_name": (
        "child's surname",
        "child's family name",
        "surname",
        "family name",
        "last name",
    ),
    "date_of_birth": (
        "date of birth",
        "dob",
        "d.o.b",
        "d.o.b.",
        "child's date of birth",
        "child's dob",
    ),
    "expected_date": ("expected date of delivery", "edd", "due date", "expected due date"),
    "gender": ("gender", "sex", "child's gender"),
    "address": ("address", "child's address", "home address", "current address"),
    "postcode": ("postcode", "post code", "child's postcode"),
    "nhs_number": ("nhs number", "nhs no", "nhs no.", "child's nhs number"),
    "school": ("school", "school/nursery", "school or nursery", "education setting"),
    "gp": ("gp", "gp practice", "gp surgery", "child's gp"),
}
REFERRER_FIELDS = {
    "referrer_name": (
        "referrer's name",
        "referrer name",
        "your name",
        "name of referrer",
        "referrer",
    ),
    "referrer_role": ("referrer's role", "role", "job title", "your role", "referrer role"),
    "referrer_agency": (
        "agency",
        "organisation",
        "referrer's agency",
        "referring agency",
        "organisation/agency",
        "your organisation",
    ),
    "referrer_email": (
        "referrer's email",
        "email",
        "email address",
        "your email",
        "referrer email",
    ),
    "referrer_phone": (
        "referrer's phone",
        "phone",
        "telephone",
        "contact number",
        "your phone number",
        "phone number",
    ),
}
OTHER_FIELDS = {
    "concern": (
        "concern",
        "concerns",
        "what are you worried about",
        "reason for referral",
        "nature of concern",
        "details of concern",
        "what is the concern",
        "description of concerns",
    ),
    "categories": (
        "category",
        "categories",
        "category of concern",
        "type of concern",
        "concern categories",
    ),
    "immediate_risk": (
        "immediate risk",
        "is the child at immediate risk",
        "is the child at risk of immediate harm",
        "child at immediate risk",
        "immediate risk of harm",
    ),
    "parents_aware": (
        "parents aware",
        "parents/carers aware of referral",
        "parents/carers aware",
        "are parents aware of this referral",
        "parents aware of referral",
        "are parents/carers aware",
    ),
    "consent": (
        "consent",
        "parental consent",
        "consent given",
        "has consent been given",
        "consent to referral",
    ),
    "child_aware": ("child aware", "is the child aware", "child aware of referral"),
    "child_views": ("child's views", "childs views", "views of the child", "child's voice"),
    "child_consent": (
        "child's consent",
        "child consent",
        "young person's consent",
        "has the child consented",
        "does the child consent",
        "child's consent to referral",
    ),
    "household": (
        "household",
        "household members",
        "parents/carers",
        "parent/carer",
        "parents",
        "carers",
        "who lives with the child",
    ),
}
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
_ALIASES = {
    _label: key
    for table in (CHILD_FIELDS, REFERRER_FIELDS, OTHER_FIELDS)
    for key, labels in table.items()
    for _label in labels
}


def norm_label(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).replace("\u2019", "'").lower()
    text = re.sub(r"^\s*(child|young person)\s*\d+\s*[-:]?\s*", r"\1 ", text)
    text = re.sub(r"[?*:()]+", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def field_key(label: str) -> tuple[str | None, int | None]:
    """(canonical field, child number if the label numbered one) for a form label."""
    number = None
    numbered = re.match(r"^\s*(?:child|young person)\s*(\d+)\b", label, re.I)
    if numbered:
        number = int(numbered.group(1))
    norm = norm_label(label)
    key = _ALIASES.get(norm)
    if key is None and re.match(r"^(child|young person)\s+", norm):
        # "Child 2 DOB", "child dob" (a PDF field name): the child's own field.
        stripped = re.sub(r"^(child|young person)\s+", "", norm)
        key = _ALIASES.get(f"child's {stripped}") or (
            _ALIASES.get(stripped) if number is not None else None
        )
    return key, number


def yes_no(text: str | None) -> bool | None:
    if not text:
        return None
    word = text.strip().lower()
    if re.match(r"^(yes|y|true|aware|given)\b", word):
        return True
    if re.match(r"^(no|n|false|not)\b", word):
        return False
    return None


