"""`mash-gateway check`: try every connection; one clear line per problem, with the fix."""

from __future__ import annotations

import smtplib
import ssl
from pathlib import Path

from imapclient.exceptions import LoginError
from sqlalchemy import text

from gateway.clock import Clock
from gateway.config import Config, ConfigError
from gateway.crypto.keyring import CryptoError, key_problems, keyring_from_config
from gateway.domain.sharing import agreement_problems
from gateway.inbound.imap_connection import close_quietly, connect_imap
from gateway.outbound.smtp import TlsUnavailable, connect_smtp
from gateway.store.db import Database
from gateway.timescales import BusinessCalendar


def _explain(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"certificate not trusted ({exc.verify_message}); set ca_file for a private CA"
    if isinstance(exc, LoginError):
        return "login refused; check username and the password or token"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused; check host and port, and that the server is running"
    if isinstance(exc, TimeoutError):
        return "timed out; check host, port and firewall"
    if isinstance(exc, TlsUnavailable):
        return f'{exc}; use tls = "implicit" or a server that offers STARTTLS'
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return "SMTP login refused; check username and password"
    if isinstance(exc, ConfigError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def run_checks(config: Config, clock: Clock) -> list[str]:
    problems: list[str] = []
    state_dir = Path(config.gateway.state_dir)
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
        probe = state_dir / ".write-test"
        probe.write_text("ok", encoding="utf-8")
        probe.unlink()
    except OSError as exc:
        problems.append(f"gateway.state_dir {state_dir}: not writable ({exc.strerror})")
    db = Database(config.gateway.database, read_only=True)
    try:
        # A missing SQLite file is no problem (the first run makes it) and is not made here.
        if db.missing_file() is None:
            with db.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        problems.append(
            f"gateway.database: cannot connect ({type(exc).__name__}); "
            "check the URL and that the server is running"
        )
    finally:
        db.dispose()
    for box in config.mailbox:
        where = f"mailbox {box.name} ({box.host}:{box.effective_port})"
        try:
            client = connect_imap(box, config, clock)
        except Exception as exc:  # noqa: BLE001
            problems.append(f"{where}: {_explain(exc)}")
            continue
        try:
            client.select_folder(box.folder, readonly=True)
        except Exception as exc:  # noqa: BLE001
            problems.append(f"{where}: folder {box.folder!r} cannot be opened ({exc})")
        finally:
            close_quietly(client)
    smtp = config.smtp
    try:
        password = smtp.password.resolve("smtp") if smtp.username else None
        client = connect_smtp(smtp, password)
        client.noop()
        client.quit()
    except Exception as exc:  # noqa: BLE001
        problems.append(f"smtp ({smtp.host}:{smtp.effective_port}): {_explain(exc)}")
    if not config.manager:
        problems.append("no [[manager]] configured: alerts would reach nobody; add one")
    problems.extend(_key_problems(config, clock))
    today = clock.now().astimezone(BusinessCalendar.from_config(config).zone).date()
    problems.extend(agreement_problems(config, today))
    return problems


def _key_problems(config: Config, clock: Clock) -> list[str]:
    if not config.gateway.gnupg_home:
        return []
    try:
        keyring = keyring_from_config(config, create=False)
    except (CryptoError, ConfigError) as exc:
        return [f"gateway.gnupg_home: {exc}"]
    assert keyring is not None
    return [
        f"{p.owner}'s key {p.fingerprint} {p.problem}; "
        + (
            "import a current key with `mash-gateway keys import FILE` and pin its fingerprint"
            if p.serious
            else "ask for a renewed key before then"
        )
        for p in key_problems(config, keyring, clock.now())
    ]
