"""Handlers for the kinds the mail spine understands: automatic mail and bounces."""

from __future__ import annotations

from gateway.domain.effects import MarkBounced, RaiseAlert, Record, send_all
from gateway.inbound.bounces import parse_bounce
from gateway.inbound.handlers.alert_reply import handle_alert_reply
from gateway.inbound.handlers.check_reply import handle_check_reply, out_of_office, undeliverable
from gateway.inbound.handlers.command import handle_manager_command
from gateway.inbound.handlers.disagreement import disagreement_effects
from gateway.inbound.handlers.front_door import handle_referral
from gateway.inbound.pipeline import Decision, Handler, OutboxInfo, StepContext, Work
from gateway.inbound.screening import new_message_text, screen_message
from gateway.mail.verp import verp_matches
from gateway.outbound.failed import failure_alert
from gateway.store.ledger import Event


def handle_auto_reply(work: Work, ctx: StepContext) -> Decision:
    """Recorded, never answered; an out-of-office to a check request is noted on the check."""
    reasons = work.automatic.reasons if work.automatic else ()
    decision = Decision(
        state="processed",
        kind="auto_reply",
        auto_reply=True,
        effects=(Record(Event(action="auto-reply-recorded", detail={"why": list(reasons)})),),
    )
    return out_of_office(work, ctx, decision)


def _bounced_row(work: Work, ctx: StepContext) -> tuple[OutboxInfo | None, str]:
    assert work.decoded is not None
    bounce = parse_bounce(work.decoded.message, ctx.config.gateway.mash_address)
    if bounce.verp is not None:
        row = ctx.lookup.outbox_row(bounce.verp[0])
        if row is not None and verp_matches(bounce.verp[1], row.header_message_id):
            return row, "VERP address"
    for message_id in bounce.original_message_ids:
        row = ctx.lookup.outbox_by_message_id(message_id)
        if row is not None:
            return row, "returned Message-ID"
    return None, ""


def handle_bounce(work: Work, ctx: StepContext) -> Decision:
    assert work.decoded is not None
    bounce = parse_bounce(work.decoded.message, ctx.config.gateway.mash_address)
    row, matched_by = _bounced_row(work, ctx)
    if row is None:
        # Backscatter or a bounce for mail we never sent: recorded, nothing else.
        return Decision(
            state="processed",
            kind="bounce",
            auto_reply=True,
            effects=(Record(Event(action="bounce-unmatched")),),
        )
    statuses = (
        "; ".join(
            f"{r.recipient}: {r.action} {r.status} {r.diagnostic}".strip()
            for r in bounce.recipients
        )
        or "no recipient named in the report"
    )
    if bounce.permanent is None:
        return _unclassified(ctx, row, statuses, bounce.reader)
    if not bounce.permanent:
        return Decision(
            state="processed",
            kind="bounce",
            auto_reply=True,
            effects=(
                Record(
                    Event(
                        action="mail-delayed",
                        subject_ref=row.subject_ref,
                        recipient=", ".join(row.recipients),
                        purpose=row.purpose,
                        detail={"outbox_id": row.id, "status": statuses[:500]},
                    )
                ),
            ),
        )
    # Never silent; an alert that bounced goes to escalate_to instead (no loop).
    alert = failure_alert(
        ctx.config, ctx.now, row, "a message we sent bounced", f"delivery report: {statuses[:500]}"
    )
    decision = Decision(
        state="processed",
        kind="bounce",
        auto_reply=True,
        effects=(
            *send_all([alert]),
            MarkBounced(row.id, statuses[:1000]),
            Record(
                Event(
                    action="mail-bounced",
                    subject_ref=row.subject_ref,
                    recipient=", ".join(row.recipients),
                    purpose=row.purpose,
                    detail={
                        "outbox_id": row.id,
                        "matched_by": matched_by,
                        "status": statuses[:500],
                    },
                )
            ),
        ),
    )
    return undeliverable(ctx, row.header_message_id, decision)


def _unclassified(ctx: StepContext, row: OutboxInfo, statuses: str, reader: str) -> Decision:
    """A bounce that says neither "failed" nor "delayed": a person reads it. Nothing is marked
    undeliverable on a guess (a temporary failure must not close a check's request)."""
    # Never silent; about an alert, it goes to escalate_to instead (no loop).
    alert = failure_alert(
        ctx.config,
        ctx.now,
        row,
        "a message we sent came back, permanence unknown",
        f"delivery report ({reader}): {statuses[:500]}; read it in the quarantine or the "
        "mailbox",
    )
    return Decision(
        state="processed",
        kind="bounce",
        auto_reply=True,
        effects=(
            *send_all([alert]),
            Record(
                Event(
                    action="mail-returned-unclassified",
                    subject_ref=row.subject_ref,
                    recipient=", ".join(row.recipients),
                    purpose=row.purpose,
                    detail={"outbox_id": row.id, "reader": reader, "status": statuses[:500]},
                )
            ),
        ),
    )


def handle_correspondence(work: Work, ctx: StepContext) -> Decision:
    """A reply about an existing contact (missing details, a question): filed on the contact
    for the managers' digest, never acknowledged, never a new contact."""
    assert work.reference is not None and work.decoded is not None
    # Read for urgency like any other message: "he has come back and is smashing things".
    text = new_message_text(work.decoded.message)
    reasons = screen_message(work.decoded.message, ctx.config, text=text)
    alert = RaiseAlert(
        title=f"urgent: new message on {work.reference}",
        what=f"a message about contact {work.reference} (a reply to our mail or quoting it)",
        reasons=reasons,
        reference=work.reference,
        text=text,
    )
    return Decision(
        state="processed",
        kind="correspondence",
        effects=(
            *((alert,) if reasons else ()),
            *disagreement_effects(work),
            Record(
                Event(
                    action="correspondence",
                    subject_ref=work.reference,
                    detail={"urgent": bool(reasons)},
                )
            ),
        ),
    )


def default_handlers() -> dict[str, Handler]:
    """Kinds with a handler; every other kind is quarantined for a person."""
    return {
        "auto_reply": handle_auto_reply,
        "bounce": handle_bounce,
        "referral": handle_referral,
        "rfi": handle_referral,
        "police_notification": handle_referral,
        "correspondence": handle_correspondence,
        "check_reply": handle_check_reply,
        "manager_command": handle_manager_command,
        "alert_reply": handle_alert_reply,
    }
