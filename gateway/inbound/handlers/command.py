"""Managers' command emails: accepted only from a configured [[manager]], answered by email."""

from __future__ import annotations

from gateway.config import Config
from gateway.crypto.signatures import judge
from gateway.domain.checks.records import command_result
from gateway.domain.checks.request import Request
from gateway.domain.decisions import DecisionRequest
from gateway.domain.effects import (
    Effect,
    Record,
    RecordDecision,
    RememberSignature,
    RequestChecks,
    SendMail,
    send_all,
)
from gateway.inbound.commands import parse_command, parse_decision
from gateway.inbound.pipeline import Decision, StepContext, Work, about_contact, quarantine
from gateway.inbound.quotes import new_text
from gateway.inbound.referral.bodies import body_texts, html_text
from gateway.mail.addresses import single_address
from gateway.mail.decode import header
from gateway.outbound.alerts import manager_alert
from gateway.store.ledger import Event


def command_text(work: Work) -> str:
    assert work.decoded is not None
    plain, html = body_texts(work.decoded.message)
    return new_text(plain if plain.strip() else html_text(html))


def _refuse(sender: str, reference: str | None, why: str, command: str) -> Decision:
    return Decision(
        state="processed",
        kind="manager_command",
        effects=(
            SendMail(command_result(sender, reference, False, [why], command)),
            Record(
                Event(
                    action="command-refused",
                    actor=sender,
                    subject_ref=reference,
                    detail={"command": command[:200], "why": why},
                )
            ),
        ),
    )


def _agencies_problem(config: Config, agencies: list[str]) -> str | None:
    known = {a.id for a in config.agency}
    unknown = [a for a in agencies if a not in known]
    if not agencies:
        return "name at least one agency after the RAG, e.g. CHECKS RED police health"
    if unknown:
        return f"unknown agency {', '.join(unknown)}; configured: {', '.join(sorted(known))}"
    return None


def handle_manager_command(work: Work, ctx: StepContext) -> Decision:
    assert work.decoded is not None
    message = work.decoded.message
    sender = single_address(header(message, "From"))
    manager = next(
        (m for m in ctx.config.manager if sender and m.address.lower() == sender.lower()), None
    )
    if manager is None or sender is None:
        # Never executed, never answered (the sender is not ours to write to): a person looks.
        decision = quarantine(work, "triage:command-not-from-manager", f"from {sender}")
        alert = manager_alert(
            ctx.config,
            ctx.now,
            title="a command email came from an address that is not a manager's",
            lines=[f"From: {sender or 'an unreadable address'}", "It was not carried out."],
            action="Check who sent it; `mash-gateway quarantine list` shows it.",
        )
        return Decision(
            state=decision.state,
            kind="manager_command",
            quarantine_reason=decision.quarantine_reason,
            quarantine_detail=decision.quarantine_detail,
            effects=send_all([alert]),
        )
    text = command_text(work)
    ruling = parse_decision(text)
    command = None if ruling else parse_command(text)
    if ruling is not None:
        summary = f"{ruling.kind.upper()} {ruling.code}"
    else:
        assert command is not None  # classify saw a command line
        summary = f"CHECKS {command.rag.upper()} {' '.join(command.agencies)}"
    reference = about_contact(message, ctx.lookup)
    remember: tuple[Effect, ...] = ()
    if manager.key is not None:
        # A manager with a pinned key commands only by mail validly signed with that key.
        verdict = judge(
            work.crypto, message, ctx.config, expected=manager.key, seen=ctx.lookup.signature_seen
        )
        if not verdict.verified:
            return _refuse(
                sender,
                reference,
                "your signing key is pinned in the configuration, so only a validly signed "
                f"command is accepted; this one is not ({verdict.status}: "
                f"{'; '.join(verdict.reasons)})",
                summary,
            )
        if verdict.payload_sha256:
            remember = (RememberSignature(verdict.payload_sha256),)
    if reference is None:
        return _refuse(
            sender,
            None,
            "no contact named: reply to a gateway message about the contact, or put its "
            "reference (MASH-YYYY-NNNNNN) in the subject",
            summary,
        )
    received = Record(
        Event(
            action="command-received",
            actor=sender,
            subject_ref=reference,
            detail={"command": summary},
        )
    )
    if ruling is not None:
        if not ruling.reason:
            return _refuse(sender, reference, "a decision needs a 'Reason:' paragraph", summary)
        return Decision(
            state="processed",
            kind="manager_command",
            effects=(
                RecordDecision(
                    DecisionRequest(
                        reference=reference,
                        reason=ruling.reason,
                        decided_by=f"{manager.name} <{sender}>",
                        decision=ruling.code if ruling.kind == "decision" else None,
                        outcome=ruling.code if ruling.kind == "outcome" else None,
                        section=ruling.section,
                        letter=ruling.letter,
                        letter_withheld_reason=None if ruling.letter else ruling.reason,
                    )
                ),
                *remember,
                received,
            ),
        )
    assert command is not None
    problem = _agencies_problem(ctx.config, command.agencies)
    if problem is None and not command.context:
        problem = "a check must say why the information is needed: add a 'Context:' paragraph"
    if problem is not None:
        return _refuse(sender, reference, problem, summary)
    return Decision(
        state="processed",
        kind="manager_command",
        effects=(
            RequestChecks(
                Request(
                    reference=reference,
                    agencies=tuple(command.agencies),
                    rag=command.rag,
                    context=command.context,
                    questions=tuple(command.questions),
                    requested_by=sender,
                )
            ),
            *remember,
            received,
        ),
    )
