"""Load `mailboxes.toml` into frozen, typed objects; every error names the file, key and line.

The sections live in `base` (shared types and secrets), `mail` and `work`; everything is
re-exported here, so callers import from `gateway.config`."""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import BeforeValidator, ValidationError, model_validator

from gateway.config.alerting import AlertsSection, PoliceSection
from gateway.config.base import (
    CONFIG_ENV,
    DEFAULT_CONFIG,
    ConfigError,
    Duration,
    EmailAddress,
    EnvName,
    Fingerprint,
    Port,
    Secret,
    _Section,
    _tuple,
)
from gateway.config.mail import (
    AgencySection,
    GatewaySection,
    Limits,
    ListenerSection,
    MailboxSection,
    ManagerSection,
    MetricsSection,
    OAuth2Section,
    SmtpSection,
)
from gateway.config.reports import ReportRecipient, ReportsSection
from gateway.config.sharing import DEFAULT_LAWFUL_BASIS, RetentionSection, SharingSection
from gateway.config.voice import DisagreementSection, LettersSection, UnitSection
from gateway.config.work import (
    WEEKDAYS,
    ChaseStep,
    ClocksSection,
    DigestSection,
    FrontDoorSection,
    HoursSection,
    MeetingSection,
    RagSection,
    RagTable,
)


class Config(_Section):
    gateway: GatewaySection
    smtp: SmtpSection
    listener: ListenerSection = ListenerSection()
    limits: Limits = Limits()
    hours: HoursSection = HoursSection()
    front_door: FrontDoorSection = FrontDoorSection()
    digest: DigestSection = DigestSection()
    meeting: MeetingSection = MeetingSection()
    clocks: ClocksSection = ClocksSection()
    metrics: MetricsSection = MetricsSection()
    reports: ReportsSection = ReportsSection()
    rag: RagTable = RagTable()
    sharing: SharingSection = SharingSection()
    retention: RetentionSection = RetentionSection()
    alerts: AlertsSection = AlertsSection()
    police: PoliceSection = PoliceSection()
    mailbox: Annotated[tuple[MailboxSection, ...], BeforeValidator(_tuple)] = ()
    agency: Annotated[tuple[AgencySection, ...], BeforeValidator(_tuple)] = ()
    manager: Annotated[tuple[ManagerSection, ...], BeforeValidator(_tuple)] = ()
    letters: LettersSection = LettersSection()
    disagreement: DisagreementSection = DisagreementSection()
    unit: Annotated[tuple[UnitSection, ...], BeforeValidator(_tuple)] = ()

    @model_validator(mode="after")
    def _pgp_needs_keyring(self) -> Config:
        if not self.gateway.gnupg_home and any(a.security == "pgp" for a in self.agency):
            raise ValueError('an agency with security = "pgp" needs gateway.gnupg_home')
        return self

    @model_validator(mode="after")
    def _edt_key_needs_keyring(self) -> Config:
        if self.hours.edt_key and not self.gateway.gnupg_home:
            raise ValueError("hours.edt_key needs gateway.gnupg_home (the keyring that holds it)")
        return self

    @model_validator(mode="after")
    def _unique(self) -> Config:
        for table, attr in (("mailbox", "name"), ("agency", "id")):
            seen: set[str] = set()
            for item in getattr(self, table):
                value = getattr(item, attr)
                if value in seen:
                    raise ValueError(f"duplicate [[{table}]] {attr} {value!r}")
                seen.add(value)
        agencies = {a.id for a in self.agency}
        for box in self.mailbox:
            if box.agency is not None and box.agency not in agencies:
                raise ValueError(f"mailbox {box.name!r} names unknown agency {box.agency!r}")
        return self

    @property
    def manager_addresses(self) -> tuple[str, ...]:
        return tuple(m.address for m in self.manager)

    def agency_named(self, agency_id: str) -> AgencySection:
        for agency in self.agency:
            if agency.id == agency_id:
                return agency
        raise KeyError(agency_id)

    def agency_of_address(self, address: str) -> AgencySection | None:
        """The agency whose check, escalation or reply addresses (or `*@domain`) include
        ADDRESS, compared case-insensitively."""
        address = address.strip().lower()
        domain = address.rpartition("@")[2]
        for agency in self.agency:
            exact = {agency.check_address.lower()}
            if agency.escalation_address:
                exact.add(agency.escalation_address.lower())
            for pattern in agency.reply_from:
                if pattern.startswith("*@"):
                    if domain == pattern[2:].lower():
                        return agency
                else:
                    exact.add(pattern.lower())
            if address in exact:
                return agency
        return None

    def mailbox_named(self, name: str) -> MailboxSection:
        for box in self.mailbox:
            if box.name == name:
                return box
        raise KeyError(name)


_SECRET_KEYS = re.compile(r"^(password|secret|token|client_secret|passphrase)$")


@dataclass(frozen=True)
class _KeyLines:
    """Where each key path sits in the TOML text, for error messages."""

    lines: dict[tuple[Any, ...], int]

    @classmethod
    def scan(cls, text: str) -> _KeyLines:
        lines: dict[tuple[Any, ...], int] = {}
        counts: dict[tuple[Any, ...], int] = {}
        current: tuple[Any, ...] = ()
        for number, line in enumerate(text.splitlines(), start=1):
            stripped = line.strip()
            if array := re.match(r"^\[\[\s*([^\]]+?)\s*\]\]", stripped):
                path = _split_key(array.group(1))
                parent = _resolve_arrays(path[:-1], counts)
                key = (*parent, path[-1])
                index = counts.get(key, -1) + 1
                counts[key] = index
                current = (*key, index)
                lines[current] = number
            elif table := re.match(r"^\[\s*([^\]]+?)\s*\]", stripped):
                current = _resolve_arrays(_split_key(table.group(1)), counts)
                lines[current] = number
            elif assign := re.match(r"^([A-Za-z0-9_\-.\"' ]+?)\s*=", stripped):
                lines[(*current, *_split_key(assign.group(1)))] = number
        return cls(lines)

    def line_for(self, loc: tuple[Any, ...]) -> int | None:
        for end in range(len(loc), 0, -1):
            if loc[:end] in self.lines:
                return self.lines[loc[:end]]
        return None


def _split_key(text: str) -> tuple[str, ...]:
    return tuple(part.strip().strip("\"'") for part in text.split("."))


def _resolve_arrays(path: tuple[str, ...], counts: dict[tuple[Any, ...], int]) -> tuple[Any, ...]:
    out: tuple[Any, ...] = ()
    for part in path:
        out = (*out, part)
        if out in counts:
            out = (*out, counts[out])
    return out


def _describe(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts[-1] = f"{parts[-1]}[{item + 1}]"
        else:
            parts.append(str(item))
    return ".".join(parts) if parts else "(top level)"


def _secret_problems(data: Any, loc: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], str]]:
    found: list[tuple[tuple[Any, ...], str]] = []
    if isinstance(data, dict):
        for key, value in data.items():
            if _SECRET_KEYS.match(str(key)):
                found.append(
                    ((*loc, key), f"secrets never go in the file: use {key}_env or {key}_file")
                )
            found.extend(_secret_problems(value, (*loc, key)))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found.extend(_secret_problems(value, (*loc, index)))
    return found


def parse_config(text: str, source: str) -> Config:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{source}: TOML syntax error: {exc}"]) from exc
    where = _KeyLines.scan(text)

    def line(loc: tuple[Any, ...]) -> str:
        number = where.line_for(loc)
        return f"{source}:{number}" if number else source

    secrets = _secret_problems(data)
    if secrets:
        raise ConfigError([f"{line(loc)}: {_describe(loc)}: {msg}" for loc, msg in secrets])
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = tuple(part for part in error["loc"] if not str(part).startswith("function-"))
            message = error["msg"]
            if error["type"] == "extra_forbidden":
                message = "unknown key"
            elif error["type"] == "missing":
                message = "required key is missing"
            message = message.removeprefix("Value error, ")
            problems.append(f"{line(loc)}: {_describe(loc)}: {message}")
        raise ConfigError(problems) from None


def config_path(given: str | None) -> Path:
    return Path(given or os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG)


def load_config(path: str | Path) -> Config:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read the configuration: {exc.strerror}"]) from exc
    return parse_config(text, str(path))


__all__ = [
    "CONFIG_ENV",
    "DEFAULT_CONFIG",
    "DEFAULT_LAWFUL_BASIS",
    "WEEKDAYS",
    "AgencySection",
    "AlertsSection",
    "ChaseStep",
    "ClocksSection",
    "Config",
    "ConfigError",
    "DigestSection",
    "DisagreementSection",
    "Duration",
    "EmailAddress",
    "EnvName",
    "Fingerprint",
    "FrontDoorSection",
    "GatewaySection",
    "HoursSection",
    "LettersSection",
    "Limits",
    "ListenerSection",
    "MailboxSection",
    "ManagerSection",
    "MeetingSection",
    "MetricsSection",
    "OAuth2Section",
    "PoliceSection",
    "Port",
    "RagSection",
    "RagTable",
    "ReportRecipient",
    "ReportsSection",
    "RetentionSection",
    "Secret",
    "SharingSection",
    "SmtpSection",
    "UnitSection",
    "config_path",
    "load_config",
    "parse_config",
]
