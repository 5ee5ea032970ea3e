"""The simulated people's mail: referrals in the shapes they really arrive in, partners'
replies as people write them, and a manager's signed command emails."""

from __future__ import annotations

import io
import secrets
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid

from gateway_dev.demo.world import MANAGER, MASH, Identity

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _mail(sender: str, subject: str, at: datetime, **headers: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = headers.pop("to", MASH)
    msg["Subject"] = subject
    msg["Date"] = format_datetime(at)
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2].rstrip(">"))
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    return msg


def school_html_form(at: datetime) -> bytes:
    rows = [
        ("Referrer's name", "Sam Lead"),
        ("Role", "Designated Safeguarding Lead"),
        ("Organisation", "St John's Primary School"),
        ("Email", "dsl@stjohns-school.example"),
        ("Child's name", "Amira Okafor"),
        ("Date of birth", "03/04/2019"),
        ("Address", "12 Mare Street, London E8 1AA"),
        ("NHS number", "943 476 5919"),
        ("Parents/carers", "Mother Jo Okafor, father Dan Okafor"),
        ("Concern", "Bruising to the upper arm; Amira says her father grabbed her."),
        ("Category of concern", "Physical abuse; domestic abuse"),
        ("Immediate risk", "No"),
        ("Parents aware", "Yes"),
        ("Consent", "Given by mother"),
    ]
    table = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    msg = _mail("Sam Lead <dsl@stjohns-school.example>", "MASH referral form", at)
    msg.set_content("This referral was sent from the online MASH form.")
    msg.add_alternative(f"<html><body><table>{table}</table></body></html>", subtype="html")
    return msg.as_bytes(policy=SMTP)


def health_visitor_docx(at: datetime) -> bytes:
    from docx import Document

    document = Document()
    document.add_heading("MASH referral form", level=1)
    table = document.add_table(rows=0, cols=2)
    for label, value in [
        ("Referrer's name", "Hana Visitor"),
        ("Role", "Health visitor"),
        ("Organisation", "Homerton Healthcare NHS Trust"),
        ("Email", "hana.visitor@nhs.example"),
        ("Child's name", "Kofi Mensah"),
        ("Date of birth", "14/02/2025"),
        ("Address", "22 Sandringham Road, London E8 2LL"),
        ("Parents/carers", "Ama Mensah"),
        ("Concern", "Mother appeared intoxicated at the 12-month review; the flat was cold."),
        ("Category of concern", "Parental substance misuse; neglect"),
        ("Immediate risk", "No"),
        ("Parents aware", "No"),
        ("Consent", "Not sought: mother may leave with the baby if told"),
    ]:
        cells = table.add_row().cells
        cells[0].text, cells[1].text = label, value
    data = io.BytesIO()
    document.save(data)
    msg = _mail("Hana Visitor <hana.visitor@nhs.example>", "Referral - Kofi Mensah", at)
    msg.set_content("Please find our referral form attached.\n\nHana Visitor, Health visitor\n")
    msg.add_attachment(
        data.getvalue(),
        maintype="application",
        subtype=DOCX.split("/")[1],
        filename="referral.docx",
    )
    return msg.as_bytes(policy=SMTP)


def worried_neighbour(at: datetime) -> bytes:
    msg = _mail(
        "Pat Neighbour <worried.neighbour@mail.example>",
        "worried about the little boy next door",
        at,
    )
    msg.set_content(
        "I keep hearing a child screaming late at night next door and he is often left alone.\n"
    )
    return msg.as_bytes(policy=SMTP)


def night_referral(at: datetime) -> bytes:
    """An A&E nurse, near midnight: the form says immediate risk; the MASH is closed."""
    msg = _mail("Jo Nurse <jo.nurse@nhs.example>", "Urgent MASH referral - Maya Cole", at)
    msg.set_content(
        "Referrer's name: Jo Nurse\nRole: Emergency department nurse\n"
        "Organisation: Homerton Hospital\nEmail: jo.nurse@nhs.example\nPhone: 020 8510 5555\n"
        "Child's name: Maya Cole\nDate of birth: 09/09/2018\n"
        "Address: 7 Navarino Road, London E8 1AD\nParents/carers: Mother Dee Cole\n"
        "Concern: Maya came in with her mother, who says her partner threatened to kill them "
        "both tonight; they cannot go home.\nCategory: Domestic abuse\nImmediate risk: Yes\n"
        "Parents aware: Yes\nConsent: Given by mother\n"
    )
    return msg.as_bytes(policy=SMTP)


def acknowledges(
    sender: str, alert: EmailMessage, text: str, at: datetime, identity: Identity | None = None
) -> bytes:
    """A manager, or the Emergency Duty Team, answers an urgent alert from its own address,
    signed where its key is pinned (the manager's is: an unsigned answer would not count)."""
    msg = _mail(sender, f"RE: {alert['Subject']}", at)
    msg["In-Reply-To"] = str(alert["Message-ID"])
    if identity is not None:
        return _signed(identity, msg, text)
    msg.set_content(text)
    return msg.as_bytes(policy=SMTP)


def police_notification(at: datetime) -> bytes:
    msg = _mail(
        "Police MASH desk <police-mash@met.example>", "MERLIN PAC report - domestic incident", at
    )
    msg.set_content(
        "Child's name: Leo Brown\nDate of birth: 05/06/2012\n"
        "Address: 4 Well Street, London E9 7PX\nParents/carers: Mother Kim Brown\n"
        "Concern: Police attended a domestic incident at 01:30; Leo was present.\n"
        "Category: Domestic abuse\nImmediate risk: No\nParents aware: Yes\n"
        "Consent: Not required for a police notification\n"
    )
    return msg.as_bytes(policy=SMTP)


def _protected(headers: EmailMessage, text: str) -> bytes:
    """The signed entity as a modern client makes it: the subject and thread headers inside
    the signature too (protected headers), so what the text is about is signed with it."""
    inside = "".join(
        f"{name}: {headers[name]}\r\n"
        for name in ("Subject", "In-Reply-To", "References")
        if headers[name] is not None
    )
    return (
        inside.encode()
        + b'Content-Type: text/plain; charset="utf-8"; protected-headers="v1"\r\n\r\n'
        + text.replace("\n", "\r\n").encode()
    )


def _signed(identity: Identity, headers: EmailMessage, text: str) -> bytes:
    """PGP/MIME multipart/signed (RFC 3156), as a mail client makes it."""
    inner = _protected(headers, text)
    signature = identity.gpg("--armor", "--detach-sign", "-u", identity.fingerprint, data=inner)
    boundary = f"sig{secrets.token_hex(8)}".encode()
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items()).encode()
    return (
        head + b'MIME-Version: 1.0\r\nContent-Type: multipart/signed; micalg="pgp-sha512";'
        b' protocol="application/pgp-signature"; boundary="' + boundary + b'"\r\n\r\n'
        b"--"
        + boundary
        + b"\r\n"
        + inner
        + b"\r\n--"
        + boundary
        + b"\r\nContent-Type: application/pgp-signature\r\n\r\n"
        + signature.replace(b"\n", b"\r\n")
        + b"\r\n--"
        + boundary
        + b"--\r\n"
    )


def professional_reply(sender: str, reference: str, text: str, at: datetime) -> bytes:
    """A professional writing back about a contact, its reference in the subject."""
    msg = _mail(sender, f"RE: MASH outcome for referral {reference}", at)
    msg.set_content(text)
    return msg.as_bytes(policy=SMTP)


def manager_command(manager: Identity, reference: str, text: str, at: datetime) -> bytes:
    return _signed(manager, _mail(f"Duty Manager <{MANAGER}>", f"Re: {reference}", at), text)


def partner_reply(
    sender: str,
    request: EmailMessage,
    text: str,
    at: datetime,
    *,
    auto: bool = False,
    identity: Identity | None = None,
    mash_key: str | None = None,
) -> bytes:
    headers = _mail(
        sender,
        f"{'Automatic reply' if auto else 'RE'}: {request['Subject']}",
        at,
        to=str(request["Reply-To"] or MASH),
    )
    headers["In-Reply-To"] = str(request["Message-ID"])
    if auto:
        headers["Auto-Submitted"] = "auto-replied"
    if identity is None:
        headers.set_content(text)
        return headers.as_bytes(policy=SMTP)
    # Signed and encrypted to the MASH with the partner's own key (PGP/MIME).
    assert mash_key is not None
    inner = _protected(headers, text)
    armored = identity.gpg(
        "--armor", "--encrypt", "--sign", "-u", identity.fingerprint, "-r", mash_key, data=inner
    )
    boundary = f"enc{secrets.token_hex(8)}".encode()
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items()).encode()
    return (
        head + b"MIME-Version: 1.0\r\nContent-Type: multipart/encrypted;"
        b' protocol="application/pgp-encrypted"; boundary="' + boundary + b'"\r\n\r\n'
        b"--" + boundary + b"\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n"
        b"--"
        + boundary
        + b"\r\nContent-Type: application/octet-stream\r\n\r\n"
        + armored.replace(b"\n", b"\r\n")
        + b"\r\n--"
        + boundary
        + b"--\r\n"
    )
