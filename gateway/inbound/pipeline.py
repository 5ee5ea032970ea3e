"""The processing pipeline: a tuple of named steps, each pure, returning Continue or Stop."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from email.message import Message
from typing import Literal, Protocol, TypeVar

from gateway.config import Config
from gateway.crypto.keyring import Keyring
from gateway.crypto.pgp_mime import Unwrapped, unwrap
from gateway.domain.alerts import AlertInfo, alert_tokens
from gateway.domain.cases import CaseMatch
from gateway.domain.checks.replies import CheckInfo, find_tokens
from gateway.domain.effects import (
    CreateContact,
    Effect,
    RaiseAlert,
    RecordDecision,
    RequestChecks,
    SendMail,
    send_all,
)
from gateway.inbound.binding import Bound, checks_named
from gateway.inbound.commands import is_command
from gateway.inbound.police import is_police_notification
from gateway.inbound.quotes import new_text
from gateway.inbound.referral.bodies import body_texts, html_text
from gateway.inbound.referral.budget import Budget, TooCostly, check_budget
from gateway.inbound.referral.kinds import (
    REFERENCE,
    free_text_referral,
    is_information_request,
)
from gateway.inbound.referral.parse import Referral, looks_like_referral, parse_referral
from gateway.mail.automatic import Automatic, detect
from gateway.mail.decode import (
    Decoded,
    TooLarge,
    check_raw_limits,
    decode,
    header,
    referenced_ids,
)
from gateway.mail.sender import Sender, same_address, sender_identity
from gateway.outbound.alerts import manager_alert
from gateway.timescales import BusinessCalendar

E = TypeVar("E")

KINDS = (
    "referral",
    "check_reply",
    "police_notification",
    "rfi",
    "correspondence",
    "manager_command",
    "alert_reply",
    "bounce",
    "auto_reply",
    "unknown",
)


@dataclass(frozen=True)
class OutboxInfo:
    id: int
    header_message_id: str
    purpose: str
    subject_ref: str | None
    recipients: tuple[str, ...]
    state: str


class Lookup(Protocol):
    """Read-only view of the current state that steps may consult."""

    def outbox_row(self, row_id: int) -> OutboxInfo | None: ...
    def outbox_by_message_id(self, header_message_id: str) -> OutboxInfo | None: ...
    def open_case(
        self,
        nhs_number: str | None,
        given: str | None,
        family: str | None,
        date_of_birth: str | None,
        today: date,
    ) -> CaseMatch | None: ...
    def contact_exists(self, reference: str) -> bool: ...
    def check_by_token(self, token: str) -> CheckInfo | None: ...
    def check_by_request(self, header_message_id: str) -> CheckInfo | None: ...
    def signature_seen(self, payload_sha256: str) -> bool: ...
    def alert_by_token(self, token: str) -> AlertInfo | None: ...


@dataclass(frozen=True)
class StepContext:
    config: Config
    now: datetime
    lookup: Lookup
    handlers: Mapping[str, Handler] = field(default_factory=dict)
    calendar: BusinessCalendar | None = None
    keyring: Keyring | None = None

    def business_calendar(self) -> BusinessCalendar:
        return self.calendar or BusinessCalendar.from_config(self.config)


@dataclass(frozen=True)
class Work:
    raw: bytes
    role: str | None = None
    mailbox: str | None = None
    received_at: datetime | None = None
    decoded: Decoded | None = None
    automatic: Automatic | None = None
    kind: str | None = None
    referral: Referral | None = None
    # The contact a message is about, when it answers or quotes one of ours.
    reference: str | None = None
    # The checks a reply names (found once, by classify), and how.
    checks: tuple[CheckInfo, ...] = ()
    matched_by: str = ""
    # What OpenPGP said: decrypted, and the signature found (None: no OpenPGP at all).
    crypto: Unwrapped | None = None
    # The message as it arrived, before unwrapping: its outer headers.
    envelope: Message | None = None
    # Who sent it (the one address in From:, found by classify); what a check reply names.
    sender: Sender | None = None
    bound: Bound | None = None
    # The urgent alerts a reply answers (found by classify from its token).
    alerts: tuple[AlertInfo, ...] = ()


@dataclass(frozen=True)
class Decision:
    """The verdict on one message (its state and kind) and the effects to carry out."""

    state: Literal["processed", "quarantined"]
    kind: str
    auto_reply: bool = False
    quarantine_reason: str | None = None
    quarantine_detail: str | None = None
    effects: tuple[Effect, ...] = ()

    def plus(self, *effects: Effect) -> Decision:
        return replace(self, effects=(*self.effects, *effects))

    def of(self, kind: type[E]) -> list[E]:
        """The effects of one kind, in order."""
        return [e for e in self.effects if isinstance(e, kind)]

    @property
    def queues_mail(self) -> bool:
        return any(
            isinstance(e, SendMail | RequestChecks | RecordDecision | RaiseAlert)
            or (isinstance(e, CreateContact) and e.mails is not None)
            for e in self.effects
        )


@dataclass(frozen=True)
class Continue:
    work: Work
    note: str


@dataclass(frozen=True)
class Stop:
    decision: Decision
    note: str


Outcome = Continue | Stop
Step = Callable[[Work, "StepContext"], Outcome]
Handler = Callable[[Work, "StepContext"], Decision]


def _is_command(work: Work, ctx: StepContext) -> bool:
    """Only a [[manager]]'s mail is read for commands: the first line of its new text."""
    assert work.decoded is not None
    sender = work.sender.address if work.sender else None
    if not any(same_address(m.address, sender) for m in ctx.config.manager):
        return False
    plain, html = body_texts(work.decoded.message)
    return is_command(new_text(plain if plain.strip() else html_text(html)))


def _sender_triage(work: Work, ctx: StepContext, problem: str) -> Decision:
    """A From: that reads two ways is nobody: never an agency, never a manager."""
    alert = manager_alert(
        ctx.config,
        ctx.now,
        title="a message needs a person: it could be read as from more than one sender",
        lines=[f"Its From: is {problem}.", "It was not matched to an agency or a manager."],
        action="Read it with `mash-gateway quarantine show ID` and decide by hand.",
    )
    return quarantine(work, "triage:sender", problem).plus(*send_all([alert]))


def matched_checks(message: Message, ctx: StepContext) -> tuple[tuple[CheckInfo, ...], str]:
    """The existing checks a message names, and how they were found."""
    plain, html = body_texts(message)
    match = find_tokens(message, ctx.config.gateway.mash_address, plain or html)
    if match is None:
        return (), ""
    found = (ctx.lookup.check_by_token(token) for token in match.tokens)
    return tuple(c for c in found if c is not None), match.matched_by


def about_contact(message: Message, lookup: Lookup) -> str | None:
    """The reference of an existing contact this message answers: a reply to our mail, or the
    reference quoted in its subject."""
    for message_id in referenced_ids(message):
        row = lookup.outbox_by_message_id(message_id)
        if row is not None and row.subject_ref is not None:
            return row.subject_ref
    for reference in REFERENCE.findall(header(message, "Subject") or ""):
        if lookup.contact_exists(reference):
            return str(reference)
    return None


def quarantine(work: Work, reason: str, detail: str) -> Decision:
    automatic = work.automatic.automatic if work.automatic else False
    return Decision(
        state="quarantined",
        kind=work.kind or "unknown",
        auto_reply=automatic,
        quarantine_reason=reason,
        quarantine_detail=detail,
    )


def step_limits(work: Work, ctx: StepContext) -> Outcome:
    try:
        check_raw_limits(work.raw, ctx.config.limits)
    except TooLarge as exc:
        return Stop(quarantine(work, exc.reason, exc.detail), f"over a cap: {exc.reason}")
    return Continue(work, f"{len(work.raw)} bytes within caps")


def step_decode(work: Work, ctx: StepContext) -> Outcome:
    try:
        decoded = decode(work.raw, ctx.config.limits)
    except TooLarge as exc:
        return Stop(quarantine(work, exc.reason, exc.detail), f"over a cap: {exc.reason}")
    except Exception as exc:  # noqa: BLE001 - the stdlib parser raises many kinds on hostile input
        detail = f"the MIME parser gave up: {type(exc).__name__}"
        return Stop(quarantine(work, "malformed", detail), detail)
    if not work.raw.strip() or not decoded.message.keys():
        return Stop(quarantine(work, "malformed", "no header fields"), "no headers")
    note = f"{decoded.part_count} part(s), depth {decoded.depth}"
    if decoded.defects:
        note += f", defects: {', '.join(decoded.defects)}"
    return Continue(replace(work, decoded=decoded, envelope=decoded.message), note)


def step_unwrap(work: Work, ctx: StepContext) -> Outcome:
    """Decrypt and verify OpenPGP; later steps read the decrypted content. Fails closed."""
    assert work.decoded is not None
    unwrapped = unwrap(work.raw, ctx.keyring)
    if unwrapped is None:
        return Continue(work, "no OpenPGP")
    if unwrapped.decryption_failed:
        detail = "; ".join(unwrapped.reasons) or "decryption failed"
        return Stop(quarantine(work, "crypto:decryption-failed", detail), detail)
    try:
        decoded = decode(unwrapped.content, ctx.config.limits)
    except TooLarge as exc:
        return Stop(quarantine(work, exc.reason, exc.detail), f"decrypted: {exc.reason}")
    note = (
        f"{'encrypted, ' if unwrapped.encrypted else ''}signature {unwrapped.signature.status}"
        + (", partial" if unwrapped.partial else "")
    )
    return Continue(replace(work, decoded=decoded, crypto=unwrapped), note)


def step_budget(work: Work, ctx: StepContext) -> Outcome:
    """Measure the work the attachments would cost before any reader is given them."""
    assert work.decoded is not None
    try:
        check_budget(work.decoded.message, Budget())
    except TooCostly as exc:
        return Stop(quarantine(work, "too-costly", exc.detail), f"too costly: {exc.detail}")
    return Continue(work, "attachments within the work budget")


def step_classify(work: Work, ctx: StepContext) -> Outcome:
    assert work.decoded is not None
    message = work.decoded.message
    automatic = detect(message, ctx.config.gateway.instance)
    sender = sender_identity(work.envelope if work.envelope is not None else message)
    work = replace(work, sender=sender, automatic=automatic)
    referral = None
    if automatic.bounce:
        kind = "bounce"
    elif automatic.automatic:
        kind = "auto_reply"
    elif sender.problem is not None:
        return Stop(_sender_triage(work, ctx, sender.problem), f"sender: {sender.problem}")
    elif _is_command(work, ctx):
        kind = "manager_command"
    elif alerts := tuple(
        info for token in alert_tokens(message) if (info := ctx.lookup.alert_by_token(token))
    ):
        # Before anything reads a form: a reply quotes the alert, which names the child.
        kind = "alert_reply"
        work = replace(work, alerts=alerts)
    elif (found := checks_named(work.decoded, work.envelope, work.crypto, ctx))[0]:
        assert found[1] is not None
        kind = "check_reply"
        work = replace(work, checks=found[0], matched_by=found[1].how, bound=found[1])
    else:
        try:
            referral = parse_referral(message)
        except TooCostly as exc:  # a form's reader hit its time or memory limit
            return Stop(quarantine(work, "too-costly", exc.detail), f"too costly: {exc.detail}")
        if is_police_notification(message, ctx.config.police):
            kind = "police_notification"
        elif is_information_request(message) and referral.children:
            kind = "rfi"
        elif looks_like_referral(referral):
            kind = "referral"
        elif (reference := about_contact(message, ctx.lookup)) is not None:
            kind = "correspondence"
            work = replace(work, reference=reference)
        elif (free := free_text_referral(message)) is not None:
            kind, referral = "referral", free
        else:
            kind = "unknown"
    form = kind in ("referral", "rfi", "police_notification")
    work = replace(work, automatic=automatic, kind=kind, referral=referral if form else None)
    if form and referral is not None:
        what = {"rfi": "information request", "police_notification": "police notification"}.get(
            kind, "referral form" if referral.form != "free text" else "free-text referral"
        )
        why = f"{what}: {referral.recognised} fields, {len(referral.children)} child(ren)"
    elif kind == "correspondence":
        why = f"about contact {work.reference}"
    elif kind == "alert_reply":
        why = f"answers alert {', '.join(str(a.id) for a in work.alerts)}"
    else:
        why = "; ".join(automatic.reasons) if automatic.reasons else "no rule recognised it"
    return Continue(work, f"{kind} ({why})")


@dataclass(frozen=True)
class Result:
    decision: Decision | None
    work: Work
    reasons: tuple[str, ...]


class StepFailed(Exception):
    def __init__(self, step: str, error: BaseException, reasons: tuple[str, ...]) -> None:
        super().__init__(f"step {step} raised {type(error).__name__}: {error}")
        self.step = step
        self.error = error
        self.reasons = reasons


def run(steps: tuple[tuple[str, Step], ...], work: Work, ctx: StepContext) -> Result:
    """Run the steps in order; a raising step becomes StepFailed naming the step."""
    reasons: list[str] = []
    for name, step in steps:
        try:
            outcome = step(work, ctx)
        except Exception as exc:
            raise StepFailed(name, exc, tuple(reasons)) from exc
        reasons.append(f"{name}: {outcome.note}")
        if isinstance(outcome, Stop):
            return Result(outcome.decision, work, tuple(reasons))
        work = outcome.work
    return Result(None, work, tuple(reasons))


def step_handle(work: Work, ctx: StepContext) -> Outcome:
    kind = work.kind or "unknown"
    handler = ctx.handlers.get(kind)
    if handler is None:
        return Stop(
            quarantine(work, "unhandled-kind", f"no handler for kind {kind!r}; a person must look"),
            f"nobody handles {kind}: quarantined",
        )
    decision = handler(work, ctx)
    return Stop(decision, f"{kind} handled: {decision.state}")


INSPECT_STEPS: tuple[tuple[str, Step], ...] = (
    ("limits", step_limits),
    ("decode", step_decode),
    ("unwrap", step_unwrap),
    ("budget", step_budget),
    ("classify", step_classify),
)
PROCESS_STEPS: tuple[tuple[str, Step], ...] = (*INSPECT_STEPS, ("handle", step_handle))
