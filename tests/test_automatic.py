"""Automatic mail told from people: RFC 3834, vendor headers, subjects in many languages,
challenge-response services; and never a person's referral taken for an out-of-office."""

from __future__ import annotations

import json
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import pytest
from forms import DOCX_MIME, docx_form

from gateway.mail.automatic import detect

DATA = Path(__file__).parent / "data"


def _message(subject: str, headers: dict[str, str] | None = None, **kw: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = kw.get("sender", "Jane Smith <jane.smith@school.example>")
    message["To"] = "mash@hackney.example"
    message["Subject"] = subject
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(kw.get("body", "I am away until Monday."))
    return message


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto-Submitted": "auto-replied"},
        {"X-Autoreply": "yes"},
        {"X-Autorespond": "Out of office"},
        {"X-Apple-Action": "VACATION"},
        {"Precedence": "auto_reply"},
        {"X-Auto-Response": "yes"},
    ],
    ids=lambda h: next(iter(h)),
)
def test_a_responders_header_is_enough(headers: dict[str, str]) -> None:
    assert detect(_message("Re: your request", headers), "gw").automatic


@pytest.mark.parametrize(
    "subject",
    [
        "Automatic reply: Check request MASH-2026-000001",
        "Out of Office: MASH check",
        "Out of Office AutoReply: MASH check",
        "AUTO: Jane Smith is out of the office (returning 09/03/2026)",
        "Auto reply: MASH check",
        "Abwesenheitsnotiz: Anfrage",
        "Réponse automatique : demande",
        "Respuesta automática: solicitud",
        "Risposta automatica: richiesta",
        "Automatisch antwoord: verzoek",
        "Autosvar: forespørsel",
        "Odpowiedź automatyczna: prośba",
        "Автоматический ответ: запрос",
        "Ateb awtomatig: cais",
    ],
)
def test_out_of_office_subjects_in_many_languages(subject: str) -> None:
    found = detect(_message(subject), "gw")
    assert found.automatic and not found.bounce, subject


def test_a_challenge_response_service_is_not_a_person() -> None:
    challenge = _message(
        "Please confirm your message to jane.smith@school.example",
        {"In-Reply-To": "<req-1@hackney.example>"},
        sender="Boxbe <notify@boxbe.com>",
    )
    assert detect(challenge, "gw").automatic


def test_an_exchange_rule_forwarding_a_referral_is_a_person() -> None:
    # Exchange stamps its rule header on what it forwards, not only on out-of-office replies.
    forwarded = _message(
        "FW: Referral - child at risk",
        {"X-MS-Exchange-Inbox-Rules-Loop": "office@school.example"},
        body="Child's name: Amira Hassan\nConcern: bruising on both arms",
    )
    assert not detect(forwarded, "gw").automatic
    ooo = _message("Automatic reply: MASH check", {"X-MS-Exchange-Inbox-Rules-Loop": "a@x.example"})
    assert detect(ooo, "gw").automatic


def test_out_of_hours_in_a_subject_is_not_an_out_of_office() -> None:
    referral = _message("Out of office hours referral: Amira Hassan", body="Concern: ...")
    assert not detect(referral, "gw").automatic


def test_a_subject_alone_never_silences_a_message_with_a_form_attached() -> None:
    message = _message("Out of office: referral form attached")
    maintype, subtype = DOCX_MIME.split("/")
    message.add_attachment(docx_form(), maintype=maintype, subtype=subtype, filename="r.docx")
    assert not detect(message, "gw").automatic
    message["Auto-Submitted"] = "auto-replied"
    assert detect(message, "gw").automatic  # a responder's header still counts


def test_on_the_public_corpus_every_auto_reply_is_found_and_no_person_lost() -> None:
    expected = json.loads((DATA / "automatic" / "expected.json").read_text(encoding="utf-8"))
    bounces = json.loads((DATA / "bounces" / "expected.json").read_text(encoding="utf-8"))
    found: dict[str, list[bool]] = {}
    for base, labels in (("automatic", expected), ("bounces", dict.fromkeys(bounces, "bounce"))):
        for name, label in labels.items():
            raw = (DATA / base / name).read_bytes()
            result = detect(message_from_bytes(raw, policy=default), "gw")
            ok = {"person": not result.automatic, "bounce": result.bounce}.get(
                label, result.automatic
            )
            found.setdefault(label, []).append(ok)
    assert all(found["auto_reply"]) and all(found["person"])
    assert sum(found["report"]) >= len(found["report"]) - 1
    assert sum(found["bounce"]) / len(found["bounce"]) >= 0.93
