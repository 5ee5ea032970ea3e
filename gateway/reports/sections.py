"""A digest's section: its lines, and what a manager does about them.

`todo` says what to do by email (reply with a command); `cli` is the operators' command-line
equivalent, printed as a footnote. Managers read; they do not type commands. A section made
with only a title and lines takes both from GUIDE, by its title.
"""

from __future__ import annotations

from dataclasses import dataclass, field

GUIDE: dict[str, tuple[str, str]] = {
    "Decisions due or overdue": (
        "Reply with OUTCOME (e.g. OUTCOME early-help) and a Reason: paragraph, in "
                "a message whose subject names the reference.",
        'mash-gateway decide REF --outcome OUTCOME --reason "..." --by MANAGER',
    ),
    "Contacts waiting for a decision": (
        "Reply with DECISION A, B, C or D and a Reason: paragraph (send SHOW and "
                "the reference first for the contact's summary).",
        'mash-gateway decide REF --decision C --reason "..." --by MANAGER',
    ),
    "Incomplete referrals": (
        "The referrer has been asked; call them if it cannot wait.",
        "mash-gateway contacts list --incomplete",
    ),
    "Information requests due": (
        "Send the answer to the requester: an operator sends it with the command "
                "below (the request's thread, sealed where the agency has a key).",
        "mash-gateway rfi answer REF --file ANSWER.txt --by MANAGER",
    ),
    "New correspondence on contacts": (
        "Read it: send SHOW and the reference for the contact's summary.",
        "mash-gateway audit show REF",
    ),
    "Quarantined messages waiting for a person": (
        "Ask an operator to look at them and release or keep each one.",
        "mash-gateway quarantine list; mash-gateway quarantine release ID",
    ),
    "OpenPGP keys to renew or replace": (
        "Ask the key's owner for a current public key; an operator imports it.",
        "mash-gateway keys import FILE; mash-gateway keys check",
    ),
    "Overdue checks": (
        "Call the agency; to ask again, reply with CHECKS RED (or AMBER, GREEN), "
                "the agency and a Context: paragraph.",
        "mash-gateway checks list --overdue",
    ),
    "Checks due in the next 2 hours": (
        "Nothing yet: the gateway chases them when due.",
        "mash-gateway checks list",
    ),
}


@dataclass(frozen=True)
class Section:
    title: str
    lines: list[str] = field(default_factory=list)
    todo: str = ""
    cli: str = ""

    def as_json(self) -> dict[str, object]:
        todo, cli = GUIDE.get(self.title, ("", ""))
        return {
            "title": self.title,
            "lines": self.lines,
            "todo": self.todo or todo,
            "cli": self.cli or cli,
        }
