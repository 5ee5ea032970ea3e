"""What an acknowledgement asks back, by who is asked.

A professional gets the missing fields by the names their own forms give them. A member of
the public is asked, in plain words, only what they can tell: the child's name if they know
it, where the child lives, what happened and when; never the form's categories, consent or
the referrer's details. Nobody is asked to email whether a child is at immediate risk: an
answer to that must never wait in a mailbox, so the letter says to call 999 or the
out-of-hours number instead.
"""

from __future__ import annotations

import re

IMMEDIATE_RISK = "immediate risk"

# The `missing` names (as stored on the contact) in the words of a referral form.
FORM_NAMES = {
    "child name": "Child's full name",
    "date of birth or expected date": (
        "Child's date of birth (or the expected date of delivery for an unborn baby)"
    ),
    "address": "Child's home address and postcode",
    "referrer name": "Referrer's name",
    "referrer email or phone": "Referrer's email address or telephone number",
    "concern": "Details of concerns: what has happened, when, and the impact on the child",
    "categories": "Category of concern (for example neglect, physical or emotional abuse)",
    "parents aware": "Are the parents/carers aware of this referral? (yes or no)",
    "consent": "Consent: given, refused or not sought, and who gave it",
    "carer": "Parents/carers: name and relationship to the child",
}
_PUBLIC = (
    ("child name", "the child's name, if you know it"),
    ("address", "where the child lives: the address, or the street and town if that is all"),
    ("concern", "what happened, and when"),
)
_CHILD_PREFIX = re.compile(r"^child (\d+): (.+)$")


def professional_asks(missing: list[str]) -> list[str]:
    """The missing fields by their form names, "Child 2: ..." for a second child; never the
    immediate-risk question (see `risk_unknown`)."""
    asks = []
    for item in missing:
        numbered = _CHILD_PREFIX.match(item)
        name = numbered.group(2) if numbered else item
        if name == IMMEDIATE_RISK:
            continue
        wording = FORM_NAMES.get(name, name)
        asks.append(f"Child {numbered.group(1)}: {wording}" if numbered else wording)
    return asks


def _unnumbered(item: str) -> str:
    numbered = _CHILD_PREFIX.match(item)
    return numbered.group(2) if numbered else item


def public_asks(missing: list[str]) -> list[str]:
    """Only what a member of the public can tell, once each, in plain words."""
    names = {_unnumbered(item) for item in missing}
    return [question for name, question in _PUBLIC if name in names]


def risk_unknown(missing: list[str]) -> bool:
    """The form did not say whether the child is at immediate risk."""
    return IMMEDIATE_RISK in missing
