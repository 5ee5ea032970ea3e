"""What an acknowledgement asks back: a member of the public, in plain words, only what they
can tell; a professional, the missing fields by their form names; nobody is asked to email
an answer about immediate risk (they are told to call 999 or the out-of-hours number)."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage

from helpers import config

from gateway.domain.effects import CreateContact
from gateway.inbound.handlers.spine import default_handlers
from gateway.inbound.inspection import _NoState
from gateway.inbound.pipeline import PROCESS_STEPS, StepContext, Work, run
from gateway.inbound.referral.asks import professional_asks, public_asks, risk_unknown
from gateway.outbound.compose import Letters, OutgoingMail

NOW = datetime(2026, 3, 3, 12, 0, tzinfo=UTC)  # a Tuesday, in hours


def _ack(body: str, sender: str) -> tuple[OutgoingMail, str]:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = "mash@hackney.example"
    mail["Subject"] = "Referral"
    mail["Message-ID"] = "<asks-test@sender.example>"
    mail.set_content(body)
    # The school's domain is a professional one, as a MASH would configure it.
    ctx = StepContext(
        config('[front_door]\nprofessional_domains = ["stjohns-school.example"]\n'),
        NOW,
        _NoState(),
        default_handlers(),
    )
    decision = run(PROCESS_STEPS, Work(raw=mail.as_bytes()), ctx).decision
    assert decision is not None
    (created,) = decision.of(CreateContact)
    assert created.mails is not None
    ack = next(m for m in created.mails("MASH-2026-000001") if m.template.startswith("ack_"))
    _subject, text, _html = Letters().render(ack.template, ack.values)
    return ack, text


def test_what_we_ask_back() -> None:
    missing = ["child name", "date of birth or expected date", "address", "referrer name",
               "categories", "immediate risk", "parents aware", "consent", "carer"]
    assert public_asks(missing) == [
        "the child's name, if you know it",
        "where the child lives: the address, or the street and town if that is all",
    ]
    asked = professional_asks(["child 2: date of birth or expected date", *missing])
    assert asked[0].startswith("Child 2: Child's date of birth")
    assert "Category of concern (for example neglect, physical or emotional abuse)" in asked
    assert not any("risk" in item.lower() for item in asked)  # never asked by email
    assert risk_unknown(missing)


def test_a_member_of_the_public_is_asked_only_what_they_can_tell() -> None:
    ack, text = _ack(
        "Concern: I hear a small child crying every night and nobody comes.\n"
        "Your name: A neighbour\n",
        "Worried Neighbour <neighbour@mail.example>",
    )
    assert ack.template == "ack_public"
    assert "the child's name, if you know it" in text
    assert "where the child lives" in text
    for form_word in ("categor", "consent", "carer", "referrer", "immediate risk", "NHS"):
        assert form_word.lower() not in text.lower(), form_word
    assert "call 999" in text
    assert "crying" not in text  # no case detail back to the public


def test_a_professional_is_asked_by_the_forms_names_and_never_to_email_risk() -> None:
    ack, text = _ack(
        "Referrer's name: Sam Teacher\nOrganisation: St John's Primary School\n"
        "Email: sam.teacher@stjohns-school.example\n"
        "Child's Full Name: Amira Okafor\nConcern: Amira has bruising to her arm.\n",
        "Sam Teacher <sam.teacher@stjohns-school.example>",
    )
    assert ack.template == "ack_professional"
    assert "Child's date of birth (or the expected date of delivery for an unborn baby)" in text
    assert "Are the parents/carers aware of this referral? (yes or no)" in text
    assert "Please do not answer that by email" in text
    assert "call 999 now" in text and "0208 356 2710" in text  # the out-of-hours number
    asked = text.split("Please reply to this email with:")[1].split("\n\n")[0]
    assert "risk" not in asked.lower()
