"""A reply's new text, apart from the history it quotes.

Two shapes cover the clients partners use. Top-posting (Outlook, Gmail, Apple Mail, mobile):
the new text, then a header block (`-----Original Message-----`, `From: ... Sent: ...`,
`On ... wrote:`) and the old message, quoted with `>` or not; everything from the block on is
history. Bottom-posting and inline answers: `>` lines are history, the rest is new.
"""

from __future__ import annotations

import re

_ORIGINAL = re.compile(
    r"^\s*-{2,}\s*(original message|forwarded message|message d'origine)\s*-{2,}\s*$", re.I
)
_RULE = re.compile(r"^\s*_{10,}\s*$")
_FROM = re.compile(r"^\s*\*?from:\*?\s", re.I)
_SENT = re.compile(r"^\s*\*?(sent|date|to|subject):\*?\s", re.I)
_WROTE = re.compile(r"^\s*(on\b.{0,300}|.{0,300}\b)wrote:\s*$", re.I)
_ON_START = re.compile(r"^\s*on\s.{0,300}$", re.I)
_QUOTED = re.compile(r"^\s*>")


def _header_block_at(lines: list[str], index: int) -> bool:
    line = lines[index]
    if _ORIGINAL.match(line):
        return True
    if _RULE.match(line):
        return any(_FROM.match(next_line) for next_line in lines[index + 1 : index + 3])
    if _FROM.match(line):
        # Outlook's block: From:, then Sent:/Date:, To:, Subject: within a few lines.
        return sum(bool(_SENT.match(later)) for later in lines[index + 1 : index + 5]) >= 1
    if _WROTE.match(line):
        return True
    # Gmail wraps a long "On <date>, <name> <address>" line before "wrote:".
    return bool(
        _ON_START.match(line)
        and index + 1 < len(lines)
        and lines[index + 1].strip().lower().endswith("wrote:")
    )


def new_text(text: str) -> str:
    lines = text.replace("\r\n", "\n").split("\n")
    for index in range(len(lines)):
        if _header_block_at(lines, index) and "\n".join(lines[:index]).strip():
            return _tidy(lines[:index])
    # Bottom-posted or inline: the unquoted lines, without the attribution lines.
    kept = [
        line
        for index, line in enumerate(lines)
        if not _QUOTED.match(line) and not _attribution(lines, index)
    ]
    return _tidy(kept)


def _attribution(lines: list[str], index: int) -> bool:
    following = next((line for line in lines[index + 1 :] if line.strip()), "")
    line = lines[index]
    if _WROTE.match(line) and _QUOTED.match(following):
        return True
    if _ON_START.match(line) and index + 1 < len(lines):
        return lines[index + 1].strip().lower().endswith("wrote:")
    return bool(line.strip().lower().endswith("wrote:") and _QUOTED.match(following))


def _tidy(lines: list[str]) -> str:
    return "\n".join(line.rstrip() for line in lines).strip()
