"""The one urgency screen: does this message say a child may be at risk now?

Every message about a child passes it: a new referral, a reply to one of our
acknowledgements or letters, a message quoting a reference, a partner's check reply, a
police notification. Signals, in order:

- the referral form's immediate-risk answer ("Immediate risk: yes");
- a partner's `RISK: INCREASED` first line, or `[URGENT]` in the subject;
- `[front_door] urgent_phrases` and `increased_risk_phrases` in the subject or new text.

Phrases match whole words, case-insensitively; the words of a phrase may be separated by
spaces or hyphens ("self harm" matches "self-harm"), and a word ending in `*` matches any
ending ("stab*" matches "stabbed", "stabbing"). A phrase is not a match when its clause
negates it just before ("there is no immediate danger", "not at immediate risk", "she has
never self-harmed") or a form-like answer follows it ("Immediate risk: No"). A sentence our
own letters carry ("If a child is in immediate danger, call 999") is never read as a worry.

Pure: text in, reasons out. False alarms cost a phone call; a missed one can cost a child,
so anything unclear (a question, a doubt) still counts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from email import message_from_bytes
from email.policy import default
from functools import lru_cache

from gateway.config.phrases import DEFAULT_INCREASED_RISK_PHRASES, DEFAULT_URGENT_PHRASES

__all__ = ["DEFAULT_INCREASED_RISK_PHRASES", "DEFAULT_URGENT_PHRASES", "Reason", "screen"]

_NEGATORS = frozenset(
    {
        "no",
        "not",
        "never",
        "without",
        "nor",
        "neither",
        "none",
        "denies",
        "denied",
        "deny",
        "cannot",
        "nothing",
    }
)
# "No one is looking after him" is not a denial of what follows.
_NOT_NEGATING = re.compile(r"^(one|body|adult)$")
NEGATION_WINDOW = 4  # words before a phrase that can negate it, within its clause
_CLAUSE_END = re.compile(r"[.!?;:,\n]|\bbut\b|\bhowever\b|\bthough\b", re.I)
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_ANSWER_NO = re.compile(r"^\s*(?:[:?=\-\u2013\u2014]|\bis\b)?\s*(?:no|none|nil|n/a|not)\b", re.I)
# Our own letters' safety line, quoted back in a reply: never a worry of the writer's.
_OUR_LINES = re.compile(
    r"if (?:a|the|any) (?:child|children) (?:is|are) in immediate danger,?\s*"
    r"(?:please )?(?:call|dial|ring) 999\.?",
    re.I,
)
_RISK_LINE = re.compile(r"^\s*risk\s*:\s*increased\b", re.I)
_URGENT_TAG = re.compile(r"\[urgent\]", re.I)


@dataclass(frozen=True)
class Reason:
    """One thing that made a message urgent: which signal, and the text that matched."""

    signal: str  # "immediate-risk", "risk-line", "urgent-tag", "urgent-phrase", "increased-risk"
    matched: str
    why: str

    def as_json(self) -> dict[str, str]:
        return {"signal": self.signal, "matched": self.matched, "why": self.why}


def _normalise(text: str) -> str:
    return text.replace("\u2019", "'").replace("\u2018", "'").replace("\u00a0", " ")


@lru_cache(maxsize=64)
def _pattern(phrase: str) -> re.Pattern[str]:
    words = [w for w in re.split(r"[\s\-]+", _normalise(phrase).strip().lower()) if w]
    parts = []
    for word in words:
        if word.endswith("*"):
            parts.append(re.escape(word[:-1]) + r"[\w']*")
        else:
            parts.append(re.escape(word))
    body = r"[\s\-]+".join(parts)
    return re.compile(rf"(?<![\w']){body}(?![\w])", re.I)


def negated(text: str, start: int, end: int) -> bool:
    """Whether the clause around text[start:end] denies it."""
    clause_start = 0
    for found in _CLAUSE_END.finditer(text, 0, start):
        clause_start = found.end()
    before = _WORD.findall(text[clause_start:start].lower())[-NEGATION_WINDOW:]
    for index, word in enumerate(before):
        following = before[index + 1] if index + 1 < len(before) else ""
        if word.endswith("n't") or word in _NEGATORS:
            if word == "no" and _NOT_NEGATING.match(following):
                continue
            return True
    return bool(_ANSWER_NO.match(text[end : end + 12]))


def find_phrases(text: str, phrases: Iterable[str], *, negation: bool = True) -> list[str]:
    """The phrases that occur in TEXT, not negated, as the text spells them, in list order."""
    text = _OUR_LINES.sub(" ", _normalise(text))
    found: list[str] = []
    for phrase in phrases:
        if not phrase.strip():
            continue
        for match in _pattern(phrase).finditer(text):
            if not (negation and negated(text, match.start(), match.end())):
                found.append(match.group(0))
                break
    return found


def screen(
    *,
    subject: str,
    text: str,
    urgent_phrases: Sequence[str],
    increased_risk_phrases: Sequence[str],
    immediate_risk: bool | None = None,
) -> list[Reason]:
    """Every reason this message is urgent (empty: it is not). TEXT is the new text only:
    the history a reply quotes has been read already."""
    reasons: list[Reason] = []
    if immediate_risk:
        reasons.append(
            Reason("immediate-risk", "immediate risk: yes", "the form says immediate risk")
        )
    if found := _URGENT_TAG.search(subject or ""):
        reasons.append(Reason("urgent-tag", found.group(0), "[URGENT] in the subject"))
    first = next((line for line in (text or "").splitlines() if line.strip()), "")
    if found := _RISK_LINE.match(first):
        reasons.append(Reason("risk-line", found.group(0).strip(), "it starts RISK: INCREASED"))
    haystack = f"{subject or ''}\n{text or ''}"
    seen: set[str] = set()
    for signal, phrases, what in (
        ("urgent-phrase", urgent_phrases, "it says"),
        ("increased-risk", increased_risk_phrases, "it says"),
    ):
        for matched in find_phrases(haystack, phrases):
            key = matched.lower()
            if key not in seen and not any(key in r.matched.lower() for r in reasons):
                seen.add(key)
                reasons.append(Reason(signal, matched, f"{what} {matched!r}"))
    return reasons


_HINT_LIMIT = 65536


def urgent_hint(raw: bytes, urgent_phrases: Sequence[str], risk: Sequence[str]) -> bool:
    """A cheap first look at raw bytes, for the order of work only (never a decision): mail
    that looks urgent is processed before routine mail queued ahead of it."""
    try:
        message = message_from_bytes(raw[: _HINT_LIMIT * 4], policy=default)
        subject = str(message.get("Subject", "") or "")
        chunks: list[str] = []
        for part in message.walk():
            if part.get_content_maintype() == "text":
                payload = part.get_payload(decode=True)
                if isinstance(payload, bytes):
                    chunks.append(payload[:_HINT_LIMIT].decode("utf-8", "replace"))
        text = "\n".join(chunks)
    except Exception:  # noqa: BLE001 - a hint: hostile bytes just are not urgent-looking
        return False
    if re.search(r"immediate\s+risk[^\n]{0,40}?[:\-]\s*yes\b", text, re.I):
        return True
    return bool(
        screen(
            subject=subject,
            text=text,
            urgent_phrases=urgent_phrases,
            increased_risk_phrases=risk,
        )
    )
