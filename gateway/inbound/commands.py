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
_CONTEXT = re.compile(r"^\s*context\s*:\s*(.*)$", re.I)
_QUESTION = re.compile(r"^\s*question\s*:\s*(.*)$", re.I)


@dataclass
class Command:
    rag: str
    agencies: list[str]
    context: str = ""
    questions: list[str] = field(default_factory=list)


def looks_like_command(text: str) -> bool:
    return any(_COMMAND.match(line) for line in text.splitlines())


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
