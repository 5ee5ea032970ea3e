"""Which recipients may only ever get sealed mail, and with which key.

Decided here, once, for every message the outbox queues, whatever its kind: an address of an
agency with `security = "pgp"` (its check, escalation and reply addresses, or its `*@domain`),
the section 47 unit with `[clocks] section47_key`, and any `[[unit]]` with a `key`. A handler
that forgets to ask for encryption cannot send such mail in clear: the outbox seals it, or
holds it and alerts the managers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from gateway.config import Config


@dataclass(frozen=True)
class Required:
    """The keys a message must be encrypted to, and why it cannot be (empty: it can)."""

    keys: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    # Who each key is for, for the record: "agency police", "unit Unit 4", "section 47 unit".
    owners: tuple[str, ...] = ()


def recipient_key(config: Config, address: str) -> tuple[str, str] | None:
    """(fingerprint, whose) when ADDRESS must only get sealed mail, else None."""
    address = address.lower()
    agency = config.agency_of_address(address)
    if agency is not None and agency.security == "pgp" and agency.key:
        return agency.key, f"agency {agency.id}"
    clocks = config.clocks
    s47 = clocks.section47_address
    if clocks.section47_key and s47 and address == s47.lower():
        return clocks.section47_key, "the section 47 unit"
    for unit in config.unit:
        if unit.key and unit.address.lower() == address:
            return unit.key, f"unit {unit.name}"
    return None


def required(config: Config, recipients: Iterable[str]) -> Required:
    keyed: dict[str, str] = {}
    clear: list[str] = []
    for address in recipients:
        found = recipient_key(config, address)
        if found is None:
            clear.append(address)
        else:
            keyed.setdefault(found[0], found[1])
    if not keyed:
        return Required()
    problems = tuple(
        f"{address} has no key, and one message cannot be sealed for some recipients and "
        "clear for others"
        for address in clear
    )
    return Required(tuple(keyed), problems, tuple(keyed.values()))
