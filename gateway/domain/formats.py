"""Small formats shared by forms and registers: UK dates and NHS numbers."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from anyascii import anyascii

_MONTHS = {
    m: i
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}


def parse_date(text: str) -> date | None:
    """UK day-first: 03/04/2019, 3.4.19, 3 April 2019, 3rd Apr 2019, 2019-04-03."""
    text = text.strip().lower()
    if m := re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text):
        y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
    elif m := re.fullmatch(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})", text):
        d, mo, y = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if y < 100:
            y += 2000 if y <= 50 else 1900
    elif m := re.fullmatch(r"(\d{1,2})(?:st|nd|rd|th)?\s+([a-z]+)\.?,?\s+(\d{4})", text):
        d, y = int(m.group(1)), int(m.group(3))
        month = _MONTHS.get(m.group(2)[:3])
        if month is None:
            return None
        mo = month
    else:
        return None
    try:
        return date(y, mo, d)
    except ValueError:
        return None


def valid_nhs_number(text: str) -> bool:
    digits = re.sub(r"[\s-]", "", text)
    if not re.fullmatch(r"\d{10}", digits):
        return False
    total = sum(
        int(digit) * weight for digit, weight in zip(digits[:9], range(10, 1, -1), strict=True)
    )
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


def name_key(given: str | None, family: str | None) -> str:
    """Case, accents, hyphens, word order, script and zero-width characters do not matter:
    "Brontë-Smith, Zoë" matches "zoe bronte smith", "Мария Иванова" matches "Mariya Ivanova".
    Empty for a name with no letters or digits at all: an empty key never matches anything."""
    text = unicodedata.normalize("NFKC", f"{given or ''} {family or ''}")
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    # Transliterated, not stripped: a Cyrillic or Arabic name must not become the empty key.
    text = anyascii(text).casefold()
    words = re.findall(r"[a-z0-9]+", text.replace("'", ""))
    return " ".join(sorted(words))
