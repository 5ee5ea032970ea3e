"""Configuration of mail: the gateway, SMTP, the listener, mailboxes, agencies, managers."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    model_validator,
)

from gateway.config.base import (
    Duration,
    EmailAddress,
    EnvName,
    Fingerprint,
    Port,
    Secret,
    _address_or_domain_pattern,
    _is_loopback,
    _Section,
    _timezone,
    _tuple,
)


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
    # How long work held by an instance that stopped answering (a mailbox, a message, an
    # outbox row) waits before another instance takes it over.
    takeover_after: Duration = timedelta(seconds=60)
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
    # The London MASH data-sharing agreement: the date the agency confirmed it (no case
    # information is shared with an agency without it), its reference, its next review.
    dsa_signed: date | None = None
    dsa_reference: StrictStr | None = None
    dsa_review: date | None = None

    @model_validator(mode="after")
    def _pgp_needs_key(self) -> AgencySection:
        if self.security == "pgp" and self.key is None:
            raise ValueError('security = "pgp" needs the agency\'s key fingerprint in key')
        return self




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
    # Authenticates the manager's command emails: only mail signed with this key counts.
    # Without a key, our boundary's dmarc=pass (gateway.authserv_id) does.
    key: Fingerprint | None = None
    # The operating-system login name that acts as this manager when a command has no --by.
    os_user: Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9._-]{1,64}$")] | None = None
