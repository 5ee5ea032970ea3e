"""Load `mailboxes.toml` into frozen, typed objects; every error names the file, key and line."""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    model_validator,
)

from gateway.durations import parse_duration
from gateway.mail.addresses import AddressError, normalise_address, normalise_domain

DEFAULT_CONFIG = "mailboxes.toml"
CONFIG_ENV = "MASH_GATEWAY_CONFIG"


class ConfigError(Exception):
    """One or more problems in the configuration, each naming file, key and line."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


def _address(value: str) -> str:
    try:
        return normalise_address(value)
    except AddressError as exc:
        raise ValueError(str(exc)) from exc


def _address_or_domain_pattern(value: str) -> str:
    if value.startswith("*@"):
        try:
            return "*@" + normalise_domain(value[2:])
        except AddressError as exc:
            raise ValueError(str(exc)) from exc
    return _address(value)


def _fingerprint(value: str) -> str:
    compact = value.replace(" ", "").upper()
    if not re.fullmatch(r"[0-9A-F]{40}|[0-9A-F]{64}", compact):
        raise ValueError("a key is a full 40- or 64-hex-digit fingerprint, not a key id")
    return compact


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r}") from exc
    return value


def _tuple(value: object) -> object:
    return tuple(value) if isinstance(value, list) else value


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


EmailAddress = Annotated[StrictStr, AfterValidator(_address)]
Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
Fingerprint = Annotated[StrictStr, AfterValidator(_fingerprint)]
Port = Annotated[StrictInt, Field(ge=1, le=65535)]
EnvName = Annotated[StrictStr, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Secret(_Section):
    """Where a secret comes from: an environment variable or a file, never the TOML."""

    env: str | None = None
    file: str | None = None

    def resolve(self, what: str) -> str:
        if self.env:
            value = os.environ.get(self.env)
            if value is None:
                raise ConfigError([f"{what}: environment variable {self.env} is not set"])
            return value
        if self.file:
            try:
                return Path(self.file).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError([f"{what}: cannot read {self.file}: {exc.strerror}"]) from exc
        raise ConfigError([f"{what}: no secret configured"])


class Limits(_Section):
    max_message_bytes: StrictInt = Field(default=25 * 1024 * 1024, ge=1024)
    max_header_bytes: StrictInt = Field(default=256 * 1024, ge=1024)
    max_mime_depth: StrictInt = Field(default=20, ge=1)
    max_mime_parts: StrictInt = Field(default=500, ge=1)


class GatewaySection(_Section):
    database: StrictStr = "sqlite:///mash-gateway.db"
    timezone: Annotated[StrictStr, AfterValidator(_timezone)] = "Europe/London"
    mash_address: EmailAddress
    state_dir: StrictStr = "state"
    mailbox_alert_after: Duration = timedelta(minutes=10)
    processing_attempts: StrictInt = Field(default=3, ge=1, le=20)
    instance: StrictStr = "mash-gateway"
    # OpenPGP: the gateway's own keyring, and the MASH's signing key in it (by fingerprint).
    gnupg_home: StrictStr | None = None
    signing_key: Fingerprint | None = None
    signing_key_passphrase_env: EnvName | None = None
    signing_key_passphrase_file: StrictStr | None = None
    # Authentication-Results are trusted only from this authserv-id (the MASH's boundary MTA).
    authserv_id: StrictStr | None = None

    @model_validator(mode="after")
    def _signing_needs_keyring(self) -> GatewaySection:
        if self.signing_key and not self.gnupg_home:
            raise ValueError("signing_key needs gnupg_home (the keyring that holds it)")
        return self

    @property
    def signing_passphrase(self) -> Secret | None:
        if not (self.signing_key_passphrase_env or self.signing_key_passphrase_file):
            return None
        return Secret(env=self.signing_key_passphrase_env, file=self.signing_key_passphrase_file)


class SmtpSection(_Section):
    host: StrictStr
    port: Port | None = None
    tls: Literal["starttls", "implicit", "none"] = "starttls"
    username: StrictStr | None = None
    password_env: EnvName | None = None
    password_file: StrictStr | None = None
    ca_file: StrictStr | None = None
    timeout: Duration = timedelta(seconds=60)
    max_attempts: StrictInt = Field(default=12, ge=1)
    retry_cap: Duration = timedelta(minutes=30)

    @model_validator(mode="after")
    def _policy(self) -> SmtpSection:
        if self.tls == "none" and not _is_loopback(self.host):
            raise ValueError('tls = "none" is only allowed to a loopback host')
        if self.username and not (self.password_env or self.password_file):
            raise ValueError("username given without password_env or password_file")
        return self

    @property
    def effective_port(self) -> int:
        return self.port or {"starttls": 587, "implicit": 465, "none": 25}[self.tls]

    @property
    def password(self) -> Secret:
        return Secret(env=self.password_env, file=self.password_file)


class ListenerSection(_Section):
    enabled: StrictBool = False
    protocol: Literal["smtp", "lmtp"] = "smtp"
    host: StrictStr = "127.0.0.1"
    port: Port = 10025
    name: StrictStr = "smtp-listener"


class OAuth2Section(_Section):
    token_command: tuple[StrictStr, ...] | None = None
    token_url: StrictStr | None = None
    tenant_id: StrictStr | None = None
    client_id: StrictStr | None = None
    client_secret_env: EnvName | None = None
    client_secret_file: StrictStr | None = None
    scope: StrictStr = "https://outlook.office365.com/.default"

    _norm = model_validator(mode="before")(
        lambda data: {k: _tuple(v) for k, v in data.items()} if isinstance(data, dict) else data
    )

    @model_validator(mode="after")
    def _one_source(self) -> OAuth2Section:
        creds = self.client_id is not None
        if bool(self.token_command) == creds:
            raise ValueError("give either token_command or client_id (client credentials)")
        if creds and not (self.client_secret_env or self.client_secret_file):
            raise ValueError("client_id needs client_secret_env or client_secret_file")
        if creds and not (self.token_url or self.tenant_id):
            raise ValueError("client credentials need tenant_id or token_url")
        return self

    @property
    def effective_token_url(self) -> str:
        if self.token_url:
            return self.token_url
        return f"https://login.microsoftonline.com/{self.tenant_id}/oauth2/v2.0/token"


class MailboxSection(_Section):
    name: Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
    role: Literal["front-door", "partner"]
    host: StrictStr
    port: Port | None = None
    tls: Literal["implicit", "starttls", "none"] = "implicit"
    username: StrictStr
    password_env: EnvName | None = None
    password_file: StrictStr | None = None
    oauth2: OAuth2Section | None = None
    ca_file: StrictStr | None = None
    folder: StrictStr = "INBOX"
    processed_folder: StrictStr = "Processed"
    quarantine_folder: StrictStr = "Quarantine"
    agency: StrictStr | None = None
    idle_renew: Duration = timedelta(minutes=9)
    poll_interval: Duration = timedelta(seconds=60)
    socket_timeout: Duration = timedelta(seconds=60)
    reconnect_cap: Duration = timedelta(minutes=5)
    fetch_batch: StrictInt = Field(default=100, ge=1, le=1000)

    @model_validator(mode="after")
    def _policy(self) -> MailboxSection:
        if self.tls == "none" and not _is_loopback(self.host):
            raise ValueError('tls = "none" is only allowed to a loopback host')
        sources = [self.password_env, self.password_file, self.oauth2]
        if sum(source is not None for source in sources) != 1:
            raise ValueError(
                "give exactly one of password_env, password_file or a [mailbox.oauth2] table"
            )
        if self.idle_renew > timedelta(minutes=10):
            raise ValueError("idle_renew must be at most 10 minutes")
        if len({self.folder, self.processed_folder, self.quarantine_folder}) != 3:
            raise ValueError("folder, processed_folder and quarantine_folder must differ")
        return self

    @property
    def effective_port(self) -> int:
        return self.port or (993 if self.tls == "implicit" else 143)

    @property
    def password(self) -> Secret:
        return Secret(env=self.password_env, file=self.password_file)


class AgencySection(_Section):
    id: Annotated[StrictStr, Field(pattern=r"^[a-z][a-z0-9_-]*$")]
    name: StrictStr
    check_address: EmailAddress
    reply_from: Annotated[
        tuple[Annotated[StrictStr, AfterValidator(_address_or_domain_pattern)], ...],
        BeforeValidator(_tuple),
        Field(min_length=1),
    ]
    escalation_address: EmailAddress | None = None
    security: Literal["pgp", "tls"]
    key: Fingerprint | None = None

    @model_validator(mode="after")
    def _pgp_needs_key(self) -> AgencySection:
        if self.security == "pgp" and self.key is None:
            raise ValueError('security = "pgp" needs the agency\'s key fingerprint in key')
        return self


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _clock_time(value: object) -> time:
    if isinstance(value, time):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{2}:\d{2}", value):
        return time.fromisoformat(value)
    raise ValueError('a time of day is "HH:MM", e.g. "09:00"')


def _weekday(value: str) -> str:
    if value.lower() not in WEEKDAYS:
        raise ValueError(f"{value!r} is not a day of the week")
    return value.lower()


class HoursSection(_Section):
    """Opening hours: everything outside them is out of hours (the Emergency Duty Team)."""

    open: Annotated[time, BeforeValidator(_clock_time)] = time(9, 0)
    close: Annotated[time, BeforeValidator(_clock_time)] = time(17, 0)
    days: Annotated[
        tuple[Annotated[StrictStr, AfterValidator(_weekday)], ...],
        BeforeValidator(_tuple),
        Field(min_length=1),
    ] = WEEKDAYS[:5]
    holidays: Literal["england-and-wales", "none"] = "england-and-wales"
    extra_closures: Annotated[tuple[date, ...], BeforeValidator(_tuple)] = ()
    out_of_hours_phone: StrictStr = "0208 356 2710"

    @model_validator(mode="after")
    def _order(self) -> HoursSection:
        if self.open >= self.close:
            raise ValueError("open must be before close")
        return self


class FrontDoorSection(_Section):
    """How the MASH mailbox's mail is handled."""

    # Words in a referral's concern that alert the managers at once, whatever the hour.
    urgent_phrases: Annotated[tuple[StrictStr, ...], BeforeValidator(_tuple)] = (
        "section 47",
        "s47",
        "immediate danger",
        "serious injury",
        "sexual assault",
    )
    # Words in a partner's check reply that mean the risk has gone up (as RISK: INCREASED).
    increased_risk_phrases: Annotated[tuple[StrictStr, ...], BeforeValidator(_tuple)] = (
        "risk increased",
        "increased risk",
    )


def _after_due(value: object) -> object:
    """A ladder step's offset: a duration, or a percentage of the RAG's reply window."""
    if isinstance(value, float):
        return value
    if isinstance(value, str) and value.strip().endswith("%"):
        number = value.strip()[:-1].strip()
        if not number.replace(".", "", 1).isdigit():
            raise ValueError(f'{value!r} is not a percentage such as "50%"')
        return float(number) / 100
    return parse_duration(value)


class ChaseStep(_Section):
    """One rung of the chasing ladder, counted from the check's due time."""

    after_due: Annotated[timedelta | float, BeforeValidator(_after_due)]
    # Copy the reminder to the agency's escalation_address.
    copy_escalation: StrictBool = False
    alert_managers: StrictBool = False


class RagSection(_Section):
    reply_within: Duration
    # "clock": elapsed time; "working": only [hours] opening hours count.
    counting: Literal["clock", "working"] = "clock"
    # "any": chases go out at any hour; "working": held until the MASH is open.
    chase_hours: Literal["any", "working"] = "working"
    ladder: Annotated[tuple[ChaseStep, ...], BeforeValidator(_tuple)] = (
        ChaseStep(after_due=0.0),
        ChaseStep(after_due=0.5, copy_escalation=True, alert_managers=True),
    )

    def offset(self, step: ChaseStep) -> timedelta:
        if isinstance(step.after_due, float):
            return self.reply_within * step.after_due
        return step.after_due


class RagTable(_Section):
    # An overdue RED check also alerts the managers at once, whatever its ladder says.
    red: RagSection = RagSection(reply_within=timedelta(hours=4), chase_hours="any")
    amber: RagSection = RagSection(reply_within=timedelta(hours=24))
    green: RagSection = RagSection(reply_within=timedelta(hours=72))

    def of(self, rag: str) -> RagSection:
        return {"red": self.red, "amber": self.amber, "green": self.green}[rag]


class DigestSection(_Section):
    """The managers' digest of what needs attention."""

    times: Annotated[
        tuple[Annotated[time, BeforeValidator(_clock_time)], ...],
        BeforeValidator(_tuple),
    ] = (time(9, 0), time(13, 0), time(16, 0))
    # Only on working days ([hours] days, bank holidays and closures excluded).
    working_days_only: StrictBool = True
    # An information request is listed once its reply is due within this many working days.
    rfi_due_within_days: StrictInt = Field(default=2, ge=0, le=30)


class MeetingSection(_Section):
    """The Daily MASH Meeting agenda, sent every working day."""

    enabled: StrictBool = True
    at: Annotated[time, BeforeValidator(_clock_time)] = time(8, 30)
    # Who gets the agenda; empty means every [[manager]].
    recipients: Annotated[tuple[EmailAddress, ...], BeforeValidator(_tuple)] = ()


class ClocksSection(_Section):
    """Protocol section 4's screening clocks, and where a Section 47 goes at once."""

    # After decision C: whether a statutory response is needed, within this long.
    csc_screening: Duration = timedelta(hours=24)
    csc_screening_counting: Literal["clock", "working"] = "clock"
    # After decision D: the early-help outcome, within this long.
    early_help_screening: Duration = timedelta(hours=72)
    early_help_screening_counting: Literal["clock", "working"] = "clock"
    # The social work unit that takes Section 47 enquiries (the contact is sent there at once).
    section47_address: EmailAddress | None = None


def _listen(value: str) -> str:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536 or not host:
        raise ValueError(f'{value!r} is not HOST:PORT, e.g. "127.0.0.1:9464"')
    return value


class MetricsSection(_Section):
    """Prometheus metrics and /healthz over HTTP; off unless `listen` is set."""

    listen: Annotated[StrictStr, AfterValidator(_listen)] | None = None


class ManagerSection(_Section):
    name: StrictStr
    address: EmailAddress
    key: Fingerprint | None = None


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
    rag: RagTable = RagTable()
    mailbox: Annotated[tuple[MailboxSection, ...], BeforeValidator(_tuple)] = ()
    agency: Annotated[tuple[AgencySection, ...], BeforeValidator(_tuple)] = ()
    manager: Annotated[tuple[ManagerSection, ...], BeforeValidator(_tuple)] = ()

    @model_validator(mode="after")
    def _pgp_needs_keyring(self) -> Config:
        if not self.gateway.gnupg_home and any(a.security == "pgp" for a in self.agency):
            raise ValueError('an agency with security = "pgp" needs gateway.gnupg_home')
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
