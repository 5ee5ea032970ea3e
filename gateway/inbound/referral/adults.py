"""The form's labelled adults: parents, carers and the alleged person.

Only identifying details are read (name, date of birth, relationship, address): partners
search their records by adults and addresses. Which adult a label is about ("Parent/carer 2
name", "Father's DOB", "Alleged perpetrator") decides the slot it fills.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from gateway.domain.formats import parse_date


@dataclass
class Adult:
    name: str | None = None
    relationship: str | None = None
    date_of_birth: str | None = None
    address: str | None = None
    alleged: bool = False


_WHO = (
    # (pattern for the person part of the label, slot, relationship, alleged)
    (
        r"(?:name of )?(?:the )?alleged (?:perpetrator|abuser|person)(?:'s)?"
        r"|person alleged to have caused (?:the )?harm",
        "alleged",
        None,
        True,
    ),
    (r"(?:name of )?mother(?:'s)?", "mother", "mother", False),
    (r"(?:name of )?father(?:'s)?", "father", "father", False),
    (r"(?:name of )?(?:the )?parent/carer(?:'s)?\s*(\d)?", "parent", None, False),
    (r"(?:name of )?(?:the )?parent or carer(?:'s)?\s*(\d)?", "parent", None, False),
)
_FIELDS = (
    (r"(?:full )?name", "name"),
    (r"date of birth|dob|d\.o\.b\.?", "date_of_birth"),
    (r"relationship(?: to (?:the )?child)?", "relationship"),
    (r"(?:home )?address", "address"),
)


def _norm(label: str) -> str:
    text = unicodedata.normalize("NFKC", label).replace("\u2019", "'").lower()
    text = re.sub(r"[?*:()]+", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def adult_field(label: str) -> tuple[str, str, str | None, bool] | None:
    """(slot, field, relationship, alleged) for an adult's label, else None.

    "Alleged perpetrator" alone is the name; "Name of parent/carer 2" the second parent."""
    norm = _norm(label)
    for who, slot, relationship, alleged in _WHO:
        for what, field in _FIELDS:
            for pattern in (rf"(?:{who})\s+(?:{what})", rf"(?:{what})\s+of\s+(?:{who})"):
                found = re.fullmatch(pattern, norm)
                if found is not None:
                    number = next((g for g in found.groups() if g), "")
                    return f"{slot}{number}", field, relationship, alleged
        found = re.fullmatch(rf"(?:{who})", norm)
        if found is not None and alleged:
            return slot, "name", relationship, alleged
    return None


def set_adult(adults: dict[str, Adult], label: str, value: str) -> bool:
    """Fill the labelled adult's field; False when the label is not about an adult."""
    key = adult_field(label)
    if key is None:
        return False
    slot, field, relationship, alleged = key
    while slot in adults and getattr(adults[slot], field) not in (None, False):
        slot += "+"  # "Parent/carer name" again, unnumbered: the next parent's block
    adult = adults.setdefault(slot, Adult(relationship=relationship, alleged=alleged))
    if field == "date_of_birth":
        parsed = parse_date(value)
        adult.date_of_birth = parsed.isoformat() if parsed else None
    else:
        setattr(adult, field, " ".join(value.split())[:200] or None)
    return True


_CHILD_CONSENT = {
    "child's consent",
    "child consent",
    "young person's consent",
    "has the child consented",
    "does the child consent",
    "child's consent to referral",
    "has the young person consented",
}


def is_child_consent(label: str) -> bool:
    """The child's (or young person's) own consent, asked apart from the parents' (protocol 7)."""
    return _norm(label).rstrip(" ?") in _CHILD_CONSENT
