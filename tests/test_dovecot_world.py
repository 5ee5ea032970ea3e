"""The tests' Dovecot can be stopped the moment it has started: its master listens before it
writes its pid file, and a stop that raced that once left the port open (a CI failure)."""

from __future__ import annotations

import socket

from conftest import USERS
from gateway_dev.localworld.dovecot import Dovecot


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def test_a_stop_straight_after_start_closes_the_port() -> None:
    for _ in range(10):
        server = Dovecot(users=dict(USERS))
        server.start()
        assert (server.root / "run" / "master.pid").exists()
        server.stop()
        assert not _port_open(server.port)
        server.cleanup()
