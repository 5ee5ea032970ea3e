"""Referral forms in several shapes parse into the same fields; hostile text stays data."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, date, datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import pytest
from forms import DOCX_MIME, docx_form, pdf_form, with_attachment
from helpers import config

from gateway.domain.formats import parse_date, valid_nhs_number
from gateway.inbound.inspection import inspect_bytes
from gateway.inbound.referral.attached_forms import MAX_EXPANDED_BYTES, _field_label
from gateway.inbound.referral.budget import TooCostly
from gateway.inbound.referral.labels import field_key
from gateway.inbound.referral.parse import parse_referral

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


def _from_bytes(raw: bytes):  # type: ignore[no-untyped-def]
    message = message_from_bytes(raw, policy=default)
    assert isinstance(message, EmailMessage)
    return parse_referral(message)


def _assert_hana_form(referral) -> None:  # type: ignore[no-untyped-def]
    (child,) = referral.children
    assert (child.given_name, child.family_name) == ("Kofi", "Mensah")
    assert child.date_of_birth == "2025-02-14" and child.nhs_number_valid is True
    assert referral.referrer.agency == "Homerton Healthcare NHS Trust"
    assert referral.categories == ["neglect", "parental substance misuse"]
    assert referral.immediate_risk is False and referral.parents_aware is True
    assert referral.missing == []


def test_word_form_attached_parses_completely() -> None:
    raw = with_attachment(docx_form(), "referral.docx", DOCX_MIME, subject="Referral")
    referral = _from_bytes(raw)
    _assert_hana_form(referral)
    assert referral.form == "referral.docx"


def test_pdf_form_fields_parse_completely() -> None:
    raw = with_attachment(pdf_form(), "referral.pdf", "application/pdf", subject="Referral")
    referral = _from_bytes(raw)
    _assert_hana_form(referral)
    assert referral.form == "referral.pdf"


def test_pdf_field_names_serve_as_labels_without_tooltips() -> None:
    assert field_key("child_dob".replace("_", " "))[0] == "date_of_birth"
    assert _field_label("form1[0].ReferrerName[0]") == "Referrer Name"
    assert field_key(_field_label("referrer_name"))[0] == "referrer_name"


def test_damaged_and_oversized_attachments_are_reasons_not_crashes() -> None:
    broken = with_attachment(b"PK\x03\x04 not really a zip", "form.docx", DOCX_MIME, subject="x")
    referral = _from_bytes(broken)
    assert referral.attachment_problems == ["form.docx: unreadable docx: BadZipFile"]
    # A zip that claims to expand past the cap is refused before python-docx opens it: over
    # the message's work budget, the whole message is too costly (the pipeline quarantines it).
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"\0" * (MAX_EXPANDED_BYTES + 1))
    with pytest.raises(TooCostly, match=r"bomb\.docx"):
        _from_bytes(with_attachment(bomb.getvalue(), "bomb.docx", DOCX_MIME, subject="x"))
    pdf = _from_bytes(with_attachment(b"%PDF-1.7 garbage", "f.pdf", "application/pdf", subject="x"))
    assert pdf.attachment_problems and pdf.attachment_problems[0].startswith("f.pdf: unreadable")


def test_a_referral_forwarded_by_a_colleague() -> None:
    referral = parsed("forwarded-quoted.eml")
    assert referral.forwarded is True
    (child,) = referral.children
    assert (child.given_name, child.family_name) == ("Tomasz", "Nowak")
    assert child.date_of_birth == "2016-10-09"
    assert referral.referrer.name == "Kim Mentor"
    assert referral.concern == (
        "Tomasz has come to school hungry every day this week\nand says there is no food at home."
    )
    assert referral.missing == []


def test_a_referral_forwarded_as_an_attached_message() -> None:
    inner = message_from_bytes((REFERRALS / "plain-school.eml").read_bytes(), policy=default)
    outer = EmailMessage()
    outer["From"] = "Priya Head <priya.head@stjohns-school.example>"
    outer["To"] = "mash@hackney.example"
    outer["Subject"] = "referral from Sam, see attached"
    outer.set_content("Sam sent this to me; passing it on.\n")
    outer.add_attachment(inner)
    referral = _from_bytes(outer.as_bytes())
    assert referral.forwarded is True
    assert referral.children[0].given_name == "Amira" and referral.missing == []
