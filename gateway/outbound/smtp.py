"""Deliver outbox rows over SMTP: TLS required and verified, 4xx retried, 5xx failed."""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from gateway.config import SmtpSection

log = logging.getLogger(__name__)

Outcome = Literal["sent", "retry", "failed"]


@dataclass(frozen=True)
class Delivery:
    outcome: Outcome
    detail: str
    refused: dict[str, tuple[int, str]] | None = None


class TlsUnavailable(Exception):
    """The server offered no STARTTLS: we never fall back to plain text."""


def tls_context(ca_file: str | None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=ca_file)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def connect_smtp(settings: SmtpSection, password: str | None) -> smtplib.SMTP:
    timeout = settings.timeout.total_seconds()
    port = settings.effective_port
    client: smtplib.SMTP
    if settings.tls == "implicit":
        client = smtplib.SMTP_SSL(
            settings.host, port, timeout=timeout, context=tls_context(settings.ca_file)
        )
        client.ehlo()
    else:
        client = smtplib.SMTP(settings.host, port, timeout=timeout)
        client.ehlo()
        if settings.tls == "starttls":
            if not client.has_extn("starttls"):
                client.close()
                raise TlsUnavailable(f"{settings.host}:{port} does not offer STARTTLS")
            client.starttls(context=tls_context(settings.ca_file))
            client.ehlo()
    if settings.username and password is not None:
        client.login(settings.username, password)
    return client


SmtpConnector = Callable[[SmtpSection, str | None], smtplib.SMTP]


class SmtpTransport:
    """One connection reused across a flush; reconnects after any failure."""

    def __init__(
        self,
        settings: SmtpSection,
        password: Callable[[], str | None],
        connect: SmtpConnector = connect_smtp,
    ) -> None:
        self.settings = settings
        self._password = password
        self._connect = connect
        self._client: smtplib.SMTP | None = None

    def send(self, envelope_from: str, recipients: list[str], raw: bytes) -> Delivery:
        try:
            if self._client is None:
                self._client = self._connect(self.settings, self._password())
            refused = self._client.sendmail(envelope_from, recipients, raw)
        except smtplib.SMTPRecipientsRefused as exc:
            self.close()
            codes = {r: (int(code), _text(msg)) for r, (code, msg) in exc.recipients.items()}
            if all(code >= 500 for code, _ in codes.values()):
                return Delivery("failed", _summary(codes), codes)
            return Delivery("retry", _summary(codes), codes)
        except smtplib.SMTPResponseException as exc:
            self.close()
            detail = f"{exc.smtp_code} {_text(exc.smtp_error)}"
            if 500 <= exc.smtp_code < 600:
                return Delivery("failed", detail)
            return Delivery("retry", detail)
        except (smtplib.SMTPException, OSError, TlsUnavailable) as exc:
            # Includes certificate failures: retried, never downgraded to plain text.
            self.close()
            return Delivery("retry", f"{type(exc).__name__}: {exc}")
        if refused:
            codes = {r: (int(code), _text(msg)) for r, (code, msg) in refused.items()}
            return Delivery("sent", "some recipients refused: " + _summary(codes), codes)
        return Delivery("sent", "250 accepted")

    def close(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _summary(codes: dict[str, tuple[int, str]]) -> str:
    return "; ".join(f"{r}: {code} {msg}" for r, (code, msg) in codes.items())[:1000]
