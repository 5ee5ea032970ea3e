"""Who is a manager: by address for mail, by `--by` or the login name on the command line.

Every command-line action taken for a manager (`decide`, `checks request`, ...) names its
manager through `resolve_manager`, so the record never says that an unknown name decided.
"""

from __future__ import annotations

from gateway.config import Config, ManagerSection
from gateway.mail.sender import canonical_address, same_address


class UnknownManager(ValueError):
    """`--by` names nobody configured, or the login name maps to no manager."""

    def __init__(self, problem: str, config: Config) -> None:
        listed = ", ".join(describe(m) for m in config.manager) or "none configured"
        super().__init__(f"{problem}; the configured managers are: {listed}")
        self.problem = problem


def describe(manager: ManagerSection) -> str:
    """How a manager is named in the record and the ledger: `Name <address>`."""
    return f"{manager.name} <{manager.address}>"


def manager_by_address(config: Config, address: str | None) -> ManagerSection | None:
    """The [[manager]] whose address this is (canonical comparison), or None."""
    if not address:
        return None
    return next((m for m in config.manager if same_address(m.address, address)), None)


def resolve_manager(config: Config, by: str | None, os_user: str | None) -> ManagerSection:
    """The manager a command acts for: `--by` (a manager's name or address, any case), else
    the [[manager]] whose `os_user` is the operating-system user running it. Raises
    UnknownManager, whose text lists the configured managers."""
    if by is not None and by.strip():
        wanted = by.strip()
        for manager in config.manager:
            if manager.name.casefold() == wanted.casefold():
                return manager
        if "@" in wanted:
            try:
                canonical_address(wanted)
            except ValueError:
                pass
            else:
                found = manager_by_address(config, wanted)
                if found is not None:
                    return found
        raise UnknownManager(f"--by {wanted!r} is not a configured [[manager]]", config)
    if os_user:
        for manager in config.manager:
            if manager.os_user is not None and manager.os_user == os_user:
                return manager
        raise UnknownManager(
            f"no --by given, and the login name {os_user!r} is no [[manager]]'s os_user", config
        )
    raise UnknownManager("no --by given, and the login name is unknown", config)
