"""The household a partner searches by: the adults the form names, with what identifies them.

Police and probation find their records by adults and addresses, not by the child alone, so
a check request names the parents, carers, household members and the alleged person where
the form names them. Only identifying details leave: a name, the relationship to the child, a
date of birth or age, an address. Free text ("Mother Jo Okafor (holds PR), father Dan
Okafor") is read word by word for those details and nothing else, so a narrative written
into the household box ("father drinks heavily") can never reach a partner.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from gateway.domain.formats import name_key, parse_date

# Longest first, so "step-father" wins over "father" and "foster carer" over "carer".
RELATIONSHIPS = (
    "mother's partner",
    "father's partner",
    "special guardian",
    "foster carer",
    "step-mother",
    "step-father",
    "stepmother",
    "stepfather",
    "half-brother",
    "half-sister",
    "grandmother",
    "grandfather",
    "girlfriend",
    "boyfriend",
    "guardian",
    "partner",
    "husband",
    "mother",
    "father",
    "sibling",
    "brother",
    "sister",
    "cousin",
    "lodger",
    "carer",
    "uncle",
    "aunt",
    "gran",
    "nan",
    "mum",
    "dad",
    "wife",
)
_CANONICAL = {"mum": "mother", "dad": "father", "gran": "grandmother", "nan": "grandmother"}
_RELATIONSHIP = re.compile(
    r"(?<![\w'-])(" + "|".join(re.escape(r) for r in RELATIONSHIPS) + r")(?![\w-])", re.I
)
_DATE = re.compile(
    r"\b(\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[/.\-]\d{1,2}[/.\-](?:\d{4}|\d{2})|"
    r"\d{1,2}(?:st|nd|rd|th)?\s+[A-Za-z]{3,9}\.?,?\s+\d{4})\b"
)
_AGE = re.compile(r"\((\d{1,2})\)|\baged?\s+(\d{1,2})\b|\b(\d{1,2})\s*(?:years?|yrs?|y/?o)\b", re.I)
# A name: capitalised words (any script's capitals; O'Brien, Brontë-Smith, McDonald).
_WORD = r"[^\W\d_][\w'\u2019-]*"
_TITLES = {"mr", "mrs", "ms", "miss", "mx", "dr"}
# Capitalised words that are never part of a person's name in a household box.
_NOT_NAMES = {
    "dob",
    "d.o.b",
    "born",
    "pr",
    "holds",
    "has",
    "parental",
    "responsibility",
    "age",
    "aged",
    "unknown",
    "not",
    "known",
    "lives",
    "living",
    "with",
    "and",
    "the",
    "of",
    "her",
    "his",
    "their",
    "at",
    "same",
    "address",
    "alleged",
    "perpetrator",
    "pregnant",
    "no",
    "yes",
    "n/a",
    "none",
    "other",
    "household",
    "members",
    "member",
    "parents",
    "carers",
    "children",
    "child",
}


def _split(text: str) -> list[str]:
    """Entries of a household box: lines, semicolons and commas outside brackets."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        if char in "([":
            depth += 1
        elif char in ")]":
            depth = max(0, depth - 1)
        if (char in ",;\n" and depth == 0) or char == "\n":
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def _is_name_word(word: str) -> bool:
    bare = word.strip("'\u2019-").lower()
    if not bare or bare in _NOT_NAMES or bare in _TITLES or _RELATIONSHIP.fullmatch(bare):
        return False
    first = unicodedata.normalize("NFC", word)[0]
    return first.isupper()


def _runs(entry: str) -> list[tuple[int, int, list[str]]]:
    """(start, end, words) of each run of capitalised words joined only by spaces."""
    runs: list[tuple[int, int, list[str]]] = []
    current: list[re.Match[str]] = []
    for match in re.finditer(_WORD, entry):
        joined = current and not entry[current[-1].end() : match.start()].strip()
        if _is_name_word(match.group(0)):
            if current and not joined:
                runs.append((current[0].start(), current[-1].end(), [m.group(0) for m in current]))
                current = []
            current.append(match)
            continue
        if current:
            runs.append((current[0].start(), current[-1].end(), [m.group(0) for m in current]))
        current = []
    if current:
        runs.append((current[0].start(), current[-1].end(), [m.group(0) for m in current]))
    return runs


def _name(entry: str, relation_end: int | None) -> str | None:
    """The first run of two or more capitalised words (names come first in a household
    entry; words after it are not read); a single word only straight after the relationship
    ("Mother Ama"), where it cannot be a sentence's first word."""
    for start, _end, words in _runs(entry):
        after_relation = relation_end is not None and not entry[relation_end:start].strip(
            " :-\u2013"
        )
        if len(words) == 1 and not after_relation:
            continue
        return " ".join(words)
    return None


def adults_from_text(text: str | None) -> list[dict[str, Any]]:
    """The named adults of a free-text household box, identifying details only."""
    adults: list[dict[str, Any]] = []
    for entry in _split(text or ""):
        relation = _RELATIONSHIP.search(entry)
        relationship = None
        if relation is not None:
            word = relation.group(1).lower()
            relationship = _CANONICAL.get(word, word)
        dates = [parse_date(m.group(1)) for m in _DATE.finditer(entry)]
        born = next((d for d in dates if d is not None), None)
        # Dates blanked with spaces of the same length, so positions still line up.
        stripped = _DATE.sub(lambda m: " " * len(m.group(0)), entry)
        age = next((int(next(g for g in m.groups() if g)) for m in _AGE.finditer(stripped)), None)
        found = {
            "name": _name(stripped, relation.end() if relation else None),
            "relationship": relationship,
            "date_of_birth": born.isoformat() if born else None,
            "age": age if born is None else None,
            "address": None,
            "alleged": bool(re.search(r"\balleged\b", entry, re.I)),
        }
        if found["name"] is None:
            # "Dan Okafor, father, 14/05/1985": the details after a comma are his.
            if adults:
                _fill(adults[-1], found)
            continue
        adults.append(found)
    return adults


def _fill(known: dict[str, Any], more: dict[str, Any]) -> None:
    for field in ("relationship", "date_of_birth", "age", "address"):
        known[field] = known[field] or more[field]
    if known["date_of_birth"]:
        known["age"] = None
    known["alleged"] = known["alleged"] or more["alleged"]


def _clean(adult: dict[str, Any]) -> dict[str, Any] | None:
    """A labelled adult from the form, reduced to the same identifying fields."""
    name = " ".join(str(adult.get("name") or "").split())
    if not name:
        return None
    born = adult.get("date_of_birth")
    relationship = adult.get("relationship")
    if isinstance(relationship, str):
        found = _RELATIONSHIP.search(relationship)
        if found is not None:
            relationship = _CANONICAL.get(found.group(1).lower(), found.group(1).lower())
        else:
            relationship = relationship.strip().lower()[:40] or None
    return {
        "name": name[:120],
        "relationship": relationship,
        "date_of_birth": born if isinstance(born, str) else None,
        "age": None,
        "address": (" ".join(str(adult.get("address") or "").split()) or None),
        "alleged": bool(adult.get("alleged")),
    }


def _address(child: dict[str, Any]) -> str:
    address = " ".join(str(child.get("address")).split())
    postcode = " ".join(str(child.get("postcode") or "").split())
    if postcode and postcode.replace(" ", "").lower() not in address.replace(" ", "").lower():
        address = f"{address}, {postcode}"
    return address


def household(referral: dict[str, Any] | None) -> dict[str, Any]:
    """{"adults": [...], "address": the household's address} for a check request.

    Adults from the form's labelled fields come first; the household box adds the ones it
    names that the labels did not (matched by name, case, accents and order ignored)."""
    referral = referral or {}
    found: dict[str, dict[str, Any]] = {}
    labelled = [a for a in (_clean(x) for x in referral.get("adults") or []) if a is not None]
    for adult in [*labelled, *adults_from_text(referral.get("household"))]:
        key = name_key(adult["name"], None)
        if key in found:
            _fill(found[key], adult)
            continue
        found[key] = adult
    children = referral.get("children") or []
    address = next((_address(c) for c in children if c.get("address")), None)
    return {"adults": list(found.values()), "address": address}
