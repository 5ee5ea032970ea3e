"""What the law asks of sharing (protocol section 10) and how long raw mail is kept."""

from __future__ import annotations

from pydantic import StrictBool, StrictStr

from gateway.config.base import Duration, _Section

DEFAULT_LAWFUL_BASIS = (
    "UK GDPR Article 6(1)(e) (a task in the public interest) and Article 9(2)(g) (substantial "
    "public interest); Data Protection Act 2018 Schedule 1 paragraph 18 (safeguarding of "
    "children and of individuals at risk)"
)


class SharingSection(_Section):
    """The lawful basis every share states and records."""

    # Stated in every check request and recorded on every share, with the agency's
    # data-sharing agreement reference.
    lawful_basis: StrictStr = DEFAULT_LAWFUL_BASIS
    # A consent override's reason is always recorded; false: the partner is told only that
    # consent was overridden by a manager; true: the partner is told the reason too.
    override_reason_to_partners: StrictBool = False


class RetentionSection(_Section):
    """How long the raw mail of a closed contact is kept (unset: for ever)."""

    # After the contact closed (its outcome, or its forward to the case-holding unit), the
    # raw bytes of its messages, their attachments and the mail sent about it are deleted;
    # the structured record and the ledger stay.
    raw_messages_after: Duration | None = None
