"""Police notifications (Merlin "Coming to Notice" reports, pre-assessment checks, domestic-abuse
notifications): known by their subject or their sender, both configurable in `[police]`.

A notification is not a referral: nobody is asked for the form's fields, it goes on the Daily
MASH Meeting agenda, and it passes the same urgency screen as everything else.
"""

from __future__ import annotations

from email.message import Message

from gateway.config import PoliceSection
from gateway.domain.urgency import find_phrases
from gateway.mail.addresses import single_address
from gateway.mail.decode import header


def sender_matches(patterns: tuple[str, ...], sender: str | None) -> bool:
    """The exact address, or any address at a `*@domain` entry; never the display name."""
    if sender is None:
        return False
    sender = sender.lower()
    domain = sender.rpartition("@")[2]
    for pattern in patterns:
        pattern = pattern.lower()
        if pattern.startswith("*@") and domain == pattern[2:]:
            return True
        if sender == pattern:
            return True
    return False


def is_police_notification(message: Message, police: PoliceSection) -> bool:
    subject = header(message, "Subject") or ""
    # Negation does not apply to a subject's label: "No. 123 Merlin" is still a Merlin.
    if any(find_phrases(subject, (phrase,), negation=False) for phrase in police.subjects):
        return True
    return sender_matches(police.senders, single_address(header(message, "From")))
