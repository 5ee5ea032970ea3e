"""Letters from the templates we ship: user text is only ever a value, never a template."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import SMTP, default
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from gateway.crypto.keyring import Keyring
from gateway.mail.addresses import normalise_address
from gateway.mail.automatic import LOOP_HEADER

DEFAULT_TEMPLATES = Path(__file__).resolve().parent.parent.parent / "templates"


class HeaderInjection(ValueError):
    pass


def safe_header(value: str) -> str:
    if "\r" in value or "\n" in value or "\x00" in value:
        raise HeaderInjection("header value contains CR, LF or NUL")
    return value


class Letters:
    """The Jinja2 environment over `templates/`: StrictUndefined, HTML autoescaped."""

    def __init__(self, directory: Path = DEFAULT_TEMPLATES, keyring: Keyring | None = None) -> None:
        self.directory = directory
        # Seals (signs, encrypts) mail to partner agencies; None: nothing to sign with.
        self.keyring = keyring
        self.env = Environment(
            loader=FileSystemLoader(str(directory)),
            undefined=StrictUndefined,
            autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
            keep_trailing_newline=True,
        )

    def render(self, name: str, values: dict[str, Any]) -> tuple[str, str, str]:
        """(subject, text, html) for template NAME."""
        subject = self.env.get_template(f"{name}.subject.j2").render(values)
        subject = " ".join(subject.split())
        text = self.env.get_template(f"{name}.txt.j2").render(values)
        html = self.env.get_template(f"{name}.html.j2").render(values)
        return safe_header(subject), text, html

    def names(self) -> list[str]:
        return sorted(
            p.name.removesuffix(".subject.j2") for p in self.directory.glob("*.subject.j2")
        )


@dataclass(frozen=True)
class OutgoingMail:
    """What a handler asks to send; the outbox turns it into fixed bytes."""

    template: str
    values: dict[str, Any]
    recipients: tuple[str, ...]
    purpose: str
    subject_ref: str | None = None
    automatic: bool = True
    extra_headers: dict[str, str] = field(default_factory=dict)
    # Whole messages to attach as message/rfc822 (a referral forwarded as it arrived).
    attached_messages: tuple[bytes, ...] = ()
    # Carried in the Message-ID's left part (a check's token), so replies can be matched.
    message_id_tag: str | None = None
    # What the tag names: a check's token ("check") or an urgent alert's ("alert").
    message_id_kind: str = "check"
    # 1: urgent (an alert), sent before routine mail queued ahead of it.
    priority: int = 0
    # Another copy to, e.g., an agency's escalation address.
    cc: tuple[str, ...] = ()
    # OpenPGP: sign it (when the gateway has a signing key); encrypt it to these fingerprints
    # (and the MASH's own key), or hold it if any is unusable; the subject seen outside.
    sign: bool = False
    encrypt_to: tuple[str, ...] = ()
    outer_subject: str | None = None
    # A share of case information: its lawful basis, consent and purpose, recorded with the
    # mail-queued ledger event (Caldicott: what was shared, with whom, why, on what basis).
    share: dict[str, Any] | None = None
    # Files to attach: (filename, MIME type, bytes), e.g. a report's HTML and PDF.
    attachments: tuple[tuple[str, str, bytes], ...] = ()
    # Carries no case information at all (the notice that a sealed message waits): the one
    # kind of mail that may go in clear to an address that otherwise only gets sealed mail.
    content_free: bool = False


def new_message_id(mash_address: str, tag: str | None = None, kind: str = "check") -> str:
    domain = mash_address.rpartition("@")[2]
    return f"{message_id_prefix(tag, kind)}{uuid.uuid4().hex}@{domain}>"


def message_id_prefix(tag: str | None, kind: str = "check") -> str:
    """How every Message-ID carrying `tag` (a check's or an alert's token) begins."""
    return f"<{kind}.{tag}." if tag else "<"


def build_mime(
    letters: Letters,
    mail: OutgoingMail,
    *,
    mash_address: str,
    instance: str,
    message_id: str,
    now: datetime,
) -> bytes:
    subject, text, html = letters.render(mail.template, mail.values)
    msg = EmailMessage(policy=SMTP)
    msg["From"] = mash_address
    msg["To"] = ", ".join(normalise_address(r) for r in mail.recipients)
    if mail.cc:
        msg["Cc"] = ", ".join(normalise_address(r) for r in mail.cc)
    msg["Subject"] = subject
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = message_id
    msg[LOOP_HEADER] = safe_header(instance)
    if mail.automatic:
        msg["Auto-Submitted"] = "auto-generated"
    for name, value in mail.extra_headers.items():
        msg[safe_header(name)] = safe_header(value)
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    for raw in mail.attached_messages:
        msg.add_attachment(message_from_bytes(raw, policy=default))
    for filename, mime, data in mail.attachments:
        maintype, _, subtype = mime.partition("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=safe_header(filename))
    return msg.as_bytes()
