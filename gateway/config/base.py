"""What every configuration section shares: strict validation, typed values, secrets."""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
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
                raise ConfigError(
                    [
                        f"{what}: environment variable {self.env} is not set; set it in the "
                        "environment this command runs in (never in the file)"
                    ]
                )
            return value
        if self.file:
            try:
                return Path(self.file).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError(
                    [
                        f"{what}: cannot read {self.file}: {exc.strerror}; check the path and "
                        "that this user may read it"
                    ]
                ) from exc
        raise ConfigError([f"{what}: no secret configured"])


