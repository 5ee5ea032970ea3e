"""Handlers for mail about MASH checks: replies, out-of-office answers, bounces of requests."""

from __future__ import annotations

from dataclasses import replace

from gateway.crypto.signatures import dmarc_failed, judge
from gateway.domain.checks.replies import attachments, sender_allowed
from gateway.domain.effects import (
    CheckReplyDraft,
    CheckUpdate,
    Effect,
    RaiseAlert,
    Record,
    RememberSignature,
    send_all,
)
from gateway.inbound.binding import tidy
from gateway.inbound.pipeline import (
    Decision,
    StepContext,
    Work,
    matched_checks,
    quarantine,
)
from gateway.inbound.quotes import new_text
from gateway.inbound.referral.bodies import body_texts, html_text
from gateway.inbound.screening import new_message_text, screen_message
from gateway.outbound.alerts import manager_alert
from gateway.store.ledger import Event

PARTNER_SIGNALS = ("risk-line", "urgent-tag", "increased-risk")


def _triage(
    work: Work,
    ctx: StepContext,
    reason: str,
    detail: str,
    ref: str | None,
    held: tuple[int, ...] = (),
) -> Decision:
    """Never attached automatically: held for a manager, who is told why. One that reports
    increased risk also raises an urgent alert (the EDT's too, out of hours), saying it is not
    verified: its text cannot answer a check, but the risk it reports may be real."""
    decision = quarantine(work, f"triage:{reason}", detail)
    urgent = screen_message(work.decoded.message, ctx.config) if work.decoded else ()
    # Ambiguous or re-addressed: which child it is about is the question, so no contact is
    # marked; the alert names what the reply says.
    about = None if reason in ("ambiguous", "mismatch") else ref
    risk: tuple[Effect, ...] = (
        (
            RaiseAlert(
                title=f"unverified reply reports risk on {about}"
                if about
                else "unverified reply reports risk: which child it is about is unclear",
                what=f"a check reply held for a person, NOT VERIFIED ({detail}): confirm "
                "with the agency by phone before relying on it",
                reasons=urgent,
                reference=about,
                text=new_message_text(work.decoded.message) if work.decoded else None,
            ),
        )
        if urgent
        else ()
    )
    alert = manager_alert(
        ctx.config,
        ctx.now,
        title="a check reply needs a person",
        lines=[detail],
        action="Read it with `mash-gateway quarantine show ID` and release or attach it by hand.",
        reference=ref,
    )
    return Decision(
        state=decision.state,
        kind="check_reply",
        quarantine_reason=decision.quarantine_reason,
        quarantine_detail=detail,
        effects=(
            *send_all([alert]),
            *risk,
            *(CheckUpdate(check_id, held=True) for check_id in held),
        ),
    )


def handle_check_reply(work: Work, ctx: StepContext) -> Decision:
    assert work.decoded is not None
    message = work.decoded.message
    checks, matched_by = work.checks, work.matched_by
    if len({c.id for c in checks}) != 1:
        refs = ", ".join(sorted({c.reference for c in checks}))
        return _triage(work, ctx, "ambiguous", f"names {len(checks)} checks ({refs})", None)
    (check,) = checks[:1]
    bound = work.bound
    if bound is not None and bound.mismatch:
        # A genuine signed answer re-sent with new outer headers: it is about another check.
        detail = f"a signed reply does not say what its outer headers say: {bound.mismatch}"
        return _triage(work, ctx, "mismatch", tidy(detail), check.reference)
    sender = work.sender.address if work.sender else None
    agency = next((a for a in ctx.config.agency if a.id == check.agency), None)
    if agency is None or not sender_allowed(agency, sender):
        detail = (
            f"a reply to the {check.rag.upper()} check to {check.agency} came from "
            f"{sender or 'an unreadable address'}, not one of that agency's reply_from addresses"
        )
        return _triage(work, ctx, "sender", detail, check.reference, held=(check.id,))
    assert sender is not None
    verdict = judge(
        work.crypto,
        message,
        ctx.config,
        expected=agency.key,
        not_before=check.requested_at,
        seen=ctx.lookup.signature_seen,
    )
    # With a pinned key, only a verified reply counts, and only when its signed content names
    # the check; without one, the address does, unless our boundary server saw DMARC fail.
    reasons = list(verdict.reasons)
    unbound = bool(agency.key and bound is not None and bound.unbound)
    if unbound and bound is not None and bound.unbound:
        reasons.append(bound.unbound)
    dmarc = dmarc_failed(work.envelope or message, ctx.config.gateway.authserv_id)
    if dmarc and "DMARC failed at our boundary server" not in reasons:
        reasons.append("DMARC failed at our boundary server")
    if (agency.key and not verdict.verified) or unbound or dmarc:
        detail = (
            f"a reply to the {check.rag.upper()} check to {check.agency} is not verified "
            f"({verdict.status}): {'; '.join(reasons)}"
        )
        return _triage(work, ctx, "unverified", detail, check.reference, held=(check.id,))
    plain, html = body_texts(message)
    text = new_text(plain if plain.strip() else html_text(html))
    received = work.received_at or ctx.now
    late = received > check.due_at
    # The one urgency screen: RISK: INCREASED, [URGENT], and the configured phrases.
    urgent = screen_message(message, ctx.config, text=text)
    # The reply's increased-risk flag (the report's figure) is the partner's own signal: the
    # RISK: INCREASED line, [URGENT], or increased-risk words; urgent words alone (a history
    # of an assault, say) alert without flagging the answer.
    flagged = [r for r in urgent if r.signal in PARTNER_SIGNALS]
    risk = flagged[0].why if flagged else None
    alert: tuple[Effect, ...] = (
        (
            RaiseAlert(
                title=f"increased risk reported on {check.reference}"
                if risk
                else f"urgent: a partner's answer on {check.reference}",
                what=f"{agency.name} answered the {check.rag.upper()} check",
                reasons=urgent,
                reference=check.reference,
                text=text,
            ),
        )
        if urgent
        else ()
    )
    remember: tuple[Effect, ...] = (
        (RememberSignature(verdict.payload_sha256, check.id, check.reference),)
        if verdict.verified and verdict.payload_sha256
        else ()
    )
    return Decision(
        state="processed",
        kind="check_reply",
        effects=(
            CheckReplyDraft(
                check_id=check.id,
                sender=sender,
                matched_by=matched_by,
                text=text,
                late=late,
                increased_risk=risk,
                attachments=tuple(attachments(message)),
                verified=verdict.verified,
            ),
            *remember,
            *alert,
            Record(
                Event(
                    action="check-reply",
                    actor=sender,
                    subject_ref=check.reference,
                    detail={
                        "check": check.id,
                        "agency": check.agency,
                        "matched_by": matched_by,
                        "late": late,
                        "verified": verdict.verified,
                        "signature": verdict.status,
                        "encrypted": verdict.encrypted,
                        "increased_risk": risk,
                    },
                )
            ),
        ),
    )


def out_of_office(work: Work, ctx: StepContext, base: Decision) -> Decision:
    """An auto-reply to a check request: recorded on the check, never an answer; for RED the
    managers see its text at once."""
    assert work.decoded is not None
    checks, _ = matched_checks(work.decoded.message, ctx)
    if len({c.id for c in checks}) != 1:
        return base
    check = checks[0]
    plain, html = body_texts(work.decoded.message)
    alert = None
    if check.rag == "red":
        alert = manager_alert(
            ctx.config,
            ctx.now,
            title=f"RED check to {check.agency} got an automatic reply",
            lines=[
                "The request has not been answered. The automatic reply said:",
                *(new_text(plain or html_text(html))[:1000].splitlines() or ["(empty)"]),
            ],
            action="Reach the agency another way (phone the duty desk) within the RED window.",
            reference=check.reference,
        )
    return replace(base, auto_reply=True).plus(
        *send_all([alert]),
        CheckUpdate(check.id, out_of_office=True),
        Record(
            Event(
                action="check-out-of-office",
                subject_ref=check.reference,
                detail={"check": check.id, "agency": check.agency},
            )
        ),
    )


def undeliverable(ctx: StepContext, request_message_id: str, base: Decision) -> Decision:
    """A permanent bounce of a check request: the check cannot be answered as sent."""
    check = ctx.lookup.check_by_request(request_message_id)
    if check is None:
        return base
    return replace(base, auto_reply=True).plus(
        CheckUpdate(check.id, undeliverable=True),
        Record(
            Event(
                action="check-undeliverable",
                subject_ref=check.reference,
                detail={"check": check.id, "agency": check.agency},
            )
        ),
    )
