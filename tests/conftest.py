"""Fixtures that start real servers on loopback: Dovecot, a recording SMTP server, PostgreSQL."""

from __future__ import annotations

import os
import ssl
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import trustme
from gateway_dev.localworld.dovecot import Dovecot
from gateway_dev.localworld.smtpsink import RecordingSmtp
from sqlalchemy import create_engine, text

from gateway.clock import FrozenClock
from gateway.config import Config, load_config
from gateway.store.db import Database

DATA = Path(__file__).parent / "data"
USERS = {"mash": "mash-secret", "police": "police-secret"}
IN_CI = os.environ.get("CI") == "true"


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="session")
def server_cert(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    cert = ca.issue_cert("127.0.0.1", "localhost")
    folder = Path(tmp_path_factory.mktemp("tls"))
    folder.chmod(0o755)
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert.private_key_and_cert_chain_pem.write_to_path(str(key_file))
    cert.cert_chain_pems[0].write_to_path(str(cert_file))
    cert_file.chmod(0o644)
    key_file.chmod(0o644)
    return cert_file, key_file


@pytest.fixture(scope="session")
def ca_file(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = Path(tmp_path_factory.mktemp("ca")) / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    server = Dovecot(users=dict(USERS))
    server.start()
    yield server
    server.cleanup()


@pytest.fixture
def dovecot_tls(server_cert: tuple[Path, Path]) -> Iterator[Dovecot]:
    server = Dovecot(users=dict(USERS), tls_cert=server_cert[0], tls_key=server_cert[1])
    server.start()
    yield server
    server.cleanup()


@pytest.fixture
def smtp_sink() -> Iterator[RecordingSmtp]:
    sink = RecordingSmtp().start()
    yield sink
    sink.stop()


@pytest.fixture
def smtp_tls_sink(ca: trustme.CA) -> Iterator[RecordingSmtp]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    sink = RecordingSmtp(tls_context=context, require_starttls=True).start()
    yield sink
    sink.stop()


def _postgres_url() -> str | None:
    return os.environ.get("MASH_TEST_POSTGRES_URL")


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    base = _postgres_url()
    if base is None:
        if IN_CI:
            pytest.fail("MASH_TEST_POSTGRES_URL is not set in CI: PostgreSQL tests must run")
        pytest.skip("MASH_TEST_POSTGRES_URL not set")
    name = f"mash_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name},
            )
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each test using this runs on SQLite and, where configured, PostgreSQL (migrated)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'gateway.db'}"
        return
    with postgres_database() as url:
        database = Database(url)
        database.upgrade()
        database.dispose()
        yield url


@pytest.fixture
def fresh_postgres_url() -> Iterator[str]:
    with postgres_database() as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'gateway.db'}"


TEST_FRONT_DOOR = (
    "[front_door]\nprofessional_domains = ["
    '"stjohns-school.example", "*.police.example", "met.example", "nhs.example", '
    '"probation.example", "hackney.example"]\n'
)


def write_config(
    path: Path,
    *,
    db_url: str,
    dovecot: Dovecot | None,
    smtp: RecordingSmtp | None,
    extra: str = "",
    mailbox_extra: str = "",
    smtp_block: str | None = None,
    # Digests have their own tests; elsewhere they would add mail the test did not ask for.
    digest_block: str = "[digest]\ntimes = []\n[meeting]\nenabled = false\n",
    gateway_extra: str = "",
    # The tests' professionals write from .example domains, not the real defaults'.
    front_door_block: str = TEST_FRONT_DOOR,
) -> Path:
    os.environ["MASH_TEST_MASH_PASSWORD"] = USERS["mash"]
    os.environ["MASH_TEST_POLICE_PASSWORD"] = USERS["police"]
    parts = [
        "[gateway]",
        f'database = "{db_url}"',
        'mash_address = "mash@hackney.example"',
        f'state_dir = "{path.parent / "state"}"',
        gateway_extra,
        "",
        smtp_block
        if smtp_block is not None
        else f'[smtp]\nhost = "127.0.0.1"\nport = {smtp.port if smtp else 25}\ntls = "none"\n'
        'timeout = "10 seconds"\n',
        "[[manager]]",
        'name = "Duty Manager"',
        'address = "duty.manager@hackney.example"',
        "",
        digest_block,
        front_door_block,
    ]
    if dovecot is not None:
        parts += [
            "[[mailbox]]",
            'name = "front-door"',
            'role = "front-door"',
            'host = "127.0.0.1"',
            f"port = {dovecot.port}",
            'tls = "none"',
            'username = "mash"',
            ""
            if "[mailbox.oauth2]" in mailbox_extra
            else 'password_env = "MASH_TEST_MASH_PASSWORD"',
            'socket_timeout = "10 seconds"',
            'reconnect_cap = "2 seconds"',
            mailbox_extra,
            "",
        ]
    parts.append(extra)
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


@pytest.fixture
def make_config(tmp_path: Path) -> Callable[..., tuple[Config, Path]]:
    def make(**kwargs: Any) -> tuple[Config, Path]:
        path = write_config(tmp_path / "mailboxes.toml", **kwargs)
        return load_config(path), path

    return make


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 3, 2, 10, 0, tzinfo=UTC))
