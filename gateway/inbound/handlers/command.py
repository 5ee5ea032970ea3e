"""Managers' command emails: carried out only for an authenticated [[manager]], fail closed.

Classification sends here only mail from a [[manager]]'s address whose new text starts with a
command verb (nobody else's mail is read for commands). Then, in order:
  1. authenticated (gateway/inbound/authority.py), else refused: quarantined as
     `triage:command-unauthenticated`, the managers alerted, the sender told nothing, the
     ledger naming the condition that failed;
  2. about one contact: for a signed command, named inside the signature (outer headers that
     point elsewhere: `triage:mismatch`, the managers alerted); for a DMARC-authenticated one,
     by its headers;
  3. its arguments parsed (a problem is told to the manager), and its action run.
A verb's grammar is one entry in gateway/inbound/commands.py's VERBS; its action one in ACTIONS.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gateway.config import Config, ManagerSection
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
    VoiceCommand,
    send_all,
)
from gateway.domain.managers import describe, manager_by_address
from gateway.inbound.authority import Authentication, authenticate
from gateway.inbound.binding import contact_references, signed_headers, tidy
from gateway.inbound.commands import (
    ChecksArgs,
    Command,
    CommandError,
    DecisionArgs,
    VoiceArgs,
    parse,
)
from gateway.inbound.pipeline import Decision, StepContext, Work, quarantine
from gateway.inbound.quotes import new_text
from gateway.inbound.referral.bodies import body_texts, html_text
from gateway.outbound.alerts import manager_alert
from gateway.store.ledger import Event


def _texts(work: Work) -> tuple[str, str]:
    """(the new text, the whole text) of the message as the pipeline reads it."""
    assert work.decoded is not None
    plain, html = body_texts(work.decoded.message)
    whole = plain if plain.strip() else html_text(html)
    return new_text(whole), whole


@dataclass(frozen=True)
class Order:
    """An authenticated manager's command about one contact, ready to be carried out."""

    ctx: StepContext
    manager: ManagerSection
    sender: str
    reference: str
    command: Command
    remember: RememberSignature | None

    def refuse(self, why: str) -> Decision:
        return told(self.sender, self.reference, why, self.command.line)

    def accept(self, *effects: Effect) -> Decision:
        received = Event(
            action="command-received",
            actor=self.sender,
            subject_ref=self.reference,
            detail={"command": self.command.line},
        )
        remember = (self.remember,) if self.remember is not None else ()
        return Decision(
            state="processed",
            kind="manager_command",
            effects=(*effects, *remember, Record(received)),
        )


Action = Callable[[Order], Decision]


def told(sender: str, reference: str | None, why: str, line: str) -> Decision:
    """A refusal the authenticated manager is told about, and the ledger records."""
    return Decision(
        state="processed",
        kind="manager_command",
        effects=(
            SendMail(command_result(sender, reference, False, [why], line)),
            Record(
                Event(
                    action="command-refused",
                    actor=sender,
                    subject_ref=reference,
                    detail={"command": line[:200], "condition": "command", "why": why},
                )
            ),
        ),
    )


def _held(
    work: Work, ctx: StepContext, reason: str, condition: str, why: str, line: str, sender: str
) -> Decision:
    """Refused without a word to the sender (who may not be who they claim): held for a
    person, the managers alerted, the ledger naming the condition that failed."""
    alert = manager_alert(
        ctx.config,
        ctx.now,
        title="a command email in a manager's name was refused",
        lines=[
            f"From: {sender}",
            f"Command: {tidy(line)}",
            f"Refused: {tidy(why)}",
            "It was not carried out, and the sender was not answered.",
        ],
        action="If it was yours, send it again signed or through your own mailbox; if not, "
        "someone is writing in a manager's name. `mash-gateway quarantine list` shows it.",
    )
    refused = Record(
        Event(
            action="command-refused",
            actor=sender,
            detail={"command": tidy(line), "condition": condition, "why": tidy(why)},
        )
    )
    held = quarantine(work, reason, tidy(why))
    return Decision(
        state=held.state,
        kind="manager_command",
        quarantine_reason=held.quarantine_reason,
        quarantine_detail=held.quarantine_detail,
        effects=(*send_all([alert]), refused),
    )


def _agencies_problem(config: Config, agencies: list[str]) -> str | None:
    known = {a.id for a in config.agency}
    unknown = [a for a in agencies if a not in known]
    if not agencies:
        return "name at least one agency after the RAG, e.g. CHECKS RED police health"
    if unknown:
        return f"unknown agency {', '.join(unknown)}; configured: {', '.join(sorted(known))}"
    return None


def _checks(order: Order) -> Decision:
    args = order.command.args
    assert isinstance(args, ChecksArgs)
    problem = _agencies_problem(order.ctx.config, args.agencies)
    if problem is None and not args.context:
        problem = "a check must say why the information is needed: add a 'Context:' paragraph"
    if problem is not None:
        return order.refuse(problem)
    return order.accept(
        RequestChecks(
            Request(
                reference=order.reference,
                agencies=tuple(args.agencies),
                rag=args.rag,
                context=args.context,
                questions=tuple(args.questions),
                requested_by=order.sender,
                consent_override=args.consent_override,
            )
        )
    )


def _ruling(order: Order) -> Decision:
    args = order.command.args
    assert isinstance(args, DecisionArgs)
    if not args.reason:
        return order.refuse("a decision needs a 'Reason:' paragraph")
    return order.accept(
        RecordDecision(
            DecisionRequest(
                reference=order.reference,
                reason=args.reason,
                decided_by=describe(order.manager),
                decision=args.code if args.kind == "decision" else None,
                outcome=args.code if args.kind == "outcome" else None,
                section=args.section,
                letter=args.letter,
                letter_withheld_reason=None if args.letter else args.reason,
                letter_withheld_category=args.letter_category,
            )
        )
    )


# verb -> what carrying it out decides. A new verb: its grammar in commands.VERBS, its action here.
def _voice(order: Order) -> Decision:
    args = order.command.args
    assert isinstance(args, VoiceArgs)
    return order.accept(
        VoiceCommand(
            verb=args.verb,
            reference=order.reference,
            by=describe(order.manager),
            sender=order.sender,
            value=args.value,
            text=args.text,
            key=order.manager.key,
        )
    )


ACTIONS: dict[str, Action] = {
    "CHECKS": _checks,
    "DECISION": _ruling,
    "OUTCOME": _ruling,
    "SHOW": _voice,
    "REFERRER": _voice,
    "RESOLVE": _voice,
    "ANSWER": _voice,
}


def handle_manager_command(work: Work, ctx: StepContext) -> Decision:
    assert work.decoded is not None and work.sender is not None
    sender = work.sender.address
    manager = manager_by_address(ctx.config, sender)
    assert manager is not None and sender is not None, "classify sends only managers' mail"
    text, whole = _texts(work)
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    auth = authenticate(work, ctx, manager)
    if not auth.ok:
        assert auth.condition is not None
        return _held(
            work, ctx, "triage:command-unauthenticated", auth.condition, auth.why, first, sender
        )
    reference, problem = _about(work, ctx, auth, whole)
    if problem is not None and problem.startswith("mismatch:"):
        why = problem.removeprefix("mismatch:")
        return _held(work, ctx, "triage:mismatch", "mismatch", why, first, sender)
    if reference is None:
        return told(sender, None, problem or "no contact named", first)
    try:
        command = parse(text)
    except CommandError as exc:
        return told(sender, reference, str(exc), first)
    assert command is not None, "classify saw a command line"
    remember = None
    if auth.verdict is not None and auth.verdict.payload_sha256:
        remember = RememberSignature(auth.verdict.payload_sha256, subject_ref=reference)
    order = Order(ctx, manager, sender, reference, command, remember)
    return ACTIONS[command.verb](order)


def _about(
    work: Work, ctx: StepContext, auth: Authentication, whole: str
) -> tuple[str | None, str | None]:
    """(the contact the command is about, or why there is none / `mismatch:` and why)."""
    assert work.decoded is not None
    signed = auth.method == "signature"

    def reference_of(message_id: str) -> str | None:
        row = ctx.lookup.outbox_by_message_id(message_id)
        return row.subject_ref if row is not None else None

    bound = contact_references(
        work.envelope if work.envelope is not None else work.decoded.message,
        whole,
        reference_of,
        ctx.lookup.contact_exists,
        signed_headers=signed_headers(work.crypto) if signed else None,
        signed=signed,
    )
    if bound is not None and bound.mismatch:
        return None, f"mismatch:{bound.mismatch}"
    if bound is None or bound.unbound:
        return None, (
            "no contact named"
            + (" inside the signed message" if signed else "")
            + ": reply to a gateway message about the contact, or put its reference "
            "(MASH-YYYY-NNNNNN) in the subject" + (" or the signed text" if signed else "")
        )
    if len(bound.names) > 1:
        return None, f"the command names more than one contact ({', '.join(bound.names)})"
    return bound.names[0], None
