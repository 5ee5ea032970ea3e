"""Splitting a child's name as written into given and family names, keeping the whole.

The whole name is kept as written (`full_name`); the split serves matching and letters, so it
follows how names are written on English forms: "SMITH, Jo" and "SMITH Jo" put the family
name first, "Jo Ann SMITH" marks it in capitals, "van der Berg" and "de Souza" keep their
particles, and otherwise the last word is the family name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gateway.inbound.referral.answers import is_unknown

_PARTICLES = frozenset(
    [
        "van",
        "von",
        "der",
        "den",
        "de",
        "del",
        "della",
        "da",
        "di",
        "du",
        "dos",
        "das",
        "le",
        "la",
        "al",
        "el",
        "bin",
        "binti",
        "ibn",
        "ben",
        "ap",
        "st",
        "st.",
        "mac",
        "ter",
        "ten",
    ]
)
_NICKNAME = re.compile(
    r"\s*(?:\((?:known as|aka|a\.k\.a\.?)?\s*[^()]*\)|\"[^\"]*\"|“[^”]*”)\s*", re.I
)
_UNBORN = re.compile(r"\bunborn\b|\bbaby of\b|\bnot yet born\b", re.I)


@dataclass(frozen=True)
class SplitName:
    given: str | None
    family: str | None
    full: str | None
    unborn: bool = False


def _caps(word: str) -> bool:
    letters = [ch for ch in word if ch.isalpha()]
    return len(letters) > 1 and all(ch.isupper() for ch in letters)


def split_name(value: str) -> SplitName:
    full = re.sub(r"\s+", " ", value).strip()
    if not full or is_unknown(full):
        return SplitName(None, None, None)
    unborn = bool(_UNBORN.search(full))
    if "," in full:  # "SMITH, Jo"
        family, _, given = full.partition(",")
        return SplitName(given.strip() or None, family.strip() or None, full, unborn)
    words = _NICKNAME.sub(" ", full).split() or full.split()
    if len(words) == 1:
        return SplitName(words[0], None, full, unborn)
    caps = [_caps(w) for w in words]
    if caps[0] and not all(caps):
        # "OKAFOR Amira" or "VAN DER BERG Mary": the capitals lead.
        end = next(i for i, c in enumerate(caps) if not c)
        return SplitName(" ".join(words[end:]), " ".join(words[:end]), full, unborn)
    if caps[-1] and not all(caps):
        start = len(words) - next(i for i, c in enumerate(reversed(caps)) if not c)
        return SplitName(" ".join(words[:start]), " ".join(words[start:]), full, unborn)
    for index in range(1, len(words) - 1):
        if words[index].lower() in _PARTICLES:
            return SplitName(" ".join(words[:index]), " ".join(words[index:]), full, unborn)
    return SplitName(" ".join(words[:-1]), words[-1], full, unborn)
