"""Reading a professional's reply for disagreement: explicit, phrased, or negated."""

from __future__ import annotations

import pytest

from gateway.inbound.disagreement import disagreement

CASES = [
    ("DISAGREE\nThe child told us again today.", "DISAGREE"),
    ("\n\nDISAGREE: the bruising is new", "DISAGREE"),
    ("I disagree with the outcome: the bruising is the third this term.", "I disagree"),
    ("We strongly disagree with this.", "We strongly disagree"),
    ("We do not agree with your decision.", "We do not agree with"),
    ("I would like to challenge the decision made yesterday.", "challenge the decision"),
    ("Please review the decision; new information attached.", "review the decision"),
    ("I will escalate this to our named nurse.", "escalate"),
    ("This is a professional disagreement under the CHSCP policy.", "professional disagreement"),
    ("Not happy with the outcome at all.", "Not happy with the outcome"),
    ("Thank you for letting me know. No need to escalate.", None),
    ("I don't disagree, thank you for the update.", None),
    ("Thanks, noted. We will keep monitoring.", None),
    ("disagree\nlower case is not the explicit form, and no phrase", None),
    ("The child's mother disagreed with the school about uniform.", None),
]


@pytest.mark.parametrize(("text", "found"), CASES)
def test_disagreement(text: str, found: str | None) -> None:
    got = disagreement(text)
    if found is None:
        assert got is None
    else:
        assert got is not None and got.lower() == found.lower()
