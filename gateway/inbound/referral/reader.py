"""From a form's items (lines and rows) to its fields, understanding sections and tables.

A heading ("CHILD'S DETAILS", "Parent/carer", "About you") sets whose details the bare
labels below it hold; a table whose first row is all labels ("First name | Surname | DOB")
gives one person a row: a child, or a member of the household when the table says
"Relationship" or sits under a parent's heading. Unlabelled lines continue the narrative
above them (the concern, the household) and never a name, a date or a yes/no answer.

Linear: each item is looked at once; a value is kept as a list of parts joined at the end.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from gateway.inbound.referral.adults import adult_field, is_child_consent
from gateway.inbound.referral.answers import clean_value
from gateway.inbound.referral.labels import (
    CHILD,
    CHILD_KEYS,
    IGNORED,
    NO_MATCH,
    PARENT,
    Match,
    heading_subject,
    looks_like_label,
    match_label,
    normalise,
    subject_of,
)
from gateway.inbound.referral.layout import Item, Line, Row
from gateway.inbound.referral.vocabulary import PROMPT

# Fields whose value may run over several lines.
NARRATIVE = frozenset({"concern", "household", "child_views", "address", "categories"})
_NAME_KEYS = frozenset({"child_name", "given_name", "family_name", "household"})
_BARE_CONTACT = frozenset({"referrer_phone", "referrer_email", "referrer_contact"})
_ROW_LABEL = re.compile(r"^(?:child|young person|sibling|person)\s*\d{1,2}$", re.I)

_COLON = re.compile(r"^\s*([^:\n]{2,240}?)\s*:\s*(.*)$")
_QUESTION = re.compile(r"^\s*([^?\n]{2,240}?)\?\s*[\-\u2013\u2014]?\s*(.*)$")
_STAMP = re.compile(r"^\s*\d{1,4}(?:[/.\-:]\d{1,4})+\b")
_HINT = re.compile(r"^([^:]{2,40}):\s+(\S.*)$")  # "Organisation: incl. Department: ..."
_DASH = re.compile(r"^\s*([^:\n]{2,60}?)\s+[-\u2013\u2014]\s+(.+)$")
_HEADING_SHAPE = re.compile(
    r"\b(details?|information|about|section|part)\b|^\s*(?:\d{1,2}[a-z]?|[a-h])\s*[.)]", re.I
)


@dataclass
class Field:
    key: str
    parts: list[str] = field(default_factory=list)
    number: int | None = None  # "Child 2 DOB"
    row: int | None = None  # a table row: one person a row
    inverted: bool = False
    label: str = ""

    @property
    def value(self) -> str:
        return "\n".join(self.parts).strip()


def split_pair(text: str) -> tuple[str, str] | None:
    """`Label: value`, `Label? value`, `Label - value` (the label checked by the caller).
    The first colon ends the label, so a "?" inside it ("Risks (what are you worried
    about?): ...") stays in the label; with no colon, a question mark ends it. A line that
    starts with a date or a time ("03/03/2026 14:05 Police attended") is no label."""
    if _STAMP.match(text):
        return None
    match = _COLON.match(text)
    if match:
        return match.group(1).rstrip("?").rstrip(), match.group(2)
    match = _QUESTION.match(text)
    if match and match.group(1).count("(") <= match.group(1).count(")"):
        return match.group(1), match.group(2)
    match = _DASH.match(text)
    if match:
        return match.group(1), match.group(2)
    return None


_SENTENCE_END = re.compile(r"[a-z]{2}\.\s*[A-Z]")
_HEADING_HINTS = (
    "child", "young", "pupil", "baby", "unborn", "parent", "carer", "mother", "father",
    "guardian", "famil", "household", "sibling", "adult", "referr", "you", "about", "consent",
    "confidential", "concern", "reason", "risk", "agenc", "professional", "service", "school",
    "education", "health", "identif", "cared", "detail",
)  # fmt: skip


def _may_be_heading(text: str) -> bool:
    """A cheap first look (string tests, no regex): headings are short, unpunctuated and
    name someone or something. Most lines of a long narrative (a pasted chronology) stop
    here, which keeps reading linear and fast."""
    head = text.split("(", 1)[0]  # "Child's details (please complete...)"
    sentence = _SENTENCE_END.search(head)  # "Child's details. Please gather..."
    head = (head[: sentence.start() + 1] if sentence else head).strip()
    if len(head) > 140 or head.endswith((".", ",", ";")) or head.count(" ") >= 12:
        return False
    low = head.lower()
    return any(hint in low for hint in _HEADING_HINTS)


_NUMBERED = re.compile(r"(?:\d{1,2}[a-z]?|[A-H])[.)](?!\d)")  # "1.", "2a)", "B."
_LOWER_WORD = re.compile(r"(?:^|[\s/(])[a-z][a-z]{3,}")


def _heading_shaped(text: str) -> bool:
    """Capitals, Title Case, a number or a word such as "Details": shaped like a heading."""
    stripped = text.strip().rstrip(":")
    if _NUMBERED.match(stripped) or stripped.isupper():
        return True
    low = stripped.lower()
    if any(word in low for word in ("detail", "information", "about", "section", "part")):
        return bool(_HEADING_SHAPE.search(stripped))
    return not _LOWER_WORD.search(stripped)


class _Reader:
    def __init__(self) -> None:
        self.fields: list[Field] = []
        self.section: str | None = None
        self.open: Field | None = None
        self.open_depth = 0
        self.table: tuple[str, list[Match]] | None = None
        self.table_id = 0
        self.rows = 0
        self.implicit: str | None = None  # whose fields the last ones were

    # -- fields --------------------------------------------------------------------------
    def add(self, match: Match, label: str, value: str, depth: int = 0) -> None:
        if is_child_consent(label):
            match = Match("child_consent", CHILD, None)
        elif (match.key == IGNORED or match.key is None) and adult_field(label) is not None:
            # "Father's DOB", "Alleged perpetrator": the household's adults, whom partners
            # search by (identifying details only).
            match = Match("adult", PARENT, None)
        if match.key == IGNORED or match.key is None:
            self.open = None
            return
        bare = not match.explicit and self.section is None
        if bare and match.key in _BARE_CONTACT and self.implicit in (CHILD, PARENT):
            # "Home address: ... / Telephone number:" is the family's, not the referrer's.
            self.open = None
            return
        if match.explicit:
            self.implicit = match.subject
        elif match.key in CHILD_KEYS:
            self.implicit = CHILD
        entry = Field(
            match.key, [value] if value else [], match.number, None, match.inverted, label
        )
        self.fields.append(entry)
        self.open, self.open_depth = entry, depth

    def continue_open(self, text: str, depth: int) -> bool:
        entry = self.open
        if entry is None or depth != self.open_depth:
            return False
        if entry.parts and entry.key not in NARRATIVE:
            return False
        entry.parts.append(text.strip())
        return True

    # -- lines ---------------------------------------------------------------------------
    def line(self, text: str, depth: int, *, structural: bool = False) -> None:
        stripped = text.strip()
        self.table = None
        if not stripped:
            return
        pair = split_pair(stripped)
        if pair is not None:
            match = match_label(pair[0], self.section)
            if match.is_label:
                value = clean_value(pair[1])
                hint = _HINT.match(value)
                if hint and match_label(hint.group(1), self.section).is_label:
                    value = hint.group(2)  # the form's hint printed before the answer
                self.add(match, pair[0], value, depth)
                return
        if structural or stripped.endswith((":", "?")):
            match = match_label(stripped.rstrip(":").strip(), self.section)
            if match.is_label and match.key != IGNORED:
                # "Parents and other members of the household:" heads a section too.
                subject = heading_subject(stripped)
                if subject is not None and subject != "other":
                    self.section = subject
                self.add(match, stripped, "", depth)
                return
        subject = None
        if structural:
            subject = heading_subject(stripped)
        elif self.open is not None and self.open.parts:
            # Inside a narrative only a line shaped like a heading can end it; the shape is
            # the cheaper test, so most lines of a long chronology stop there.
            if _heading_shaped(stripped) and _may_be_heading(stripped):
                subject = heading_subject(stripped)
        elif _may_be_heading(stripped):
            subject = heading_subject(stripped, strict=not _heading_shaped(stripped))
        if subject is not None:
            self.section = None if subject == "other" else subject
            self.open, self.implicit = None, None
            return
        if pair is not None and len(pair[0].split()) >= 3 and PROMPT.search(pair[0]):
            self.open = None  # a prompt of the form's that we do not keep: not narrative
            return
        value = clean_value(stripped)
        if value:
            self.continue_open(value, depth)

    # -- rows ----------------------------------------------------------------------------
    def row(self, row: Row) -> None:
        if row.table != self.table_id:
            self.table_id, self.table = row.table, None  # a new table: a new header
        cells = [clean_value(c) for c in row.cells]
        while cells and not cells[-1]:
            cells.pop()
        distinct = {c for c in cells if c}
        if len(distinct) <= 1:
            self.table = None
            if distinct:
                self.line(distinct.pop(), 0, structural=True)
            return
        if self.table is not None and not self._all_labels(cells):
            self._record(cells)
            return
        header = self._header(row, cells)
        if header is not None:
            self.table = header
            self.open = None
            return
        self.table = None
        index = 0
        while index < len(cells):
            cell = cells[index]
            label = cell.rstrip(":").strip()
            match = match_label(label, self.section) if label else NO_MATCH
            if match.is_label:
                value = cells[index + 1] if index + 1 < len(cells) else ""
                if value and looks_like_label(value.rstrip(":")):
                    value = ""  # a row of labels (a header we could not use): no answers
                    index -= 1
                self.add(match, label, value)
                index += 2
                continue
            pair = split_pair(cell) if cell else None
            inner = match_label(pair[0], self.section) if pair else NO_MATCH
            if pair is not None and inner.is_label:
                self.add(inner, pair[0], clean_value(pair[1]))
            index += 1

    def _all_labels(self, cells: list[str]) -> bool:
        return all(match_label(c.rstrip(":"), self.section).is_label for c in cells if c)

    def _header(self, row: Row, cells: list[str]) -> tuple[str, list[Match]] | None:
        norms = [normalise(c) for c in cells]
        kind = PARENT if self.section == PARENT else CHILD
        if any("relationship" in n or "relation" in n for n in norms) or any(
            subject_of(n) == PARENT for n in norms if n
        ):
            kind = PARENT
        matches = []
        unknown = 0
        for cell, norm in zip(cells, norms, strict=True):
            if not cell:
                matches.append(NO_MATCH)
                continue
            if norm in (
                "child",
                "child young people",
                "child young person",
                "young person",
                "person",
            ):
                # "Children / Young People": their names, or row labels ("Child 1").
                matches.append(
                    Match("child_name" if kind == CHILD else "household", kind, score=100.0)
                )
                continue
            match = match_label(cell.rstrip(":"), kind)
            # A header cell is a label by its wording, not by a keyword in a value
            # ("Stockwell Park High School").
            unknown += not match.worded
            matches.append(match)
        if unknown > (1 if len([c for c in cells if c]) >= 4 else 0):
            return None
        keys = {m.key for m in matches if m.key not in (None, IGNORED)}
        named = bool(keys & _NAME_KEYS)
        wide = len([c for c in cells if c]) >= 3
        if kind == PARENT and named and (wide or row.header):
            return kind, matches
        if kind == CHILD and len(keys) >= 2 and (wide or named or row.header):
            return kind, matches
        return None

    def _record(self, cells: list[str]) -> None:
        assert self.table is not None
        kind, matches = self.table
        self.rows += 1
        if kind == PARENT:
            names = [c for c, m in zip(cells, matches, strict=False) if c and m.key in _NAME_KEYS]
            if names:
                self.fields.append(Field("household", [" ".join(names)]))
            return
        for cell, match in zip(cells, matches, strict=False):
            if cell and match.key not in (None, IGNORED) and not _ROW_LABEL.match(cell):
                self.fields.append(Field(match.key, [cell], None, self.rows, False, "table"))
        self.open = None


def read(items: Iterable[Item]) -> list[Field]:
    """The form's fields in order (ignored labels left out)."""
    reader = _Reader()
    for item in items:
        if isinstance(item, Row):
            reader.row(item)
        else:
            assert isinstance(item, Line)
            reader.line(item.text, item.depth)
    return reader.fields
