"""Partner replies in the shapes they really arrive in, each with the outcome it should get.

Shared by tests/test_matching.py (every case must come out right) and bench/matching.py
(prints the table and the accuracy).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage

from helpers import config

from gateway.domain.cases import CaseMatch
from gateway.domain.checks.replies import CheckInfo
from gateway.domain.effects import CheckReplyDraft, CheckUpdate
from gateway.inbound.handlers.spine import default_handlers
from gateway.inbound.pipeline import PROCESS_STEPS, OutboxInfo, StepContext, Work, run

NOW = datetime(2026, 3, 3, 12, 0, tzinfo=UTC)
CONFIG = config(
    """
[[agency]]
id = "police"
dsa_signed = 2025-01-15
name = "Police"
check_address = "police-mash@met.example"
reply_from = ["police-mash@met.example"]
security = "tls"

[[agency]]
id = "health"
dsa_signed = 2025-01-15
name = "Health"
check_address = "health-mash@nhs.example"
reply_from = ["*@nhs.example"]
security = "tls"
"""
)
POLICE = CheckInfo(
    1,
    "MASH-2026-000001",
    "police",
    "red",
    "pending",
    "K7Q2XW4P",
    NOW,
    NOW + timedelta(hours=4),
    "<check.K7Q2XW4P.0a1b2c@hackney.example>",
)
HEALTH = CheckInfo(
    2,
    "MASH-2026-000001",
    "health",
    "amber",
    "pending",
    "M3N4P5Q6",
    NOW,
    NOW + timedelta(hours=24),
    "<check.M3N4P5Q6.3d4e5f@hackney.example>",
)
CHASE_ID = "<check.K7Q2XW4P.9f8e7d@hackney.example>"


class Lookup:
    checks = {c.token: c for c in (POLICE, HEALTH)}
    ours = {POLICE.request_message_id, HEALTH.request_message_id, CHASE_ID}

    def outbox_row(self, row_id: int) -> OutboxInfo | None:
        return None

    def outbox_by_message_id(self, header_message_id: str) -> OutboxInfo | None:
        if header_message_id not in self.ours:
            return None
        return OutboxInfo(1, header_message_id, "check", "MASH-2026-000001", (), "sent")

    def open_case(
        self, nhs: str | None, given: str | None, family: str | None, dob: str | None, today: date
    ) -> CaseMatch | None:
        return None

    def contact_exists(self, reference: str) -> bool:
        return reference == "MASH-2026-000001"

    def check_by_token(self, token: str) -> CheckInfo | None:
        return self.checks.get(token.upper())

    def signature_seen(self, payload_sha256: str) -> bool:
        return False

    def check_by_request(self, header_message_id: str) -> CheckInfo | None:
        return next(
            (c for c in self.checks.values() if c.request_message_id == header_message_id), None
        )


@dataclass(frozen=True)
class Case:
    name: str
    raw: bytes
    expected: str  # "check 1 by message-id", "triage:sender", "kind referral", ...


def _mail(
    sender: str,
    subject: str,
    body: str,
    *,
    to: str = "mash@hackney.example",
    headers: dict[str, str] | None = None,
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = "<r@partner.example>"
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    return msg.as_bytes()


REQ = "[RED] MASH check MASH-2026-000001 [#K7Q2XW4P]"
OUTLOOK_QUOTE = f"\n\n-----Original Message-----\nFrom: mash@hackney.example\nSubject: {REQ}\n"


def cases() -> list[Case]:
    police = "police-mash@met.example"
    return [
        Case(
            "Outlook reply, In-Reply-To",
            _mail(
                police,
                f"RE: {REQ}",
                "No trace." + OUTLOOK_QUOTE,
                headers={"In-Reply-To": POLICE.request_message_id or ""},
            ),
            "check 1 by message-id",
        ),
        Case(
            "Gmail reply, References only",
            _mail(
                police,
                f"Re: {REQ}",
                "No trace.",
                headers={"References": f"<a@b.example> {POLICE.request_message_id}"},
            ),
            "check 1 by message-id",
        ),
        Case(
            "reply to a chase reminder",
            _mail(police, "RE: reminder", "Sorry, no trace.", headers={"In-Reply-To": CHASE_ID}),
            "check 1 by message-id",
        ),
        Case(
            "threading headers stripped, subject kept",
            _mail(police, f"RE: {REQ}", "No trace."),
            "check 1 by subject tag",
        ),
        Case(
            "tag lower-cased by a client",
            _mail(police, "re: mash check [#k7q2xw4p]", "None."),
            "check 1 by subject tag",
        ),
        Case(
            "new mail to the Reply-To plus-address",
            _mail(
                police, "Information you asked for", "No trace.", to="mash+K7Q2XW4P@hackney.example"
            ),
            "check 1 by plus-address",
        ),
        Case(
            "plus-address lower-cased by an MTA",
            _mail(police, "Answer", "No trace.", to="MASH+k7q2xw4p@hackney.example"),
            "check 1 by plus-address",
        ),
        Case(
            "subject rewritten, tag only in the quoted body",
            _mail(
                police,
                "Our answer",
                "No trace.\n\n> [RED] MASH check MASH-2026-000001 [#K7Q2XW4P]\n",
            ),
            "check 1 by body tag",
        ),
        Case(
            "another address at a *@domain agency",
            _mail(
                "nurse.lee@nhs.example",
                "RE: [AMBER] MASH check MASH-2026-000001 [#M3N4P5Q6]",
                "Known to us.",
            ),
            "check 2 by subject tag",
        ),
        Case(
            "unregistered address",
            _mail("officer@gmail.example", f"RE: {REQ}", "All clear."),
            "triage:sender",
        ),
        Case(
            "display name spoofing the agency",
            _mail(f'"{police}" <x@evil.example>', f"RE: {REQ}", "All clear."),
            "triage:sender",
        ),
        Case(
            "look-alike domain",
            _mail("police-mash@met-example.com", f"RE: {REQ}", "All clear."),
            "triage:sender",
        ),
        Case(
            "another agency answering police's check",
            _mail("nurse.lee@nhs.example", f"RE: {REQ}", "Not ours."),
            "triage:sender",
        ),
        Case(
            "one reply naming two checks",
            _mail(police, "answers [#K7Q2XW4P] [#M3N4P5Q6]", "Both."),
            "triage:ambiguous",
        ),
        Case(
            "out-of-office to the request",
            _mail(
                police,
                f"Automatic reply: {REQ}",
                "Away until Monday.",
                headers={
                    "Auto-Submitted": "auto-replied",
                    "In-Reply-To": POLICE.request_message_id or "",
                },
            ),
            "kind auto_reply, out-of-office",
        ),
        Case("a guessed token", _mail(police, "RE: [#ZZZZZZZZ]", "Hello."), "kind unknown"),
    ]


def outcome(case: Case, lookup: object | None = None) -> str:
    """The verdict on one case, against the hand-written state or a real `DbLookup`."""
    ctx = StepContext(CONFIG, NOW, lookup or Lookup(), default_handlers())  # type: ignore[arg-type]
    decision = run(PROCESS_STEPS, Work(raw=case.raw, received_at=NOW), ctx).decision
    assert decision is not None
    replies = decision.of(CheckReplyDraft)
    if replies:
        return f"check {replies[0].check_id} by {replies[0].matched_by}"
    if decision.quarantine_reason and decision.quarantine_reason.startswith("triage:"):
        return decision.quarantine_reason
    if any(u.out_of_office for u in decision.of(CheckUpdate)):
        return f"kind {decision.kind}, out-of-office"
    return f"kind {decision.kind}"


def seed(session: object) -> None:
    """The same state as `Lookup`, as rows: one contact, its two checks, the mail that asked."""
    from sqlalchemy.orm import Session

    from gateway.store.models import Check, Contact, OutboxRow

    assert isinstance(session, Session)
    contact = Contact(
        reference="MASH-2026-000001",
        received_at=NOW,
        created_at=NOW,
        channel="email",
        source="school",
        missing=[],
        referral={},
        linked=[],
    )
    session.add(contact)
    session.flush()
    for info in (POLICE, HEALTH):
        session.add(
            Check(
                id=info.id,
                contact_id=contact.id,
                reference=info.reference,
                agency=info.agency,
                rag=info.rag,
                token=info.token,
                context="Bruising reported by school.",
                questions=[],
                requested_by="duty.manager@hackney.example",
                requested_at=info.requested_at,
                due_at=info.due_at,
                status=info.status,
                request_message_id=info.request_message_id,
            )
        )
    for message_id in sorted(Lookup.ours):
        session.add(
            OutboxRow(
                header_message_id=message_id,
                envelope_from="mash+bounce@hackney.example",
                recipients=["police-mash@met.example"],
                raw=b"",
                purpose="check",
                subject_ref="MASH-2026-000001",
                state="sent",
                next_attempt_at=NOW,
                created_at=NOW,
            )
        )
