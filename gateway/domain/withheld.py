"""Why a manager withholds an outcome letter, as a category the steering group can count.

The manager's reason stays free text on the decision and in the ledger, never published; the
category is one of a short fixed list, so the report can say how often each kind of reason
keeps a referrer from hearing the outcome without giving anyone's words away.
"""

from __future__ import annotations

WITHHELD = {
    "risk-to-child": "telling the referrer could put the child at risk",
    "investigation": "the letter could prejudice a police or other investigation",
    "third-party": "the letter would give away information about someone else",
    "told-another-way": "the referrer was told another way (by phone or at a meeting)",
    "other": "another reason, given in words",
}
# A withheld letter recorded with no category (before categories, or none was given).
NOT_GIVEN = "not given"


def category(text: str | None) -> str | None:
    """A category named as a manager would type it (`Investigation`, `third party`), or None
    when TEXT names none of them."""
    word = "-".join((text or "").lower().replace("_", " ").replace("-", " ").split())
    return word if word in WITHHELD else None
