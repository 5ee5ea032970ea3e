"""Referral forms in several shapes parse into the same fields; hostile text stays data."""

from __future__ import annotations

from datetime import UTC, date, datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import pytest
from helpers import config

from gateway.formats import parse_date, valid_nhs_number
from gateway.inbound.referral import parse_referral
from gateway.inspection import inspect_bytes

REFERRALS = Path(__file__).parent / "data" / "referrals"
NOW = datetime(2026, 3, 3, 12, 0, tzinfo=UTC)


def parsed(name: str):  # type: ignore[no-untyped-def]
    message = message_from_bytes((REFERRALS / name).read_bytes(), policy=default)
    assert isinstance(message, EmailMessage)
    return parse_referral(message)


def test_plain_text_form_parses_completely() -> None:
    referral = parsed("plain-school.eml")
    (child,) = referral.children
    assert (child.given_name, child.family_name) == ("Amira", "Okafor")
    assert child.date_of_birth == "2019-04-03" and child.postcode == "E8 1AA"
    assert child.nhs_number == "9434765919" and child.nhs_number_valid is True
    assert referral.referrer.name == "Sam Teacher"
    assert referral.referrer.agency == "St John's Primary School"
    assert referral.concern is not None and "father grabbed her" in referral.concern
    assert referral.categories == ["physical abuse", "domestic abuse"]
    assert referral.immediate_risk is False and referral.parents_aware is True
    assert referral.child_aware is True
    assert referral.missing == []


def test_html_table_form() -> None:
    referral = parsed("html-form.eml")
    (child,) = referral.children
    assert (child.given_name, child.family_name) == ("Zoë", "Brontë-Smith")
    assert child.date_of_birth == "2015-11-20"
    assert child.address == "Flat 4, 7 Dalston Lane\nLondon E8 3DF"
    assert child.nhs_number_valid is False  # 1234567890 fails the modulus-11 check
    assert referral.referrer.role == "Health visitor"
    assert referral.concern is not None and "alert(1)" not in referral.concern
    assert referral.categories == ["neglect"] and referral.parents_aware is False
    assert referral.missing == []


def test_two_children_and_an_unborn_baby() -> None:
    referral = parsed("two-children-unborn.eml")
    assert [c.given_name for c in referral.children] == ["Leo", "Mia", "Unborn baby"]
    assert [c.date_of_birth for c in referral.children] == ["2012-06-05", "2014-06-05", None]
    unborn = referral.children[2]
    assert unborn.unborn and unborn.expected_date == "2026-07-01"
    assert referral.immediate_risk is True
    assert referral.referrer.phone == "101"
    assert referral.missing == []


def test_missing_mandatory_fields_are_listed() -> None:
    referral = parsed("missing-fields.eml")
    assert referral.children[0].given_name == "Tom"
    assert referral.missing == [
        "date of birth or expected date",
        "address",
        "referrer email or phone",
        "categories",
        "immediate risk",
        "parents aware",
        "consent",
        "carer",
    ]


def test_hostile_text_is_only_data() -> None:
    referral = parsed("hostile.eml")
    child = referral.children[0]
    # Kept verbatim (as a value; SQL is always bound, never built from it).
    assert f"{child.given_name} {child.family_name}" == "Robert'); DROP TABLE contacts;-- Tables"
    assert child.date_of_birth is None  # 31 February is no date
    assert child.address == "{{ config.__class__ }} Road"
    assert referral.concern is not None and "{{ 7*7 }}" in referral.concern
    assert child.nhs_number_valid is False
    assert referral.immediate_risk is None and "immediate risk" in referral.missing


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("03/04/2019", date(2019, 4, 3)),
        ("3 April 2019", date(2019, 4, 3)),
        ("2019-04-03", date(2019, 4, 3)),
        ("3rd Apr 2019", date(2019, 4, 3)),
        ("3.4.19", date(2019, 4, 3)),
        ("29/02/2024", date(2024, 2, 29)),
        ("29/02/2023", None),
        ("13/13/2019", None),
        ("yesterday", None),
    ],
)
def test_uk_day_first_dates(text: str, expected: date | None) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("943 476 5919", True),
        ("9434765919", True),
        ("943-476-5919", True),
        ("9434765918", False),
        ("123456789", False),
        ("4010232137", True),
        ("abcdefghij", False),
    ],
)
def test_nhs_numbers(number: str, valid: bool) -> None:
    assert valid_nhs_number(number) is valid


def test_inspect_reports_referral_fields() -> None:
    result = inspect_bytes((REFERRALS / "two-children-unborn.eml").read_bytes(), config(), NOW)
    assert result["kind"] == "referral"
    assert len(result["referral"]["children"]) == 3
    assert result["referral"]["missing"] == []


def test_a_two_megabyte_narrative_parses() -> None:
    raw = (REFERRALS / "plain-school.eml").read_bytes()
    raw = raw.replace(b"Concern: Amira", b"Concern: " + b"worry words here. " * 120_000 + b"Amira")
    result = inspect_bytes(raw, config(), NOW)
    assert result["kind"] == "referral"
    assert len(result["referral"]["concern"]) > 2_000_000


def test_inspect_tells_an_information_request_from_a_referral() -> None:
    rfi = inspect_bytes((REFERRALS / "rfi-probation.eml").read_bytes(), config(), NOW)
    assert rfi["kind"] == "rfi"
    assert rfi["referral"]["children"][0]["given_name"] == "Kai"
    referral = inspect_bytes((REFERRALS / "plain-school.eml").read_bytes(), config(), NOW)
    assert referral["kind"] == "referral"
