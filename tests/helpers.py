"""Small builders shared by the tests."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

from gateway.config import Config, parse_config
from gateway.outbound.compose import OutgoingMail

BASE_CONFIG = """
[gateway]
mash_address = "mash@hackney.example"

[smtp]
host = "127.0.0.1"
tls = "none"

[[manager]]
name = "Duty Manager"
address = "duty.manager@hackney.example"
"""


def config(extra: str = "") -> Config:
    return parse_config(BASE_CONFIG + extra, "test.toml")


def plain_message(
    n: int,
    *,
    sender: str = "someone@example.org",
    subject: str | None = None,
    body: str | None = None,
    headers: dict[str, str] | None = None,
    size: int = 0,
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "mash@hackney.example"
    msg["Subject"] = subject or f"Message number {n}"
    msg["Date"] = format_datetime(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    msg["Message-ID"] = f"<msg-{n}@example.org>"
    for name, value in (headers or {}).items():
        msg[name] = value
    text = body or f"Body of message {n}.\n"
    if size > len(text):
        line = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor\n"
        text += (line * (size // len(line) + 1))[: size - len(text)] + "\n"
    msg.set_content(text)
    return msg.as_bytes(policy=SMTP)


def auto_reply(n: int) -> bytes:
    return plain_message(
        n, subject=f"Automatic reply: {n}", headers={"Auto-Submitted": "auto-replied"}
    )


def notice(
    title: str,
    to: tuple[str, ...],
    purpose: str = "test-notice",
    subject_ref: str | None = None,
) -> OutgoingMail:
    """An ordinary outbound message, built from the alert template we ship."""
    return OutgoingMail(
        template="manager_alert",
        values={
            "title": title,
            "lines": [],
            "action": "none",
            "cli": None,
            "reference": subject_ref,
            "sent_at": "now",
        },
        recipients=to,
        purpose=purpose,
        subject_ref=subject_ref,
    )
