"""Read a MASH referral form from an e-mail body: labelled lines or an HTML table.

Pure: bytes in, a `Referral` out. Labels vary between forms, so each field has its variants;
dates are UK day-first; NHS numbers are checked with their modulus-11 digit.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass, field
from email.message import EmailMessage, Message
from email.utils import parseaddr
from html.parser import HTMLParser
from typing import Any

from gateway.domain.formats import parse_date, valid_nhs_number
from gateway.inbound.referral.attached_forms import attached_forms
from gateway.mail.addresses import single_address

CHILD_FIELDS = {
    "child_name": (
        "child's name",
        "childs name",
        "name of child",
        "child/young person's full name",
        "child young person's full name",
        "child/young person's name",
        "child name",
        "young person's name",
        "full name of child",
    ),
    "given_name": (
        "child's first name",
        "child's given name",
        "first name",
        "given name",
        "forename",
    ),
    "family_name": (
        "child's surname",
        "child's family name",
        "surname",
        "family name",
        "last name",
    ),
    "date_of_birth": (
        "date of birth",
        "dob",
        "d.o.b",
        "d.o.b.",
        "child's date of birth",
        "child's dob",
    ),
    "expected_date": ("expected date of delivery", "edd", "due date", "expected due date"),
    "gender": ("gender", "sex", "child's gender"),
    "address": ("address", "child's address", "home address", "current address"),
    "postcode": ("postcode", "post code", "child's postcode"),
    "nhs_number": ("nhs number", "nhs no", "nhs no.", "child's nhs number"),
    "school": ("school", "school/nursery", "school or nursery", "education setting"),
    "gp": ("gp", "gp practice", "gp surgery", "child's gp"),
}
REFERRER_FIELDS = {
    "referrer_name": (
        "referrer's name",
        "referrer name",
        "your name",
        "name of referrer",
        "referrer",
    ),
    "referrer_role": ("referrer's role", "role", "job title", "your role", "referrer role"),
    "referrer_agency": (
        "agency",
        "organisation",
        "referrer's agency",
        "referring agency",
        "organisation/agency",
        "your organisation",
    ),
    "referrer_email": (
        "referrer's email",
        "email",
        "email address",
        "your email",
        "referrer email",
    ),
    "referrer_phone": (
        "referrer's phone",
        "phone",
        "telephone",
        "contact number",
        "your phone number",
        "phone number",
    ),
}
OTHER_FIELDS = {
    "concern": (
        "concern",
        "concerns",
        "what are you worried about",
        "reason for referral",
        "nature of concern",
        "details of concern",
        "what is the concern",
        "description of concerns",
    ),
    "categories": (
        "category",
        "categories",
        "category of concern",
        "type of concern",
        "concern categories",
    ),
    "immediate_risk": (
        "immediate risk",
        "is the child at immediate risk",
        "is the child at risk of immediate harm",
        "child at immediate risk",
        "immediate risk of harm",
    ),
    "parents_aware": (
        "parents aware",
        "parents/carers aware of referral",
        "parents/carers aware",
        "are parents aware of this referral",
        "parents aware of referral",
        "are parents/carers aware",
    ),
    "consent": (
        "consent",
        "parental consent",
        "consent given",
        "has consent been given",
        "consent to referral",
    ),
    "child_aware": ("child aware", "is the child aware", "child aware of referral"),
    "child_views": ("child's views", "childs views", "views of the child", "child's voice"),
    "household": (
        "household",
        "household members",
        "parents/carers",
        "parent/carer",
        "parents",
        "carers",
        "who lives with the child",
    ),
}
MANDATORY = (
    "child name",
    "date of birth or expected date",
    "address",
    "referrer name",
    "referrer email or phone",
    "concern",
    "categories",
    "immediate risk",
    "parents aware",
    "consent",
    "carer",
)
CATEGORIES = {
    "physical abuse": ("physical",),
    "sexual abuse": ("sexual abuse", "sexual"),
    "emotional abuse": ("emotional",),
    "neglect": ("neglect",),
    "domestic abuse": ("domestic abuse", "domestic violence", "dv"),
    "child sexual exploitation": ("cse", "child sexual exploitation", "sexual exploitation"),
    "child criminal exploitation": ("cce", "criminal exploitation", "county lines"),
    "extra-familial harm": ("extra-familial", "extra familial", "contextual"),
    "missing": ("missing",),
    "fgm": ("fgm", "female genital mutilation"),
    "forced marriage / honour-based abuse": ("forced marriage", "honour"),
    "radicalisation": ("radicalisation", "radicalization", "prevent"),
    "trafficking": ("trafficking", "modern slavery"),
    "self-harm / mental health": ("self-harm", "self harm", "mental health"),
    "parental substance misuse": ("substance", "drug", "alcohol"),
    "parental mental health": ("parental mental health",),
    "young carer": ("young carer",),
    "private fostering": ("private fostering",),
    "no recourse to public funds / unaccompanied": ("nrpf", "no recourse", "unaccompanied"),
    "disability": ("disability", "disabled"),
}
_ALIASES = {
    _label: key
    for table in (CHILD_FIELDS, REFERRER_FIELDS, OTHER_FIELDS)
    for key, labels in table.items()
    for _label in labels
}


def _norm_label(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).replace("\u2019", "'").lower()
    text = re.sub(r"^\s*(child|young person)\s*\d+\s*[-:]?\s*", r"\1 ", text)
    text = re.sub(r"[?*:()]+", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def field_key(label: str) -> tuple[str | None, int | None]:
    """(canonical field, child number if the label numbered one) for a form label."""
    number = None
    numbered = re.match(r"^\s*(?:child|young person)\s*(\d+)\b", label, re.I)
    if numbered:
        number = int(numbered.group(1))
    norm = _norm_label(label)
    key = _ALIASES.get(norm)
    if key is None and re.match(r"^(child|young person)\s+", norm):
        # "Child 2 DOB", "child dob" (a PDF field name): the child's own field.
        stripped = re.sub(r"^(child|young person)\s+", "", norm)
        key = _ALIASES.get(f"child's {stripped}") or (
            _ALIASES.get(stripped) if number is not None else None
        )
    return key, number


def _yes_no(text: str | None) -> bool | None:
    if not text:
        return None
    word = text.strip().lower()
    if re.match(r"^(yes|y|true|aware|given)\b", word):
        return True
    if re.match(r"^(no|n|false|not)\b", word):
        return False
    return None


@dataclass
class Child:
    given_name: str | None = None
    family_name: str | None = None
    date_of_birth: str | None = None
    expected_date: str | None = None
    unborn: bool = False
    gender: str | None = None
    address: str | None = None
    postcode: str | None = None
    nhs_number: str | None = None
    nhs_number_valid: bool | None = None
    school: str | None = None
    gp: str | None = None


@dataclass
class Referrer:
    name: str | None = None
    role: str | None = None
    agency: str | None = None
    email: str | None = None
    phone: str | None = None


@dataclass
class Referral:
    children: list[Child] = field(default_factory=list)
    referrer: Referrer = field(default_factory=Referrer)
    concern: str | None = None
    categories: list[str] = field(default_factory=list)
    immediate_risk: bool | None = None
    consent: str | None = None
    parents_aware: bool | None = None
    child_aware: bool | None = None
    child_views: str | None = None
    household: str | None = None
    missing: list[str] = field(default_factory=list)
    form: str = "body"  # or the attached form's file name
    forwarded: bool = False
    attachment_problems: list[str] = field(default_factory=list)
    recognised: int = 0

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("recognised")
        return data


class _Table(HTMLParser):
    """Two-cell rows of an HTML form table as (label, value) pairs; nothing is rendered."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th") and self.rows:
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
        elif tag in ("td", "th") and self._cell is not None and self.rows:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None and not self._skip:
            self._cell.append(data)


_QUOTE = re.compile(r"^(?:[ \t]*>)+[ \t]?")


def labelled_pairs(text: str) -> list[tuple[str, str]]:
    """`Label: value` lines; unlabelled lines continue the previous value (narratives).

    A form quoted with `>` (a colleague's forward) is read at its own depth: a continuation line
    joins a value only from the same depth, so a reply quoted below a narrative stays out of it.
    """
    pairs: list[tuple[str, str]] = []
    depth_of_last = 0
    for raw_line in text.splitlines():
        quote = _QUOTE.match(raw_line)
        depth = quote.group(0).count(">") if quote else 0
        line = raw_line[quote.end() :] if quote else raw_line
        match = re.match(r"^\s*([^:\n]{2,80}?)\s*[:?]\s*(.*)$", line)
        if match and field_key(match.group(1))[0] is not None:
            pairs.append((match.group(1), match.group(2).strip()))
            depth_of_last = depth
        elif pairs and line.strip() and depth == depth_of_last:
            label, value = pairs[-1]
            pairs[-1] = (label, f"{value}\n{line.strip()}".strip())
    return pairs


def html_pairs(html: str) -> list[tuple[str, str]]:
    table = _Table()
    table.feed(html)
    table.close()
    return [(row[0], row[1]) for row in table.rows if len(row) >= 2 and row[0]]


def body_texts(message: Message) -> tuple[str, str]:
    """(plain text, html) of the message's own body parts, attachments excluded."""
    plain, html = [], []
    parts = message.walk() if message.is_multipart() else [message]
    for part in parts:
        if part.is_multipart() or part.get_content_disposition() == "attachment":
            continue
        try:
            payload = part.get_payload(decode=True)
            charset = part.get_content_charset() or "utf-8"
            text = payload.decode(charset, "replace") if isinstance(payload, bytes) else ""
        except (LookupError, ValueError):
            continue
        if part.get_content_type() == "text/plain":
            plain.append(text)
        elif part.get_content_type() == "text/html":
            html.append(text)
    return "\n".join(plain), "\n".join(html)


def parse_referral(message: EmailMessage | Message) -> Referral:
    """The form from the body (HTML table or labelled lines) or an attached .docx/PDF form,
    whichever holds more of it."""
    plain, html = body_texts(message)
    pairs = html_pairs(html) if html else []
    if len(pairs) < 3:
        pairs = labelled_pairs(plain) or pairs
    best = build(pairs)
    problems = []
    for form in attached_forms(message):
        if form.problem:
            problems.append(f"{form.filename}: {form.problem}")
            continue
        candidate = build(labelled_pairs(form.text) + list(form.pairs))
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


def build(pairs: list[tuple[str, str]]) -> Referral:
    referral = Referral()
    children: dict[int, Child] = {}
    current = 0
    for label, value in pairs:
        key, number = field_key(label)
        value = value.strip()
        if key is None or not value:
            continue
        referral.recognised += 1
        if key in CHILD_FIELDS:
            if number is not None:
                current = number
            elif current in children and _already_set(children[current], key):
                current += 1  # the same child field again: the next child's block
            child = children.setdefault(current, Child())
            _set_child(child, key, value)
        elif key in REFERRER_FIELDS:
            setattr(referral.referrer, key.removeprefix("referrer_"), value)
        elif key == "categories":
            referral.categories = _categories(value)
        elif key in ("immediate_risk", "parents_aware", "child_aware"):
            setattr(referral, key, _yes_no(value))
        else:
            setattr(referral, key, value)
    referral.children = [children[n] for n in sorted(children)]
    referral.missing = _missing(referral)
    return referral


def _already_set(child: Child, key: str) -> bool:
    if key == "child_name":
        return child.given_name is not None
    attr = key
    return getattr(child, attr, None) is not None


def _set_child(child: Child, key: str, value: str) -> None:
    if key == "child_name":
        parts = value.split()
        if "," in value:  # "SMITH, Jo"
            family, _, given = value.partition(",")
            child.given_name, child.family_name = given.strip() or None, family.strip() or None
        elif len(parts) == 1:
            child.given_name = parts[0]
        else:
            child.given_name, child.family_name = " ".join(parts[:-1]), parts[-1]
        if re.search(r"\bunborn\b", value, re.I):
            child.unborn = True
    elif key in ("date_of_birth", "expected_date"):
        parsed = parse_date(value)
        setattr(child, key, parsed.isoformat() if parsed else None)
        if key == "expected_date" and parsed:
            child.unborn = True
    elif key == "nhs_number":
        child.nhs_number = re.sub(r"[\s-]", "", value)
        child.nhs_number_valid = valid_nhs_number(value)
    else:
        setattr(child, key, value)


def _categories(value: str) -> list[str]:
    text = value.lower()
    found = [
        name
        for name, words in CATEGORIES.items()
        if any(re.search(rf"\b{re.escape(w)}\b", text) for w in words)
    ]
    # "parental mental health" also says "mental health"; keep the specific one.
    if "parental mental health" in found and not re.search(r"self.?harm", text):
        found = [c for c in found if c != "self-harm / mental health"]
    return found


def _missing(referral: Referral) -> list[str]:
    missing: list[str] = []
    if not referral.children:
        missing.append("child name")
    for index, child in enumerate(referral.children, start=1):
        prefix = f"child {index}: " if len(referral.children) > 1 else ""
        if not child.given_name and not child.unborn:
            missing.append(prefix + "child name")
        if not child.date_of_birth and not child.expected_date:
            missing.append(prefix + "date of birth or expected date")
        if not child.address:
            missing.append(prefix + "address")
    if not referral.referrer.name:
        missing.append("referrer name")
    if not (referral.referrer.email or referral.referrer.phone):
        missing.append("referrer email or phone")
    if not referral.concern:
        missing.append("concern")
    if not referral.categories:
        missing.append("categories")
    if referral.immediate_risk is None:
        missing.append("immediate risk")
    if referral.parents_aware is None:
        missing.append("parents aware")
    if not referral.consent:
        missing.append("consent")
    if not referral.household:
        missing.append("carer")
    return missing


def looks_like_referral(referral: Referral) -> bool:
    """Enough of the form to be one: a child and a concern or several recognised fields."""
    return bool(referral.children) and (referral.concern is not None or referral.recognised >= 4)


REFERENCE = re.compile(r"\bMASH-\d{4}-\d{6}\b")

_CHILD_WORDS = re.compile(
    r"\b(child|children|son|daughter|baby|babies|boy|girl|kid|kids|pupil|toddler|infant|"
    r"teenager|young person|grandchild|grandson|granddaughter|niece|nephew)\b",
    re.I,
)
_WORRY_WORDS = re.compile(
    r"\b(worr(?:y|ied|ying)|concern(?:ed|s)?|abus\w*|neglect\w*|hurt\w*|hit(?:s|ting)?|"
    r"scared|afraid|unsafe|harm\w*|danger\w*|bruis\w*|hungry|alone|left on (?:his|her|their) own|"
    r"scream\w*|shout\w*|beat\w*|smack\w*|injur\w*|cry(?:ing)?|drunk|drugs?)\b",
    re.I,
)


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in ("br", "p", "div", "tr", "li"):
            self.chunks.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.chunks.append(data)


def html_text(html: str) -> str:
    """The text of an HTML body, never rendered, nothing fetched."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    return "".join(parser.chunks)


def free_text_referral(message: Message) -> Referral | None:
    """A worried person writing in their own words (no form): the concern is their text, and
    every form field is missing, so the contact is incomplete and the acknowledgement asks."""
    plain, html = body_texts(message)
    if not plain.strip() and html:
        plain = html_text(html)
    text = "\n".join(
        line for line in plain.splitlines() if not line.lstrip().startswith(">")
    ).strip()
    if not (_CHILD_WORDS.search(text) and _WORRY_WORDS.search(text)):
        return None
    referral = Referral(concern=text, form="free text")
    name, address = parseaddr(str(message.get("From", "") or ""))
    referral.referrer.name = name.strip() or None
    referral.referrer.email = single_address(address)
    referral.missing = _missing(referral)
    return referral


_RFI = re.compile(r"\b(request(?:ing)? for information|information request|RFI)\b", re.I)


def is_information_request(message: Message) -> bool:
    """Another agency asking what the MASH knows, by the subject or the opening lines."""
    subject = str(message.get("Subject", "") or "")
    if _RFI.search(subject):
        return True
    plain, _html = body_texts(message)
    return bool(_RFI.search(plain[:500]))


_POLICE = re.compile(
    r"\b(merlin|coming to notice|CTN|pre-assessment check|PAC report|"
    r"domestic abuse notification|DA notification|MERLIN PAC)\b",
    re.I,
)


def is_police_notification(message: Message) -> bool:
    """A Merlin "Coming to Notice" / pre-assessment check, or a domestic-abuse notification."""
    return bool(_POLICE.search(str(message.get("Subject", "") or "")))
