"""A digest's section: its lines, and what a manager does about them.

`todo` says what to do by email (reply with a command); `cli` is the operators' command-line
equivalent, printed as a footnote. Managers read; they do not type commands.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Section:
    title: str
    lines: list[str] = field(default_factory=list)
    todo: str = ""
    cli: str = ""

    def as_json(self) -> dict[str, object]:
        return {"title": self.title, "lines": self.lines, "todo": self.todo, "cli": self.cli}
