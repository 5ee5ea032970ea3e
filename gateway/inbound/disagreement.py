"""Reading a professional's reply for disagreement with a MASH decision (protocol section 5).

Pure text: the new text of a reply (above any quoted history). The explicit form is the
word `DISAGREE` alone at the start of the first non-blank line; otherwise ordinary phrases
("I disagree", "challenge the decision", "escalate", "review the decision"), not when
negated ("no need to escalate", "I don't disagree").
"""

from __future__ import annotations

import re

_EXPLICIT = re.compile(r"^DISAGREE\b")
_PHRASES = re.compile(
    r"\b("
    r"(i|we) (strongly |respectfully |completely |fully )?disagree|"
    r"(i|we) (do not|don't|cannot|can't|can not) agree with|"
    r"not (happy|satisfied|content) with (the|this|your) (decision|outcome)|"
    r"(challenge|dispute|contest|question|appeal) (the|this|your|that) (decision|outcome)|"
    r"escalat(e|ing|ion)|"
    r"professional disagreement|"
    r"(review|reconsider|revisit) (the|this|your|that) (decision|outcome)|"
    r"(decision|outcome) (should|must|needs to) be (reviewed|reconsidered)"
    r")\b",
    re.I,
)
_NEGATION = re.compile(
    r"\b(no need to|not need to|don't need to|do not need to|not going to|won't|will not|"
    r"don't|do not|not|never|no)\s+(\w+\s+){0,2}$",
    re.I,
)


def disagreement(text: str) -> str | None:
    """The words that show disagreement (or "DISAGREE"), None when there are none."""
    lines = [line for line in text.splitlines() if line.strip()]
    if lines and _EXPLICIT.match(lines[0].strip()):
        return "DISAGREE"
    flat = " ".join(text.split())
    for found in _PHRASES.finditer(flat):
        before = flat[max(0, found.start() - 40) : found.start()]
        if _NEGATION.search(before):
            continue
        return found.group(0)
    return None
