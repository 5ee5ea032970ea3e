"""The SMTP/LMTP listener: 250 only after commit, 451 for our failures, 552 for oversize."""

from __future__ import annotations

import smtplib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from gateway_dev.localworld.ports import free_port
from helpers import plain_message
from sqlalchemy import func, select, text

from gateway.clock import FrozenClock
from gateway.config import Config
from gateway.inbound.smtp import start_listener
from gateway.store.db import Database
from gateway.store.models import Message, MessageSource

MakeConfig = Callable[..., tuple[Config, Path]]


@pytest.fixture(params=["smtp", "lmtp"])
def listening(
    request: pytest.FixtureRequest, db_url: str, make_config: MakeConfig, clock: FrozenClock
) -> Iterator[tuple[Config, Database, Controller]]:
    port = free_port()
    extra = (
        f'[listener]\nenabled = true\nprotocol = "{request.param}"\nport = {port}\n'
        "[limits]\nmax_message_bytes = 65536\n"
    )
    config, _ = make_config(db_url=db_url, dovecot=None, smtp=None, extra=extra)
    db = Database(db_url)
    db.upgrade()
    controller = start_listener(config, db, clock, lambda: None)
    yield config, db, controller
    controller.stop()
    db.dispose()


def _client(config: Config) -> smtplib.SMTP:
    if config.listener.protocol == "lmtp":
        return smtplib.LMTP("127.0.0.1", config.listener.port)
    return smtplib.SMTP("127.0.0.1", config.listener.port)


def _stored(db: Database) -> int:
    with db.transaction() as session:
        return session.execute(select(func.count()).select_from(Message)).scalar_one()


def test_250_only_after_commit(listening: tuple[Config, Database, Controller]) -> None:
    config, db, _ = listening
    with _client(config) as client:
        refused = client.sendmail("ref@school.example", ["mash@hackney.example"], plain_message(1))
        assert refused == {}
        # The answer came back: the row must already be committed and visible.
        assert _stored(db) == 1
        client.sendmail("ref@school.example", ["mash@hackney.example"], plain_message(1))
    assert _stored(db) == 1, "a retransmission is deduplicated by content hash"
    with db.transaction() as session:
        sources = session.execute(select(MessageSource.channel)).scalars().all()
    assert sources == [config.listener.protocol] * 2


def test_oversize_552(listening: tuple[Config, Database, Controller]) -> None:
    config, db, _ = listening
    big = plain_message(2, size=200_000)
    with _client(config) as client, pytest.raises(smtplib.SMTPSenderRefused) as info:
        client.sendmail("ref@school.example", ["mash@hackney.example"], big)
    assert info.value.smtp_code == 552  # refused at MAIL FROM by the declared SIZE
    with _client(config) as client:
        # A client that declares no SIZE is refused after the data instead.
        client.ehlo_or_helo_if_needed()
        assert client.mail("ref@school.example")[0] == 250
        assert client.rcpt("mash@hackney.example")[0] == 250
        code, _msg = client.data(big)
        assert code == 552
    assert _stored(db) == 0


def test_our_failure_is_451(listening: tuple[Config, Database, Controller]) -> None:
    config, db, _ = listening
    with db.engine.begin() as conn:
        conn.execute(text("DROP TABLE message_sources"))
    refusals = (smtplib.SMTPDataError, smtplib.SMTPRecipientsRefused)
    with _client(config) as client, pytest.raises(refusals) as info:
        client.sendmail("ref@school.example", ["mash@hackney.example"], plain_message(3))
    code = getattr(info.value, "smtp_code", None)
    if code is None:  # LMTP reports per recipient
        code = next(iter(info.value.recipients.values()))[0]  # type: ignore[attr-defined]
    assert code == 451
