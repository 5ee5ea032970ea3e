"""What a handler decided should happen: small frozen effects, applied in one transaction.

A handler returns a list of these instead of filling in a wide record; one dispatcher
(`gateway.inbound.apply`) carries each out, in order, inside the message's transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from gateway.domain.checks.replies import Attachment
from gateway.domain.checks.request import Request
from gateway.domain.contacts import ContactDraft
from gateway.domain.decisions import DecisionRequest
from gateway.domain.urgency import Reason
from gateway.outbound.compose import OutgoingMail
from gateway.store.ledger import Event


@dataclass(frozen=True)
class SendMail:
    """Queue one message in the outbox."""

    mail: OutgoingMail


@dataclass(frozen=True)
class Record:
    """Append one event to the ledger (after every other effect, so it sees their results)."""

    event: Event


@dataclass(frozen=True)
class MarkBounced:
    """An outbox row we sent came back as permanently undeliverable."""

    row_id: int
    detail: str


@dataclass(frozen=True)
class CreateContact:
    """A new contact; `mails` builds what names its reference once the reference exists."""

    draft: ContactDraft
    mails: Callable[[str], tuple[OutgoingMail, ...]] | None = None


@dataclass(frozen=True)
class CheckReplyDraft:
    """A partner's answer to one check."""

    check_id: int
    sender: str
    matched_by: str
    text: str
    late: bool
    increased_risk: str | None
    attachments: tuple[Attachment, ...] = ()
    verified: bool = False


@dataclass(frozen=True)
class CheckUpdate:
    """What an automatic answer tells about a check: an out-of-office, or undeliverable."""

    check_id: int
    undeliverable: bool = False
    out_of_office: bool = False
    held: bool = False


@dataclass(frozen=True)
class RequestChecks:
    """A manager's emailed request for checks."""

    request: Request


@dataclass(frozen=True)
class RecordDecision:
    """A manager's emailed screening decision or outcome."""

    request: DecisionRequest


@dataclass(frozen=True)
class RememberSignature:
    """A verified signed payload, remembered with the check or contact it was bound to, so
    that the same payload arriving again, bound anywhere, is refused as a replay."""

    payload_sha256: str
    check_id: int | None = None
    subject_ref: str | None = None


@dataclass(frozen=True)
class RaiseDisagreement:
    """A professional's reply that disagrees with a decision on the contact (protocol 5)."""

    reference: str
    sender: str
    text: str
    found: str
    in_reply_to: str | None = None


@dataclass(frozen=True)
class VoiceCommand:
    """An authenticated manager's SHOW, REFERRER, RESOLVE or ANSWER about a contact."""

    verb: str
    reference: str
    by: str  # the manager as the record names them
    sender: str  # their address, told the result
    value: str = ""
    text: str = ""
    key: str | None = None  # the manager's pinned key: the SHOW summary is sealed to it


@dataclass(frozen=True)
class RaiseAlert:
    """The urgency screen found something: the contact is marked urgent, with its reasons,
    and an urgent alert goes at once (to the EDT as well out of hours)."""

    title: str
    what: str
    reasons: tuple[Reason, ...]
    # The contact it is about; None: the contact this same message creates.
    reference: str | None = None
    # The new text that raised it, for the EDT (who cannot look the contact up).
    text: str | None = None


@dataclass(frozen=True)
class AcknowledgeAlert:
    """A manager (or the EDT) answered an urgent alert: its escalation stops."""

    alert_id: int
    by: str


Effect = (
    SendMail
    | Record
    | MarkBounced
    | CreateContact
    | CheckReplyDraft
    | CheckUpdate
    | RequestChecks
    | RecordDecision
    | RememberSignature
    | RaiseDisagreement
    | VoiceCommand
    | RaiseAlert
    | AcknowledgeAlert
)


def send_all(mails: Sequence[OutgoingMail | None]) -> tuple[SendMail, ...]:
    """SendMail effects for the mails that exist (an alert with no managers is None)."""
    return tuple(SendMail(mail) for mail in mails if mail is not None)
