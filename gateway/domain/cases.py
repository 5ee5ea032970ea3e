"""The open-cases register: imported from CSV, matched against the children in a referral.

CSV columns (a header row is required; order is free):
  nhs_number     10 digits, optional
  given_name     required
  family_name    required
  date_of_birth  UK day-first or ISO date, optional
  unit           the case-holding social work unit's name, required
  unit_email     the unit's address, required
  status         "open" or "closed"
  closed_on      date the case closed (required when status is closed)
A re-import replaces the whole register in one transaction; any bad row stops the import.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from gateway.domain.formats import name_key, parse_date, valid_nhs_number
from gateway.mail.addresses import AddressError, normalise_address
from gateway.store.models import OpenCase

COLUMNS = (
    "nhs_number",
    "given_name",
    "family_name",
    "date_of_birth",
    "unit",
    "unit_email",
    "status",
    "closed_on",
)
ROUTE_BACK = timedelta(days=92)  # "open to a unit in the last 3 months"


class ImportError_(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class CaseMatch:
    unit: str
    unit_email: str
    status: str
    closed_on: str | None
    matched_by: str


def parse_csv(text: str) -> list[dict[str, str | None]]:
    reader = csv.DictReader(io.StringIO(text))
    missing = [
        c
        for c in ("given_name", "family_name", "unit", "unit_email", "status")
        if c not in (reader.fieldnames or [])
    ]
    if missing:
        raise ImportError_([f"line 1: missing column(s): {', '.join(missing)}"])
    rows: list[dict[str, str | None]] = []
    problems: list[str] = []
    for line, raw in enumerate(reader, start=2):
        row = {c: (raw.get(c) or "").strip() or None for c in COLUMNS}
        for required in ("given_name", "family_name", "unit", "unit_email", "status"):
            if not row[required]:
                problems.append(f"line {line}: {required} is empty")
        if row["nhs_number"]:
            row["nhs_number"] = re.sub(r"[\s-]", "", row["nhs_number"] or "")
            if not valid_nhs_number(row["nhs_number"] or ""):
                problems.append(f"line {line}: nhs_number fails the modulus-11 check")
        for column in ("date_of_birth", "closed_on"):
            if row[column]:
                parsed = parse_date(row[column] or "")
                if parsed is None:
                    problems.append(f"line {line}: {column} {row[column]!r} is not a date")
                else:
                    row[column] = parsed.isoformat()
        if row["status"] not in (None, "open", "closed"):
            problems.append(f"line {line}: status must be open or closed")
        if row["status"] == "closed" and not row["closed_on"]:
            problems.append(f"line {line}: a closed case needs closed_on")
        if row["unit_email"]:
            try:
                row["unit_email"] = normalise_address(row["unit_email"] or "")
            except AddressError:
                problems.append(f"line {line}: unit_email is not an address")
        rows.append(row)
    if problems:
        raise ImportError_(problems)
    return rows


def replace_register(session: Session, rows: list[dict[str, str | None]], now: datetime) -> int:
    session.execute(delete(OpenCase))
    for row in rows:
        session.add(
            OpenCase(
                nhs_number=row["nhs_number"],
                given_name=row["given_name"] or "",
                family_name=row["family_name"] or "",
                name_key=name_key(row["given_name"], row["family_name"]),
                date_of_birth=row["date_of_birth"],
                unit=row["unit"] or "",
                unit_email=row["unit_email"] or "",
                status=row["status"] or "open",
                closed_on=row["closed_on"],
                imported_at=now,
            )
        )
    return len(rows)


def find_case(
    session: Session,
    nhs_number: str | None,
    given: str | None,
    family: str | None,
    date_of_birth: str | None,
    today: date,
) -> CaseMatch | None:
    """An open case, or one closed within three months, for this child; None otherwise."""
    candidates: list[tuple[OpenCase, str]] = []
    if nhs_number and valid_nhs_number(nhs_number):
        candidates += [
            (c, "NHS number")
            for c in session.execute(
                select(OpenCase).where(OpenCase.nhs_number == nhs_number)
            ).scalars()
        ]
    key = name_key(given, family)
    # A date of birth alone never matches: the name must make a key (an empty key, a name with
    # no letters at all, would match every other such name born the same day).
    if not candidates and date_of_birth and key:
        candidates += [
            (c, "name and date of birth")
            for c in session.execute(
                select(OpenCase).where(
                    OpenCase.name_key == key, OpenCase.date_of_birth == date_of_birth
                )
            ).scalars()
        ]
    for case, matched_by in candidates:
        if case.status == "open":
            return CaseMatch(case.unit, case.unit_email, "open", None, matched_by)
    for case, matched_by in candidates:
        closed = date.fromisoformat(case.closed_on) if case.closed_on else None
        if closed is not None and today - closed <= ROUTE_BACK:
            return CaseMatch(
                case.unit, case.unit_email, "recently-closed", case.closed_on, matched_by
            )
    return None
