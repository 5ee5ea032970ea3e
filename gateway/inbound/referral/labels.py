"""Which field a form's label names, and whose it is.

Real forms word the same field many ways ("Child's Full Name", "Name of child(ren)",
"D.O.B (DD/MM/YYYY)", "NHS Number (if known)", "E-mail"), and many use a bare "Name:" whose
owner only the section heading above it tells (CHILD, PARENT/CARER, REFERRER). A label is
read in three steps:

1. normalised: case, accents, apostrophes, brackets such as "(if known)", punctuation,
   plurals and "e-mail" go; "D.O.B." becomes "dob";
2. split into a *subject* (the child, a parent or carer, the referrer, someone else) and an
   *attribute* (name, date of birth, address...); a subject named in the label beats the
   section's;
3. the attribute is looked up exactly, then scored with rapidfuzz against the known
   wordings, so "Date of brith" or "Adress" still match.

A label whose own words name a parent, carer, referrer or another professional can never
become one of the child's fields, however well it scores: the fuzzy step only chooses among
the fields its subject allows.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz, process

from gateway.inbound.referral import vocabulary as v
from gateway.inbound.referral.adults import adult_field

CHILD, PARENT, REFERRER, OTHER = "child", "parent", "referrer", "other"

# Fields of the child (the keys of `Child`), of the referrer, and of the referral itself.
CHILD_KEYS = frozenset(
    {
        "child_name",
        "given_name",
        "family_name",
        "date_of_birth",
        "dob_or_edd",
        "expected_date",
        "gender",
        "address",
        "postcode",
        "nhs_number",
        "school",
        "gp",
    }
)
REFERRER_KEYS = frozenset(
    {
        "referrer_name",
        "referrer_given",
        "referrer_family",
        "referrer_role",
        "referrer_agency",
        "referrer_email",
        "referrer_phone",
        "referrer_contact",
    }
)
# A recognised label whose value the contact does not keep (ethnicity, age, date of
# referral...): still a label, so its value never runs on into the field above it.
IGNORED = "ignored"


@dataclass(frozen=True)
class Match:
    key: str | None  # a field key, IGNORED, or None when this is no label at all
    subject: str | None = None  # whose field: CHILD, PARENT, REFERRER, OTHER
    number: int | None = None  # "Child 2 DOB": the child's number on the form
    inverted: bool = False  # "Is the child safe now?": yes means no immediate risk
    score: float = 100.0  # 100 a known wording, >= 85 a near miss, 80 a keyword
    explicit: bool = False  # the label's own words name the subject

    @property
    def worded(self) -> bool:
        """Worded like a label (not only a keyword inside some value)."""
        return self.is_label and self.score >= 85

    @property
    def is_label(self) -> bool:
        return self.key is not None


NO_MATCH = Match(None)

_BRACKETS = re.compile(r"\([^()]*\)|\[[^\[\]]*\]")
_NUMBERED = re.compile(r"^\s*(?:child|young person|yp|sibling)\s*(\d{1,2})\b", re.I)
_KEEP_S = ("ss", "us", "is", "as", "os", "ys")


def _singular(word: str) -> str:
    if word in ("children", "childs"):
        return "child"
    if word in ("nos", "no's"):
        return "no"
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 5 and word.endswith("sses"):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(_KEEP_S):
        return word[:-1]
    return word


@lru_cache(maxsize=8192)
def normalise(label: str) -> str:
    """ "Child's Full Name (if known):" -> "child full name"; "D.O.B." -> "dob"."""
    text = unicodedata.normalize("NFKD", label)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = re.sub(r"[\u2018\u2019\u02bc`\u00b4]", "'", text)
    text = _BRACKETS.sub(" ", text)
    text = re.sub(r"\be\s*-?\s*mail", "email", text)
    text = re.sub(r"\bd\s*\.?\s*o\s*\.?\s*b\b\.?", "dob", text)
    text = re.sub(r"\be\s*\.\s*d\s*\.\s*d\b\.?", "edd", text)
    text = re.sub(r"\bn\s*\.\s*h\s*\.\s*s\b\.?", "nhs", text)
    text = re.sub(r"\ba\s*\.?\s*k\s*\.?\s*a\b\.?", "aka", text)
    text = re.sub(r"(\w)'s\b", r"\1", text)  # child's -> child
    text = re.sub(r"s'(?=\s|$)", "s", text)  # parents' -> parents
    text = re.sub(r"[^a-z0-9]+", " ", text)
    text = " ".join(_singular(word) for word in text.split())
    return re.sub(r"\byoung carer\b", "young person", text)  # the child who cares


_FUZZ_CUTOFF = 85.0
_ATTRIBUTE_OF = {wording: attr for attr, words in v.ATTRIBUTES.items() for wording in words}
_WORDINGS = tuple(_ATTRIBUTE_OF)
_VOCABULARY = frozenset(
    [
        *" ".join(_WORDINGS).split(),
        *("age", "m", "f", "y", "n", "or", "and", "no", "number", "child", "young", "person"),
    ]
)


_SUBJECT_SPELLINGS = (
    "referrer",
    "parent",
    "carer",
    "mother",
    "father",
    "guardian",
    "child",
    "household",
    "sibling",
    "person",
)
_KNOWN_WORDS = frozenset(
    [
        *_VOCABULARY,
        *v.FILLER,
        *v.HEADING_FILLER,
        *_SUBJECT_SPELLINGS,
        *("referred", "referral", "referring", "reference", "preferred", "parental"),
        *("maternal", "paternal", "carried", "career", "children", "relationship", "other"),
    ]
)


def _respell(norm: str) -> str:
    """Misspelt subject words put right ("Referer name"), so a misspelling cannot move a
    label from its owner to the child. Known words are never changed."""
    words = norm.split()
    for index, word in enumerate(words):
        if len(word) >= 5 and word not in _KNOWN_WORDS:
            best = process.extractOne(word, _SUBJECT_SPELLINGS, scorer=fuzz.ratio, score_cutoff=85)
            if best is not None:
                words[index] = best[0]
    return " ".join(words)


def subject_of(norm: str) -> str | None:
    """Whose field the label's own words name, if any."""
    text = v.YOU_OBJECT.sub(" ", v.OBJECT_CHILD.sub(" relationship ", norm))
    if v.REFERRER_RE.search(text):
        return REFERRER
    if v.PARENT_RE.search(text):
        return PARENT
    if v.OTHER_RE.search(text):
        return OTHER
    if v.CHILD_RE.search(text):
        return CHILD
    return None


def _attribute(rest: str, norm: str) -> tuple[str | None, float]:
    attr = _ATTRIBUTE_OF.get(rest)
    if attr is not None:
        return attr, 100.0
    if not rest or len(rest) > 48 or any(ch.isdigit() for ch in rest):
        return None, 0.0
    best = process.extractOne(rest, _WORDINGS, scorer=fuzz.ratio, score_cutoff=_FUZZ_CUTOFF)
    if best is not None:
        return _ATTRIBUTE_OF[best[0]], float(best[1])
    if v.QUESTION_START.match(norm) or v.KEYWORD_BLOCK.search(rest) or len(rest.split()) > 6:
        return None, 0.0
    for attr, pattern in v.KEYWORDS:
        if pattern.search(rest):
            return attr, 80.0
    return None, 0.0


def _strip_subject(norm: str) -> str:
    text = v.OBJECT_CHILD.sub(" relationship ", norm)
    text = v.SUBJECT_WORDS.sub(" ", text)
    return " ".join(w for w in text.split() if w not in v.FILLER)


def _question(norm: str) -> tuple[str | None, bool]:
    if v.HOUSEHOLD.search(norm) and not re.search(r"\b(aware|consent|view)\b", norm):
        return "household", False
    if v.CONCERN_FIRST.match(norm):
        return "concern", False
    if v.FOLLOW_UP.search(norm):
        return None, False
    for key, pattern in v.QUESTIONS:
        if pattern.search(norm):
            inverted = key == "immediate_risk" and bool(re.search(r"\bsafe\b", norm))
            return key, inverted
    return None, False


@lru_cache(maxsize=8192)
def match_label(label: str, section: str | None = None) -> Match:
    """The field LABEL names, read under SECTION (the heading above it), or NO_MATCH."""
    if len(label) > 200:
        return NO_MATCH
    numbered = _NUMBERED.match(label)
    number = int(numbered.group(1)) if numbered else None
    norm = normalise(label)
    if not norm or len(norm.split()) > 40:
        return NO_MATCH
    norm = re.sub(r"^(?:child|young person|yp|sibling) \d{1,2} ?", "child ", norm).strip()
    norm = re.sub(r"^(?:\d{1,2}[a-z]?|[a-h]) (?=\w)", "", norm)  # "1. Child's first name"
    norm = re.sub(r"^if unborn ", "", norm)  # "If unborn, estimated date of delivery?"
    norm = _respell(norm)
    subject = subject_of(norm)
    owner = subject or section
    if v.NOT_THIS.search(norm):
        return Match(IGNORED, owner, number)
    if (
        not v.HOUSEHOLD.search(norm)
        and not v.CONCERN_FIRST.match(norm)
        and v.FOLLOW_UP.search(norm)
    ):
        return Match(IGNORED, owner, number)  # "If no, why not?", "Who gave consent?"
    rest = _strip_subject(norm)
    attr, score = _attribute(rest, norm)
    if attr is not None:
        key = _field(attr, owner, explicit=subject is not None)
        if key is not None:
            if score < 85 and set(norm.split()) <= _VOCABULARY:
                score = 85.0  # "Age/DOB/EDD": nothing but label words
            return Match(key, owner, number, score=score, explicit=subject is not None)
    if v.REFERRER_NAME.match(norm):
        return Match("referrer_name", REFERRER, number, explicit=True)  # "Referred by:"
    if subject == PARENT and set(norm.split()) <= v.CARER_WORDS:
        return Match("household", PARENT, number)  # "Parents/carers:", "Parent/carer"
    question, inverted = _question(norm)
    if question is not None:
        return Match(question, owner, number, inverted, explicit=subject is not None)
    if v.IGNORED_WORDS.match(rest or norm) or v.FOLLOW_UP.search(norm):
        return Match(IGNORED, owner, number)
    if adult_field(label) is not None:
        return Match(IGNORED, PARENT, number)  # "Alleged perpetrator": read as an adult
    return NO_MATCH


_CHILD_ATTRS = {
    "given": "given_name",
    "family": "family_name",
    "name": "child_name",
    "dob": "date_of_birth",
    "dob_or_edd": "dob_or_edd",
    "edd": "expected_date",
    "nhs": "nhs_number",
    "address": "address",
    "postcode": "postcode",
    "gender": "gender",
    "school": "school",
    "gp": "gp",
}
_REFERRER_ATTRS = {
    "name": "referrer_name",
    "given": "referrer_given",
    "family": "referrer_family",
    "email": "referrer_email",
    "phone": "referrer_phone",
    "contact": "referrer_contact",
    "role": "referrer_role",
    "agency": "referrer_agency",
}
# With no subject in the label and no section above it, a bare attribute is read the way
# simple forms mean it: the child's details and the referrer's contact details; a bare
# "Name" could be anyone's, so it is nobody's.
_BARE = {
    **_CHILD_ATTRS,
    "name": IGNORED,
    **{k: f for k, f in _REFERRER_ATTRS.items() if k not in ("name", "given", "family")},
}


def _field(attr: str, owner: str | None, *, explicit: bool) -> str | None:
    if owner == CHILD:
        return _CHILD_ATTRS.get(attr, IGNORED)
    if owner == REFERRER:
        return _REFERRER_ATTRS.get(attr, IGNORED)
    if owner == PARENT:
        # A parent's or carer's name is the household's; never a child's field.
        return "household" if attr in ("name", "given", "family") else IGNORED
    if owner == OTHER:
        return "gp" if attr == "gp" and not explicit else IGNORED
    return _BARE.get(attr)


def looks_like_label(text: str) -> bool:
    """Exactly a label's wording ("Gender", "Date of birth"), as a header cell would be;
    answers that merely contain such words ("School nurse") are not."""
    norm = normalise(text)
    if norm in _ATTRIBUTE_OF:
        return True
    return bool(v.IGNORED_EXACT.match(norm))


def field_key(label: str, section: str | None = None) -> tuple[str | None, int | None]:
    """(canonical field, child number if the label numbered one) for a form label."""
    match = match_label(label, section)
    key = match.key if match.key != IGNORED else None
    return key, match.number


@lru_cache(maxsize=4096)
def heading_subject(line: str, *, strict: bool = False) -> str | None:
    """The subject a heading line starts (CHILD, PARENT, REFERRER, OTHER), or None when
    the line is no heading (narrative text stays narrative). STRICT, for lines not shaped
    like headings: only subject and filler words ("Children under 18 at this address")."""
    text = _BRACKETS.sub(" ", line).strip().rstrip(":").strip()
    text = v.HEADING_NUMBER.sub("", text, count=1)
    # "Child's details. Please gather this information...": the heading is the first part.
    text = re.split(r"\.(?=\s*[A-Z])", text, maxsplit=1)[0].strip()
    if not text or len(text) > 140 or text.endswith((".", ",", ";")):
        return None
    stripped = text
    norm = normalise(stripped or text)
    words = norm.split()
    if not words or len(words) > 16:
        return None
    if v.REFERRER_HEADING.match(norm):
        return REFERRER
    if v.CHILD_HEADING.match(norm):
        return CHILD
    if v.HOUSEHOLD.search(norm):
        return PARENT  # "Composition of family and who else lives at the child's address"
    subject = subject_of(norm)
    if subject is None:
        if v.GENERAL_HEADING.search(norm) and len(words) <= (3 if strict else 6):
            return OTHER
        return None
    leftover = [
        w
        for w in v.SUBJECT_WORDS.sub(" ", v.PARENT_RE.sub(" ", norm)).split()
        if w not in v.HEADING_FILLER
    ]
    return subject if len(leftover) <= (0 if strict else 2) else None
