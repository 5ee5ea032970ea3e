"""The demo's IMAP server (pymap, in process, nothing installed) works with the real watcher:
IDLE, MOVE and UIDPLUS as the gateway uses them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import USERS
from gateway_dev.localworld.pymap_server import PymapServer
from gateway_dev.localworld.smtpsink import RecordingSmtp
from harness import Running, wait_until
from helpers import auto_reply, plain_message

from gateway.clock import SystemClock
from gateway.config import Config
from gateway.daemon import Daemon

MakeConfig = Callable[..., tuple[Config, Path]]


@pytest.fixture
def pymap_server() -> Iterator[PymapServer]:
    server = PymapServer(dict(USERS))
    server.start()
    yield server
    server.stop()


def test_the_watcher_ingests_and_files_mail_on_pymap(
    pymap_server: PymapServer, smtp_sink: RecordingSmtp, make_config: MakeConfig, sqlite_url: str
) -> None:
    cfg, _ = make_config(db_url=sqlite_url, dovecot=pymap_server, smtp=smtp_sink)
    daemon = Daemon(cfg, SystemClock())
    pymap_server.append("mash", auto_reply(1))
    with Running(daemon):
        # Caught up on connect, then delivered while the watcher IDLEs.
        wait_until(
            lambda: pymap_server.count("mash", "Processed") == 1,
            timeout=30,
            what="the first message filed",
        )
        pymap_server.append("mash", plain_message(2, subject="garbage follows"))
        pymap_server.append("mash", b"\x00\x01 not an email\r\n")
        wait_until(lambda: pymap_server.count("mash") == 0, timeout=30, what="INBOX emptied")
    assert pymap_server.count("mash", "Processed") + pymap_server.count("mash", "Quarantine") == 3
    assert pymap_server.count("mash", "Quarantine") >= 1
