"""Read a MASH referral form from an e-mail: labelled lines, an HTML table, or an attached
Word or PDF form, whichever holds more of it.

Pure: bytes in, a `Referral` out. `layout` turns a body or a document into lines and table
rows, `labels` names each label's field and owner, `reader` follows sections and tables,
`answers` and `names` read the values, `model` builds the referral. Dates are UK day-first;
NHS numbers are checked with their modulus-11 digit.
"""

from __future__ import annotations

import re
from email.message import EmailMessage, Message

from gateway.inbound.referral.attached_forms import attached_forms
from gateway.inbound.referral.bodies import body_texts
from gateway.inbound.referral.layout import Item, Row, html_items, text_items
from gateway.inbound.referral.model import (
    Child,
    Referral,
    Referrer,
    build,
    missing_fields,
)
from gateway.inbound.referral.reader import read

__all__ = [
    "Child",
    "Referral",
    "Referrer",
    "is_forwarded",
    "looks_like_referral",
    "missing_fields",
    "parse_items",
    "parse_referral",
]


def parse_items(items: list[Item]) -> Referral:
    """A referral from a form's layout: its lines and table rows in order."""
    return build(read(items))


def parse_referral(message: EmailMessage | Message) -> Referral:
    """The form from the body (HTML or labelled lines) or an attached .docx/PDF form,
    whichever holds more of it."""
    plain, html = body_texts(message)
    candidates = []
    if html:
        candidates.append(parse_items(html_items(html)))
    if plain.strip() or not html:
        candidates.append(parse_items(list(text_items(plain))))
    best = max(candidates, key=lambda r: r.recognised)  # the first of equals: the HTML
    problems = []
    for form in attached_forms(message):
        if form.problem:
            problems.append(f"{form.filename}: {form.problem}")
            continue
        items: list[Item] = list(form.items) or [
            *text_items(form.text),
            *(Row(pair) for pair in form.pairs),
        ]
        candidate = parse_items(items)
        if candidate.recognised > best.recognised:
            best = candidate
            best.form = form.filename
    best.attachment_problems = problems
    best.forwarded = is_forwarded(message, plain)
    return best


_FORWARD_SUBJECT = re.compile(r"^\s*(?:fwd?|fw)\s*:", re.I)
_FORWARD_BODY = re.compile(
    r"-{2,}\s*(?:forwarded message|original message)\s*-{2,}|^begin forwarded message:",
    re.I | re.M,
)


def is_forwarded(message: Message, plain: str) -> bool:
    """Passed on by a colleague: a Fwd/FW subject, a forward marker, or an attached message."""
    if _FORWARD_SUBJECT.match(str(message.get("Subject", "") or "")):
        return True
    if _FORWARD_BODY.search(plain):
        return True
    return any(part.get_content_type() == "message/rfc822" for part in message.walk())


def looks_like_referral(referral: Referral) -> bool:
    """Enough of the form to be one: a child and a concern or several recognised fields."""
    return bool(referral.children) and (referral.concern is not None or referral.recognised >= 4)


