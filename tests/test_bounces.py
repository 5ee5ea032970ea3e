"""Bounces from many MTAs: who could not be reached, and whether for good (never assumed)."""

from __future__ import annotations

import json
from email import message_from_bytes
from email.policy import default
from pathlib import Path

from gateway.inbound.bounces import normalise_address, parse_bounce

CORPUS = Path(__file__).parent / "data" / "bounces"
MASH = "mash@hackney.example"


def _bounce(raw: bytes):  # type: ignore[no-untyped-def]
    return parse_bounce(message_from_bytes(raw, policy=default), MASH)


def _dsn(*blocks: str) -> bytes:
    return (
        "From: MAILER-DAEMON@mx.example\r\nTo: <mash@hackney.example>\r\n"
        "Subject: Delivery Status Notification\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nReport.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example\r\n"
        + "".join(f"\r\n{block}" for block in blocks)
        + "\r\n--B--\r\n"
    ).encode()


def test_recipients_are_normalised_and_never_repeated() -> None:
    bounce = _bounce(
        _dsn(
            "Final-Recipient: rfc822; <Bob@Example.ORG>\r\nAction: failed\r\nStatus: 5.1.1\r\n",
            "Final-Recipient: RFC822;bob@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n",
        )
    )
    assert bounce.addresses == ("bob@example.org",)
    assert normalise_address("rfc822; <Ann.Lee@NHS.example>") == "ann.lee@nhs.example"


def test_the_original_recipient_is_preferred_when_a_forward_changed_it() -> None:
    bounce = _bounce(
        _dsn(
            "Original-Recipient: rfc822; health-mash@nhs.example\r\n"
            "Final-Recipient: rfc822; j.smith@mail.nhs.example\r\nAction: failed\r\n"
            "Status: 5.2.2\r\n"
        )
    )
    assert bounce.addresses == ("health-mash@nhs.example",)


def test_permanence_comes_from_the_action_then_the_status_never_from_a_guess() -> None:
    delayed = _bounce(_dsn("Final-Recipient: rfc822; a@x.example\r\nAction: delayed\r\n"))
    assert delayed.permanent is False
    expired = _bounce(
        _dsn("Final-Recipient: rfc822; a@x.example\r\nAction: failed\r\nStatus: 4.4.7\r\n")
    )
    assert expired.permanent is True  # given up on: the message will not arrive
    by_status = _bounce(_dsn("Final-Recipient: rfc822; a@x.example\r\nStatus: 4.2.2\r\n"))
    assert by_status.permanent is False
    unreadable = _bounce(
        b"From: MAILER-DAEMON@mx.example\r\nSubject: Returned mail\r\n\r\n"
        b"Something went wrong with your message.\r\n"
    )
    assert unreadable.recipients == () and unreadable.permanent is None


def test_a_bounce_without_a_delivery_status_part_is_read_by_flufl_bounce() -> None:
    bounce = _bounce((CORPUS / "flufl.bounce" / "qmail_01.txt").read_bytes())
    assert bounce.reader == "flufl.bounce"
    assert bounce.addresses == ("userx@example.de",) and bounce.permanent is True
    warning = _bounce((CORPUS / "flufl.bounce" / "simple_03.txt").read_bytes())
    assert warning.permanent is False  # a delay warning, not a failure


def test_recipients_and_permanence_on_450_real_bounces() -> None:
    expected = json.loads((CORPUS / "expected.json").read_text(encoding="utf-8"))
    assert len(expected) >= 150 and len({v["mta"] for v in expected.values()}) >= 40
    recipients = permanence = non_dsn = non_dsn_right = 0
    for name, want in expected.items():
        bounce = _bounce((CORPUS / name).read_bytes())
        got = set(bounce.addresses)
        recipients += got == set(want["recipients"])
        permanence += bounce.permanent is want["permanent"]
        if bounce.reader != "dsn":
            non_dsn += 1
            non_dsn_right += got == set(want["recipients"])
    assert recipients / len(expected) >= 0.98, recipients
    assert permanence / len(expected) >= 0.98, permanence
    assert non_dsn >= 100 and non_dsn_right / non_dsn >= 0.97, (non_dsn_right, non_dsn)
