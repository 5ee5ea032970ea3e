"""A reply to an urgent alert: from a manager (or the EDT, for an alert it was sent) it is the
acknowledgement, with who and when; from anyone else it is held for a person."""

from __future__ import annotations

from gateway.domain.alerts import may_acknowledge
from gateway.domain.effects import AcknowledgeAlert, Effect, Record
from gateway.inbound.pipeline import Decision, StepContext, Work, quarantine
from gateway.store.ledger import Event


def handle_alert_reply(work: Work, ctx: StepContext) -> Decision:
    assert work.decoded is not None
    # The one sender identity (the address a mail client would reply to), found by classify.
    sender = work.sender.address if work.sender else None
    effects: list[Effect] = []
    for alert in work.alerts:
        who = may_acknowledge(ctx.config, alert.edt, sender)
        if who is None:
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
    if not effects:
        refs = ", ".join(sorted({a.reference or "-" for a in work.alerts}))
        return quarantine(
            work,
            "triage:alert-reply-not-from-manager",
            f"a reply to an urgent alert ({refs}) from {sender or 'an unreadable address'}, "
            "who is not a manager (nor the EDT the alert went to); it acknowledges nothing",
        )
    return Decision(state="processed", kind="alert_reply", effects=tuple(effects))
