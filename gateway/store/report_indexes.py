"""The indexes the steering group's report reads its aggregates from (migration 0021).

Each covers every column its query reads, so a borough's year is counted from the index
alone, with no look-up into the table per row: decisions by when they were made (the
decisions, outcomes, letters and clocks), each contact's decisions in time order (when a
clock stopped), whether a check's reply flagged increased risk, and whether each child has an
NHS number. Each also serves its table's foreign key, in place of the single-column index it
replaced. Kept beside the models, not in them, so models.py stays small.
"""

from __future__ import annotations

from sqlalchemy import Index, text

from gateway.store.alert_models import UrgentReason
from gateway.store.models import CheckReply, Contact, ContactChild, Decision

DECISIONS_REPORT = (
    "decided_at", "kind", "code", "section", "letter", "letter_withheld_category",
    "contact_id", "due_at",
)  # fmt: skip

UNSURE_OPEN = "referrer_unsure IS {true} AND status NOT IN ('closed', 'forwarded', 'answered')"
# Migration 0023: urgent contacts (by arrival) and the open ones among them.
URGENT = "urgent IS {true}"
URGENT_OPEN = "urgent IS {true} AND status != 'closed'"

INDEXES = (
    Index("ix_decisions_report", *(Decision.__table__.c[name] for name in DECISIONS_REPORT)),
    Index("ix_decisions_contact_at", Decision.contact_id, Decision.decided_at),
    Index("ix_check_replies_risk", CheckReply.check_id, CheckReply.increased_risk),
    Index("ix_contact_children_numbered", ContactChild.contact_id, ContactChild.nhs_number),
    # The digest's referrers to confirm: only the open contacts whose referrer is unsure
    # (migration 0022 spells the same condition).
    Index(
        "ix_contacts_referrer_unsure",
        Contact.received_at,
        sqlite_where=text(UNSURE_OPEN.format(true="1")),
        postgresql_where=text(UNSURE_OPEN.format(true="true")),
    ),
    # The digest's urgent contacts still open, and the agenda's urgent ones since the last
    # meeting: only urgent contacts, never the years of routine ones (migration 0023).
    *(
        Index(
            name,
            Contact.received_at,
            sqlite_where=text(where.format(true="1")),
            postgresql_where=text(where.format(true="true")),
        )
        for name, where in (
            ("ix_contacts_urgent", URGENT),
            ("ix_contacts_urgent_open", URGENT_OPEN),
        )
    ),
    Index("ix_urgent_reasons_found_at", UrgentReason.found_at),
    # Replies that flagged increased risk are few: the report reads their checks as one list.
    Index(
        "ix_check_replies_increased",
        CheckReply.check_id,
        sqlite_where=text("increased_risk = 1"),
        postgresql_where=text("increased_risk"),
    ),
)
