"""The letters, read as a MASH manager and a member of the public would: right in law for
professionals, plain and safe for everyone else. Rendered from the shipped templates."""

from __future__ import annotations

import re

import pytest
import textstat

from gateway.outbound.compose import Letters
from gateway.outbound.samples import SAMPLES

LETTERS = Letters()
OUTCOMES = [n for n in LETTERS.names() if n.startswith("outcome_")]
PUBLIC_TEMPLATES = ["ack_public", *OUTCOMES]  # outcome_* with public=True
# Jargon, and words that would tell a member of the public that an enquiry is under way.
AVOID_IN_PUBLIC = (
    "section 47",
    "section 17",
    "s47",
    "s17",
    "children act",
    "threshold",
    "strategy",
    "contact",
    "referral",
    "enquiry",
    "enquiries",
    "assessment",
    "investigation",
    "child protection",
    "significant harm",
    "social worker",
    "early help",
    "police",
    "case",
    "screening",
)
# The name of the service is not jargon to avoid: it is who is writing.
SERVICE_NAME = "Multi-Agency Safeguarding Hub"
# Flesch reading ease: 60 and above is plain English (most adults read it easily).
PLAIN_ENGLISH = 60.0
NAMES = ("Amira", "Okafor")


def _public(name: str) -> dict[str, object]:
    values = dict(SAMPLES[name])
    values["public"] = True
    return values


def _render(name: str, values: dict[str, object]) -> tuple[str, str, str]:
    return LETTERS.render(name, values)


def _prose(text: str) -> str:
    """The letter as running text: the service's name, reference, numbers and addresses out."""
    text = text.replace(SERVICE_NAME, "the hub")
    text = re.sub(r"MASH-\d{4}-\d{6}", "your number", text)
    text = re.sub(r"\S+@\S+", "our email", text)
    text = re.sub(r"\d[\d ]{6,}\d", "our number", text)
    return text


@pytest.mark.parametrize("name", PUBLIC_TEMPLATES)
def test_public_letters_are_plain_english(name: str) -> None:
    values = _public(name) if name.startswith("outcome_") else dict(SAMPLES[name])
    subject, text, html = _render(name, values)
    score = textstat.flesch_reading_ease(_prose(text))
    assert score >= PLAIN_ENGLISH, f"{name}: Flesch reading ease {score:.0f}"
    lowered = _prose(f"{subject}\n{text}").lower()
    found = [w for w in AVOID_IN_PUBLIC if re.search(rf"\b{re.escape(w)}\b", lowered)]
    assert not found, f"{name} uses {found}"
    for person in NAMES:  # no third-party information about another family
        assert person not in text and person not in html and person not in subject, name
    assert "020 8356 5500" in text and "999" in text


@pytest.mark.parametrize("name", OUTCOMES)
def test_public_outcome_letters_say_only_that_we_acted(name: str) -> None:
    subject, text, _html = _render(name, _public(name))
    assert "we have acted on it" in text
    assert "We do not share details about another family" in text
    assert "children.complaints@hackney.gov.uk" in text and "020 8356 5800" in text
    assert "in touch with the family" not in text
    # The same words whatever the outcome: the letter itself must not reveal it.
    same = _render("outcome_no_further_action", _public("outcome_no_further_action"))[1]
    assert text == same
    assert subject.count("MASH-2026-000123") == 1


@pytest.mark.parametrize("name", OUTCOMES)
def test_professional_letters_give_the_phone_and_the_disagreement_route(name: str) -> None:
    subject, text, html = _render(name, dict(SAMPLES[name]))
    assert "020 8356 5500" in text and "020 8356 5500" in html
    assert "If you disagree with this decision" in text
    assert "service manager or the head of service" in text
    assert "escalation policy" in text and "DISAGREE" in text
    assert "mash.service.manager@hackney.example" in text
    assert subject.count("MASH-2026-000123") == 1
    assert "complaints" not in text  # that route is the public's


def test_section_47_is_about_significant_harm_and_section_17_about_need() -> None:
    values = dict(SAMPLES["outcome_statutory_assessment"])
    s47 = _render("outcome_statutory_assessment", {**values, "section": "47"})[1]
    assert "significant harm" in s47 and "section 47 of the Children Act 1989" in s47
    assert "working with the police where needed" in s47
    assert "needs" not in s47  # the language of section 17, not of an enquiry into harm
    s17 = _render("outcome_statutory_assessment", {**values, "section": "17"})[1]
    assert "section 17 of the Children Act 1989" in s17 and "in need" in s17
    assert "significant harm" not in s17 and "police" not in s17


def test_advice_letter_never_claims_the_family_was_advised_unless_recorded() -> None:
    values = dict(SAMPLES["outcome_advice_and_guidance"])
    told = _render("outcome_advice_and_guidance", {**values, "family_advised": False})[1]
    assert "Our advice to you" in told and "given the family advice" not in told
    advised = _render("outcome_advice_and_guidance", {**values, "family_advised": True})[1]
    assert "We have also given the family advice" in advised


def test_information_request_acknowledgement_speaks_of_a_request() -> None:
    values = {**SAMPLES["ack_professional"], "rfi": True, "due_by": "Tuesday 17 March 2026"}
    subject, text, _html = _render("ack_professional", values)
    assert "request for information" in text and "Thank you for your referral" not in text
    assert subject.startswith("MASH information request received")
    assert "by Tuesday 17 March 2026" in text
