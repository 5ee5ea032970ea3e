"""What every letter says about how to reach the MASH, and how to disagree or complain.

From `[letters]`, `[disagreement]` and `[hours]`, so the numbers a referrer reads are the
ones configured, never text in a template.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gateway.config import Config


def letter_values(config: Config) -> dict[str, Any]:
    return {
        "mash_phone": config.letters.mash_phone,
        "complaints_address": config.letters.complaints_address,
        "complaints_phone": config.letters.complaints_phone,
        "service_manager": config.disagreement.service_manager,
        "escalation_policy_url": config.disagreement.escalation_policy_url,
        "opens": config.hours.open.strftime("%H:%M"),
        "closes": config.hours.close.strftime("%H:%M"),
        "edt_phone": config.hours.out_of_hours_phone,
    }


def child_names(names: Sequence[str]) -> str:
    """ "Amira", "Amira and Sam", "Amira, Sam and Leo"; "the child" when no name is known."""
    names = [n for n in names if n]
    if not names:
        return "the child"
    if len(names) == 1:
        return names[0]
    return f"{', '.join(names[:-1])} and {names[-1]}"
