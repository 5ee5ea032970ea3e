"""Managers' command emails: the grammar. Pure parsing; who may command is decided elsewhere.

A command is the first non-blank line of the message's new text (above any quoted history),
starting with one of the verbs below written in capitals, followed by its argument lines:

    CHECKS AMBER police health
    Context: School reports bruising; we need to know whether the household is known.
    Question: Any call-outs to the address in the last 12 months?

Anything else is not a command, whoever sends it: `Decision pending` in a referral, or
`Outcome NFA` in a partner's reply, is just text. A verb is one entry in VERBS (its name, a
parser of its arguments and a usage line); its action is one entry in the command handler's
table (gateway/inbound/handlers/command.py, `ACTIONS`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from gateway.domain import withheld

_FIRST = re.compile(r"^\s*([A-Z][A-Z-]*)(?:\s+(.*?))?\s*$")
_REASON = re.compile(r"^\s*reason\s*:\s*(.*)$", re.I)
# `NO LETTER`, optionally with the reason's category: `NO LETTER investigation`.
_NO_LETTER = re.compile(r"^\s*no[ -]letter\b[\s:]*(.*?)\s*$", re.I)
_SECTION = re.compile(r"^\s*section\s+(17|47)\s*$", re.I)
_CONTEXT = re.compile(r"^\s*context\s*:\s*(.*)$", re.I)
_QUESTION = re.compile(r"^\s*question\s*:\s*(.*)$", re.I)
_OVERRIDE = re.compile(r"^\s*consent[ -]override\s*:\s*(.*)$", re.I)
RAGS = ("red", "amber", "green")
DECISIONS = ("A", "B", "C", "D")


class CommandError(ValueError):
    """What is wrong with a command's arguments: told to the (authenticated) manager."""


@dataclass(frozen=True)
class Command:
    """A parsed command: its verb, its first line as written (for the record) and the
    verb's own arguments object."""

    verb: str
    line: str
    args: object


@dataclass(frozen=True)
class Verb:
    name: str
    # (the rest of the first line, the argument lines after it) -> the arguments object
    parse: Callable[[str, list[str]], object]
    usage: str


VERBS: dict[str, Verb] = {}


Parser = Callable[[str, list[str]], object]


def verb(name: str, usage: str) -> Callable[[Parser], Parser]:
    """Register a verb: `@verb("SHOW", "SHOW MASH-2026-000123")` over its argument parser."""

    def register(parse: Parser) -> Parser:
        if name in VERBS or not re.fullmatch(r"[A-Z][A-Z-]*", name):
            raise ValueError(f"verb {name!r} is taken or not written in capitals")
        VERBS[name] = Verb(name, parse, usage)
        return parse

    return register


def command_line(text: str) -> tuple[str, str, list[str]] | None:
    """(verb, rest of the line, the lines after it) when TEXT starts with a command."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if not line.strip():
            continue
        found = _FIRST.match(line)
        if found is None or found.group(1) not in VERBS:
            return None
        return found.group(1), found.group(2) or "", lines[index + 1 :]
    return None


def is_command(text: str) -> bool:
    return command_line(text) is not None


def parse(text: str) -> Command | None:
    """The command TEXT starts with, or None; raises CommandError when its arguments are
    wrong (the verb was meant, so the manager is told what is wrong)."""
    found = command_line(text)
    if found is None:
        return None
    name, rest, lines = found
    summary = f"{name} {rest}".strip()[:200]
    return Command(name, summary, VERBS[name].parse(rest, lines))


def paragraph(lines: list[str], opener: re.Pattern[str]) -> str:
    """The text after `Label:` up to the next blank line."""
    for index, line in enumerate(lines):
        found = opener.match(line)
        if found:
            words = [found.group(1).strip()]
            for more in lines[index + 1 :]:
                if not more.strip():
                    break
                words.append(more.strip())
            return " ".join(filter(None, words))
    return ""


# --- the verbs -------------------------------------------------------------------------------


@dataclass
class ChecksArgs:
    rag: str
    agencies: list[str]
    context: str = ""
    questions: list[str] = field(default_factory=list)
    # A `Consent-override: REASON` paragraph: share although consent is not given.
    consent_override: str | None = None


@dataclass
class DecisionArgs:
    """`DECISION C` or `OUTCOME early-help`, a `Reason:` paragraph, optionally `SECTION 47`
    and `NO LETTER` (the reason then says why the letter is withheld)."""

    kind: str  # "decision" or "outcome"
    code: str
    reason: str = ""
    section: str | None = None
    letter: bool = True
    letter_category: str | None = None  # with NO LETTER: one of withheld.WITHHELD


@verb(
    "CHECKS",
    "CHECKS RED police health, then a 'Context:' paragraph, 'Question:' lines and, where "
    "consent is not given, a 'Consent-override:' paragraph",
)
def parse_checks(rest: str, lines: list[str]) -> ChecksArgs:
    words = [w for w in re.split(r"[\s,;]+", rest) if w]
    if not words or words[0].lower() not in RAGS:
        raise CommandError("CHECKS needs a RAG first: CHECKS RED police health")
    agencies = [w.lower() for w in words[1:] if w.lower() not in ("and", "&")]
    args = ChecksArgs(rag=words[0].lower(), agencies=agencies)
    context: list[str] | None = None
    for line in lines:
        if _OVERRIDE.match(line) is not None:
            context = None  # its own paragraph, never part of the context a partner reads
        elif (question := _QUESTION.match(line)) is not None:
            context = None
            if question.group(1).strip():
                args.questions.append(question.group(1).strip())
        elif (opening := _CONTEXT.match(line)) is not None:
            context = [opening.group(1).strip()]
        elif context is not None:
            if not line.strip():  # the paragraph ends at a blank line
                context = None
            else:
                context.append(line.strip())
        if context is not None:
            args.context = " ".join(filter(None, context))
    args.consent_override = _override(lines)
    return args


def _override(lines: list[str]) -> str | None:
    """The `Consent-override:` paragraph, up to a blank line or the next label; "" when the
    line is there without a reason (the manager is then told one is required)."""
    for index, line in enumerate(lines):
        found = _OVERRIDE.match(line)
        if found is None:
            continue
        words = [found.group(1).strip()]
        for more in lines[index + 1 :]:
            if not more.strip() or _QUESTION.match(more) or _CONTEXT.match(more):
                break
            words.append(more.strip())
        return " ".join(filter(None, words))
    return None


def _ruling(kind: str, rest: str, lines: list[str]) -> DecisionArgs:
    code = rest.strip()
    if not re.fullmatch(r"[A-Za-z-]+", code):
        raise CommandError(f"{kind.upper()} needs one code, e.g. DECISION C or OUTCOME early-help")
    if kind == "decision" and code.upper() not in DECISIONS:
        raise CommandError(f"unknown decision {code!r}: one of {', '.join(DECISIONS)}")
    no_letter = next((m for line in lines if (m := _NO_LETTER.match(line))), None)
    named = no_letter.group(1) if no_letter else ""
    if named and withheld.category(named) is None:
        raise CommandError(f"NO LETTER takes one of {', '.join(withheld.WITHHELD)}, not {named!r}")
    return DecisionArgs(
        kind=kind,
        code=code.upper() if kind == "decision" else code.lower(),
        reason=paragraph(lines, _REASON),
        section=next((m.group(1) for line in lines if (m := _SECTION.match(line))), None),
        letter=no_letter is None,
        letter_category=withheld.category(named),
    )


@verb(
    "DECISION",
    "DECISION A|B|C|D, then a 'Reason:' paragraph; optionally SECTION 47, NO LETTER (or NO "
    "LETTER and its kind of reason: risk-to-child, investigation, third-party, "
    "told-another-way, other)",
)
def parse_decision(rest: str, lines: list[str]) -> DecisionArgs:
    return _ruling("decision", rest, lines)


@verb("OUTCOME", "OUTCOME early-help (or another outcome), then a 'Reason:' paragraph")
def parse_outcome(rest: str, lines: list[str]) -> DecisionArgs:
    return _ruling("outcome", rest, lines)


# --- the referrer's voice (issue 16): SHOW, REFERRER, RESOLVE, ANSWER -----------------------


@dataclass(frozen=True)
class VoiceArgs:
    """SHOW; REFERRER public|professional|family; RESOLVE upheld|not-upheld|escalated with a
    'Reason:' paragraph; ANSWER with the answer to an information request below it."""

    verb: str
    value: str = ""
    text: str = ""


_RESOLUTIONS = ("upheld", "not-upheld", "escalated")
_REFERRER_KINDS = ("public", "professional", "family")


@verb("SHOW", "SHOW (the contact's summary, by email)")
def parse_show(rest: str, lines: list[str]) -> VoiceArgs:
    return VoiceArgs("SHOW")


@verb("REFERRER", "REFERRER public|professional|family")
def parse_referrer(rest: str, lines: list[str]) -> VoiceArgs:
    kind = rest.strip().lower()
    if kind not in _REFERRER_KINDS:
        raise CommandError(f"REFERRER needs one of {', '.join(_REFERRER_KINDS)}")
    return VoiceArgs("REFERRER", kind)


@verb("RESOLVE", "RESOLVE upheld|not-upheld|escalated, then a 'Reason:' paragraph")
def parse_resolve(rest: str, lines: list[str]) -> VoiceArgs:
    outcome = rest.strip().lower()
    if outcome not in _RESOLUTIONS:
        raise CommandError(f"RESOLVE needs one of {', '.join(_RESOLUTIONS)}")
    reason = paragraph(lines, _REASON)
    if not reason:
        raise CommandError("RESOLVE needs a 'Reason:' paragraph (the professional is sent it)")
    return VoiceArgs("RESOLVE", outcome, reason)


@verb("ANSWER", "ANSWER, then the answer to the information request on the lines below")
def parse_answer(rest: str, lines: list[str]) -> VoiceArgs:
    text = "\n".join([rest, *lines]).strip()
    if not text:
        raise CommandError("ANSWER needs the answer on the lines below it")
    return VoiceArgs("ANSWER", text=text)
