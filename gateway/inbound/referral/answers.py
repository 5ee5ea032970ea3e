"""Reading the answers people write into forms: yes/no in its many shapes, dates in words,
contact details, placeholders Word leaves in untouched fields."""

from __future__ import annotations

import re
from datetime import date

from gateway.domain.formats import parse_date

# Untouched Word content controls and "please tick" leftovers are no answer.
_PLACEHOLDER = re.compile(
    r"^\s*(?:click (?:or tap )?here to enter (?:text|a date)\.?|choose an item\.?"
    r"|select (?:gender|an option|one)\.?|enter text\.?|please (?:select|specify|tick)\.?"
    r"|do not leave blank\.?|\[?\s*(?:dd|d)\s*/\s*(?:mm|m)\s*/\s*(?:yyyy|yy)\s*\]?"
    r"|_+|\.{3,}|…+|-+)\s*$",
    re.I,
)
_UNKNOWN = re.compile(
    r"^\s*(?:n/?a|not known|unknown|not applicable|unsure|not sure|don'?t know|do not know"
    r"|tbc|to be confirmed|none|nil|\?+)\s*[.!]?\s*$",
    re.I,
)


def clean_value(text: str) -> str:
    """The value without leading separators and with Word's placeholders removed."""
    value = text.strip().lstrip(":-\u2013\u2014").strip()
    return "" if _PLACEHOLDER.match(value) else value


def is_unknown(text: str) -> bool:
    return bool(_UNKNOWN.match(text))


_MARKED = "☒☑✓✔✗✘■⊠x"
_BOX = re.compile(
    rf"(?:\b(?P<a>yes|no|y|n)\b\s*[:\-]?\s*(?P<am>[{_MARKED}☐□\[\]( )]+)"
    rf"|(?P<bm>[{_MARKED}☐□]|\[[ x]\])\s*(?P<b>yes|no|y|n)\b)",
    re.I,
)
_YES = re.compile(
    r"^(?:yes|y|yeah|yep|true|aware|informed|given|agreed|obtained|confirmed|consented)\b", re.I
)
_NO = re.compile(r"^(?:no|n|false|not|none|refused|declined|unaware)\b", re.I)
_BOTH = re.compile(
    r"^\s*(?:yes|y)\s*[/|]\s*(?:no|n)\b(?:\s*[/|]\s*(?:n/?a|not known|unknown))?\s*$", re.I
)


def _marked(mark: str) -> bool:
    return any(ch in _MARKED for ch in mark.lower()) or "[x]" in mark.lower()


def yes_no(text: str | None) -> bool | None:
    """Yes, Y, "Yes - mother told by phone", "Yes ☒ No ☐", "[x] No"; None when unanswered
    ("Yes / No", "Y/N", "Not known")."""
    if not text:
        return None
    value = clean_value(text)
    if not value or is_unknown(value) or _BOTH.match(value):
        return None
    ticked = set()
    boxes = 0
    for match in _BOX.finditer(value):
        word = (match.group("a") or match.group("b") or "").lower()[:1]
        mark = match.group("am") or match.group("bm") or ""
        if not mark.strip():
            continue
        boxes += 1
        if _marked(mark):
            ticked.add(word)
    if boxes:
        if ticked == {"y"}:
            return True
        if ticked == {"n"}:
            return False
        if boxes >= 2 or ticked:
            return None
    if _YES.match(value):
        return True
    if _NO.match(value):
        return False
    return None


_MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]
_ORDINAL_WORDS = {
    word: number
    for number, word in enumerate(
        [
            "first",
            "second",
            "third",
            "fourth",
            "fifth",
            "sixth",
            "seventh",
            "eighth",
            "ninth",
            "tenth",
            "eleventh",
            "twelfth",
            "thirteenth",
            "fourteenth",
            "fifteenth",
            "sixteenth",
            "seventeenth",
            "eighteenth",
            "nineteenth",
            "twentieth",
        ],
        1,
    )
}
_ORDINAL_WORDS |= {f"twenty {w}": 20 + n for w, n in list(_ORDINAL_WORDS.items())[:9]}
_ORDINAL_WORDS |= {"thirtieth": 30, "thirty first": 31}
_MONTH = (
    r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_DAY_FIRST = re.compile(
    rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s*(?:of\s+)?[\s\-/.]?{_MONTH}\.?[\s\-/.,]+(\d{{4}}|\d{{2}})\b"
)
_MONTH_FIRST = re.compile(rf"\b{_MONTH}\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b")
_NUMERIC = re.compile(r"\b(\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[/.\-]\d{1,2}[/.\-](?:\d{4}|\d{2}))\b")
_WORD_DAY = re.compile(
    r"\b("
    + "|".join(sorted(_ORDINAL_WORDS, key=len, reverse=True))
    + r")\s+(?:of\s+)?"
    + _MONTH
    + r",?\s+(\d{4})\b"
)


def _month(name: str) -> int:
    return next(i for i, m in enumerate(_MONTHS, 1) if m.startswith(name[:3]))


def _make(year: int, month: int, day: int) -> date | None:
    if year < 100:
        year += 2000 if year <= 50 else 1900
    try:
        return date(year, month, day)
    except ValueError:
        return None


def read_date(text: str) -> date | None:
    """A date written anywhere in the value, UK day-first: "03/04/2019", "3rd March 2010",
    "Tuesday 3rd of March 2010", "March 3rd, 2010", "third of March 2010", "03-Mar-10",
    "05/06/2012 (age 13)"."""
    value = text.strip()
    whole = parse_date(value)
    if whole is not None:
        return whole
    lower = re.sub(r"[\u2010-\u2015]", "-", value.lower()).replace("twenty-", "twenty ")
    lower = lower.replace("thirty-", "thirty ")
    if match := _NUMERIC.search(lower):
        return parse_date(match.group(1))
    if match := _DAY_FIRST.search(lower):
        return _make(int(match.group(3)), _month(match.group(2)), int(match.group(1)))
    if match := _MONTH_FIRST.search(lower):
        return _make(int(match.group(3)), _month(match.group(1)), int(match.group(2)))
    if match := _WORD_DAY.search(lower):
        return _make(int(match.group(3)), _month(match.group(2)), _ORDINAL_WORDS[match.group(1)])
    return None


_EXPECTED = re.compile(r"\b(edd|due|expected|estimated delivery|unborn|pregnan\w*)\b", re.I)


def says_expected(text: str) -> bool:
    """A date-of-birth-or-EDD answer that names the due date ("EDD 1 July 2026")."""
    return bool(_EXPECTED.search(text))


EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_PHONE = re.compile(r"(?:\+44\s?|\b0)(?:[\d\s()\-]{8,16}\d)|\b(?:999|101|111)\b")


def email_in(text: str) -> str | None:
    match = EMAIL.search(text)
    return match.group(0) if match else None


def phone_in(text: str) -> str | None:
    match = _PHONE.search(EMAIL.sub(" ", text))
    return re.sub(r"\s+", " ", match.group(0)).strip() if match else None
