"""A reply to an urgent alert: from a manager (or the EDT, for an alert it was sent) it is the
acknowledgement, with who and when; from anyone else, or not shown to be theirs, it is held for
a person and the managers are told.

Acknowledging stops the escalation ladder, so a forged From: must not do it. The proof asked
is a partner's for a check reply: where the manager (or the EDT, `[hours] edt_key`) has a
pinned key, a good signature by it; without one, the address, unless our boundary server saw
DMARC fail. The alert's token is needed as well, and it travels only in mail to the managers,
the EDT and `escalate_to`.
"""

from __future__ import annotations

from gateway.crypto.signatures import dmarc_failed, judge
from gateway.domain.alerts import may_acknowledge
from gateway.domain.effects import AcknowledgeAlert, Effect, Record, send_all
from gateway.domain.managers import manager_by_address
from gateway.inbound.pipeline import Decision, StepContext, Work, quarantine
from gateway.outbound.alerts import manager_alert
from gateway.store.ledger import Event


def _unproven(work: Work, ctx: StepContext, key: str | None) -> str | None:
    """Why this reply cannot be taken as its sender's (None: it can)."""
    assert work.decoded is not None
    if key is not None:
        verdict = judge(
            work.crypto,
            work.decoded.message,
            ctx.config,
            expected=key,
            seen=ctx.lookup.signature_seen,
        )
        return None if verdict.verified else f"not signed by the pinned key ({verdict.status})"
    if dmarc_failed(work.envelope or work.decoded.message, ctx.config.gateway.authserv_id):
        return "DMARC failed at our boundary server"
    return None


def handle_alert_reply(work: Work, ctx: StepContext) -> Decision:
    assert work.decoded is not None
    # The one sender identity (the address a mail client would reply to), found by classify.
    sender = work.sender.address if work.sender else None
    manager = manager_by_address(ctx.config, sender)
    key = manager.key if manager is not None else ctx.config.hours.edt_key
    effects: list[Effect] = []
    refused: list[str] = []
    for alert in work.alerts:
        who = may_acknowledge(ctx.config, alert.edt, sender)
        if who is None:
            continue
        problem = _unproven(work, ctx, key)
        if problem is not None:
            refused.append(f"{who}: {problem}")
            continue
        if alert.acknowledged:
            effects.append(
                Record(
                    Event(
                        action="alert-reply",
                        actor=who,
                        subject_ref=alert.reference,
                        detail={"alert": alert.id, "already_acknowledged": True},
                    )
                )
            )
        else:
            effects.append(AcknowledgeAlert(alert.id, who))
    if effects:
        return Decision(state="processed", kind="alert_reply", effects=tuple(effects))
    refs = ", ".join(sorted({a.reference or "-" for a in work.alerts}))
    if refused:
        reason = "triage:alert-reply-unverified"
        detail = (
            f"a reply to an urgent alert ({refs}) that cannot be shown to be from "
            f"{'; '.join(refused)}; it acknowledges nothing and the alert is still sent again"
        )
    else:
        reason = "triage:alert-reply-not-from-manager"
        detail = (
            f"a reply to an urgent alert ({refs}) from {sender or 'an unreadable address'}, "
            "who is not a manager (nor the EDT the alert went to); it acknowledges nothing"
        )
    note = manager_alert(
        ctx.config,
        ctx.now,
        title="a reply to an urgent alert needs a person",
        lines=[detail],
        action="Read it now: it may say something about the child. The alert is still "
        "open until a manager acknowledges it.",
        cli="mash-gateway quarantine show ID",
        reference=next((a.reference for a in work.alerts if a.reference), None),
        priority=1,
    )
    return quarantine(work, reason, detail).plus(*send_all([note]))
