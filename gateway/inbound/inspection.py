"""`mash-gateway inspect`: the decode and classify steps on raw bytes, with no side effects."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from gateway.config import Config
from gateway.crypto.keyring import Keyring
from gateway.crypto.signatures import judge
from gateway.domain.alerts import AlertInfo
from gateway.domain.cases import CaseMatch
from gateway.domain.checks.replies import CheckInfo, sender_allowed
from gateway.domain.managers import manager_by_address
from gateway.inbound.bounces import parse_bounce
from gateway.inbound.pipeline import (
    INSPECT_STEPS,
    Lookup,
    OutboxInfo,
    StepContext,
    StepFailed,
    Work,
    run,
)
from gateway.inbound.quotes import new_text
from gateway.inbound.referral.bodies import body_texts, html_text
from gateway.mail.sender import sender_identity


class _NoState:
    """Inspect reads nothing from the database."""

    def outbox_row(self, row_id: int) -> OutboxInfo | None:
        return None

    def outbox_by_message_id(self, header_message_id: str) -> OutboxInfo | None:
        return None

    def open_case(
        self,
        nhs_number: str | None,
        given: str | None,
        family: str | None,
        date_of_birth: str | None,
        today: date,
    ) -> CaseMatch | None:
        return None

    def contact_exists(self, reference: str) -> bool:
        return False

    def check_by_token(self, token: str) -> CheckInfo | None:
        return None

    def check_by_request(self, header_message_id: str) -> CheckInfo | None:
        return None

    def signature_seen(self, payload_sha256: str) -> bool:
        return False

    def alert_by_token(self, token: str) -> AlertInfo | None:
        return None


def inspect_bytes(
    raw: bytes,
    config: Config,
    now: datetime,
    lookup: Lookup | None = None,
    keyring: Keyring | None = None,
) -> dict[str, Any]:
    """What the gateway would decide. With a LOOKUP (read-only, over the configured database)
    a check reply is matched to its check; without, nothing is read."""
    ctx = StepContext(config=config, now=now, lookup=lookup or _NoState(), keyring=keyring)
    try:
        result = run(INSPECT_STEPS, Work(raw=raw), ctx)
    except StepFailed as failure:
        return {
            "kind": "unknown",
            "auto_reply": False,
            "quarantine_reason": f"step-failed:{failure.step}",
            "reasons": [*failure.reasons, f"{failure.step}: raised {type(failure.error).__name__}"],
            "size": len(raw),
        }
    work = result.work
    decision = result.decision
    automatic = work.automatic
    out: dict[str, Any] = {
        "kind": (decision.kind if decision else work.kind) or "unknown",
        "auto_reply": bool(automatic and automatic.automatic)
        or bool(decision and decision.auto_reply),
        "quarantine_reason": decision.quarantine_reason if decision else None,
        "reasons": list(result.reasons),
        "size": len(raw),
    }
    if automatic is not None:
        out["automatic"] = list(automatic.reasons)
    if work.referral is not None:
        out["referral"] = work.referral.as_json()
    if work.decoded is not None:
        message = work.decoded.message
        out["encrypted"] = bool(work.crypto and work.crypto.encrypted)
        out["signature"] = _signature(work, ctx)
        out["check"] = _check_match(work, ctx, out["signature"]["status"])
        human = not (automatic and automatic.automatic)
        plain, html = body_texts(message)
        out["reply_text"] = new_text(plain if plain.strip() else html_text(html)) if human else None
        if automatic is not None and automatic.bounce:
            bounce = parse_bounce(message, config.gateway.mash_address)
            out["bounce"] = {
                "recipients": [r.recipient for r in bounce.recipients],
                "permanent": bounce.permanent,
                "reader": bounce.reader,
            }
        out["mime"] = {
            "parts": work.decoded.part_count,
            "depth": work.decoded.depth,
            "defects": list(work.decoded.defects),
        }
    return out


def _signature(work: Work, ctx: StepContext) -> dict[str, Any]:
    """The verdict against the key pinned for the sender's address (an agency's or a manager's)."""
    assert work.decoded is not None
    message = work.decoded.message
    sender = sender_identity(work.envelope or message).address
    manager = manager_by_address(ctx.config, sender)
    expected = next(
        (a.key for a in ctx.config.agency if a.key and sender_allowed(a, sender)),
        manager.key if manager is not None else None,
    )
    verdict = judge(
        work.crypto,
        message,
        ctx.config,
        expected=expected,
        not_before=work.checks[0].requested_at if len(work.checks) == 1 else None,
        seen=ctx.lookup.signature_seen,
    )
    return verdict.as_json()


def _check_match(work: Work, ctx: StepContext, signature: str) -> dict[str, Any] | None:
    if len({c.id for c in work.checks}) != 1 or work.decoded is None:
        return None
    check = work.checks[0]
    agency = next((a for a in ctx.config.agency if a.id == check.agency), None)
    sender = sender_identity(work.envelope or work.decoded.message).address
    return {
        "id": check.id,
        "method": work.matched_by,
        "mismatch": work.bound.mismatch if work.bound is not None else None,
        "agency": check.agency,
        "reference": check.reference,
        "sender_allowed": agency is not None and sender_allowed(agency, sender),
        "verified": signature == "verified" and agency is not None and agency.key is not None,
        "late": (work.received_at or ctx.now) > check.due_at,
    }
