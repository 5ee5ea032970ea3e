"""Managers' command emails: `CHECKS RED police health` and a `Context:` paragraph.

Pure parsing; who may command, and what happens, is decided by the handler.

    CHECKS AMBER police health
    Context: School reports bruising; we need to know whether the household is known.
    Question: Any call-outs to the address in the last 12 months?
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_COMMAND = re.compile(r"^\s*checks\s+(red|amber|green)\b(.*)$", re.I)
_DECISION = re.compile(r"^\s*(decision|outcome)\s+([a-z-]+)\s*$", re.I)
_REASON = re.compile(r"^\s*reason\s*:\s*(.*)$", re.I)
_NO_LETTER = re.compile(r"^\s*no[ -]letter\b", re.I)
_SECTION = re.compile(r"^\s*section\s+(17|47)\s*$", re.I)
_CONTEXT = re.compile(r"^\s*context\s*:\s*(.*)$", re.I)
_QUESTION = re.compile(r"^\s*question\s*:\s*(.*)$", re.I)


@dataclass
class Command:
    rag: str
    agencies: list[str]
    context: str = ""
    questions: list[str] = field(default_factory=list)


@dataclass
class DecisionCommand:
    """`DECISION C` or `OUTCOME early-help`, a `Reason:` paragraph, optionally `SECTION 47`
    and `NO LETTER` (the reason then says why the letter is withheld)."""

    kind: str  # "decision" or "outcome"
    code: str
    reason: str = ""
    section: str | None = None
    letter: bool = True


def looks_like_command(text: str) -> bool:
    return any(_COMMAND.match(line) or _DECISION.match(line) for line in text.splitlines())


def _paragraph(lines: list[str], opener: re.Pattern[str]) -> str:
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


def parse_decision(text: str) -> DecisionCommand | None:
    lines = text.splitlines()
    found = next((m for line in lines if (m := _DECISION.match(line)) is not None), None)
    if found is None:
        return None
    kind = found.group(1).lower()
    code = found.group(2).upper() if kind == "decision" else found.group(2).lower()
    section = next((m.group(1) for line in lines if (m := _SECTION.match(line))), None)
    return DecisionCommand(
        kind=kind,
        code=code,
        reason=_paragraph(lines, _REASON),
        section=section,
        letter=not any(_NO_LETTER.match(line) for line in lines),
    )


def parse_command(text: str) -> Command | None:
    """The first command block in TEXT (the message's new text), or None."""
    lines = text.splitlines()
    found = next(
        ((i, m) for i, line in enumerate(lines) if (m := _COMMAND.match(line)) is not None), None
    )
    if found is None:
        return None
    index, match = found
    agencies = [
        word.lower()
        for word in re.split(r"[\s,;]+", match.group(2))
        if word and word.lower() not in ("and", "&")
    ]
    command = Command(rag=match.group(1).lower(), agencies=agencies)
    context: list[str] | None = None
    for line in lines[index + 1 :]:
        if (question := _QUESTION.match(line)) is not None:
            context = None
            if question.group(1).strip():
                command.questions.append(question.group(1).strip())
        elif (opening := _CONTEXT.match(line)) is not None:
            context = [opening.group(1).strip()]
        elif context is not None:
            if not line.strip():  # the paragraph ends at a blank line
                command.context = " ".join(filter(None, context))
                context = None
            else:
                context.append(line.strip())
        if context is not None:
            command.context = " ".join(filter(None, context))
    return command
